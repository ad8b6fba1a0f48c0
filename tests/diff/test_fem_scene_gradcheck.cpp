// `pliant gradcheck` on FEM scenes with a tool and on coupled MPM + FEM scenes
// (issue 6, engine/diff/fem_scene_gradcheck.hpp, coupled_scene_gradcheck.hpp):
// the rows pass on the fixtures, the contact is active within the checked
// steps (the contact rows are nonzero), and the row classifier fails a wrong
// adjoint and marks a kink.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/diff/fem_scene_gradcheck.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl {
namespace {

const GradcheckRow* find_row(const GradcheckReport& r, const std::string& quantity) {
  for (const auto& row : r.rows)
    if (row.quantity == quantity) return &row;
  return nullptr;
}

/// The report passes, and each named row is "ok" with a nonzero adjoint: the
/// contact is active within the checked steps, so the row is not trivial.
void expect_passing_nontrivial_rows(const GradcheckReport& r, const std::vector<std::string>& quantities) {
  EXPECT_TRUE(r.passed()) << r.table();
  for (const auto& q : quantities) {
    const GradcheckRow* row = find_row(r, q);
    ASSERT_NE(row, nullptr) << q << "\n" << r.table();
    EXPECT_EQ(row->status, "ok") << r.table();
    EXPECT_GT(std::abs(row->adjoint), 1e-6) << q;
  }
}

/// `pliant gradcheck FIXTURE --steps N` on a fixture under tests/coupling/.
GradcheckReport check_fixture(const std::string& file, int steps) {
  GradcheckOptions o;
  o.steps = steps;
  return gradcheck_scene(scene::load_scene(std::string(PLIANT_SOURCE_DIR) + "/tests/coupling/" + file), o);
}

TEST(FemSceneGradcheck, ToolPressRowsPassWithTheToolInContact) {
  const GradcheckReport r = check_fixture("gradcheck_fem_tool_press.yaml", 2);  // gradcheck_fem_scene
  expect_passing_nontrivial_rows(r, {"tool 'plate' stiffness (relative)", "tool 'plate' friction",
                                     "tool 'plate' velocity actions, linear (random direction)", "FEM tets 'block' E"});
}

TEST(FemSceneGradcheck, ToolWaypointRowsPass) {
  const GradcheckReport r = check_fixture("gradcheck_fem_tool_waypoints.yaml", 3);
  expect_passing_nontrivial_rows(r, {"tool 'plate' waypoint positions (random direction)",
                                     "tool 'plate' waypoint rotations (random direction, rad)"});
}

TEST(FemSceneGradcheck, CoupledPadRowsPassWithContact) {
  const GradcheckReport r = check_fixture("gradcheck_coupled_pad.yaml", 3);  // gradcheck_coupled_scene
  expect_passing_nontrivial_rows(r, {"coupling stiffness (relative)", "coupling friction",
                                     "MPM initial velocities (random direction)",
                                     "FEM prescribed trajectory (random direction)"});
}

TEST(FemSceneGradcheck, RowClassifierFailsAWrongAdjointAndMarksKinks) {
  // Smooth L(t) = sin(t + 0.3): the exact derivative passes, 1% off fails.
  const auto smooth = [](double t) { return std::sin(t + 0.3); };
  EXPECT_EQ(gradcheck_row("exact", std::cos(0.3), smooth(0), smooth, 1e-4, 1e-6, FdEstimate::Richardson).status, "ok");
  const GradcheckRow wrong = gradcheck_row("wrong", 1.01 * std::cos(0.3), smooth(0), smooth, 1e-4, 1e-6, FdEstimate::Richardson);
  EXPECT_EQ(wrong.status, "FAIL");
  EXPECT_NE(wrong.note.find("finite differences agree"), std::string::npos) << wrong.note;
  // L(t) = |t| + t: a slope jump at the base point (one-sided slopes 2 and 0).
  const auto kinked = [](double t) { return std::abs(t) + t; };
  EXPECT_EQ(gradcheck_row("kink", 2.0, kinked(0), kinked, 1e-4, 1e-6, FdEstimate::Richardson).status, "kink");
}

}  // namespace
}  // namespace pl
