// `pliant gradcheck` (engine/diff/scene_gradcheck.*) on two tiny 2D scenes:
//  * an elastic block at rest on a frictional floor: smooth, every row must
//    pass.  Its floor nodes press straight in with zero tangential speed, the
//    case whose wall adjoint once took the slip branch (initial velocities
//    were off by 7e-3 here, sand_pile_3d by 1e-3);
//  * the same block without gravity: the floor nodes have v = 0 exactly, on
//    the boundary between "leaving" and "stuck", so the loss has a kink AT
//    the base point.  The central differences at h and h/2 agree there, so
//    only the one-sided check can tell it from a wrong adjoint: the row must
//    be reported as a kink with the base-point note, not as a failure.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/diff/scene_gradcheck.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl {
namespace {

namespace fs = std::filesystem;

std::string block_scene(double gravity) {
  return "version: 1\n"
         "description: elastic block at rest on a frictional floor (2D)\n"
         "simulation:\n"
         "  dim: 2\n"
         "  dt: 5.0e-4\n"
         "  substeps_per_frame: 10\n"
         "  frames: 1\n"
         "  dx: 0.03125\n"
         "  domain: {origin: [0, 0], size: [0.5, 0.5]}\n"
         "  gravity: [0, " + std::to_string(gravity) + "]\n"
         "  walls:\n"
         "    all: {type: separate, friction: 0.5}\n"
         "materials:\n"
         "  jelly: {model: stvk_hencky, density: 1000, E: 2.0e4, nu: 0.3}\n"
         "bodies:\n"
         "  block:\n"
         "    material: jelly\n"
         "    shape: {type: box, lower: [0.15, 0.1], upper: [0.35, 0.2]}\n"
         "    particles_per_cell: 4\n"
         "output:\n"
         "  dir: out/gradcheck_block\n";
}

GradcheckReport check(const std::string& name, const std::string& yaml) {
  const fs::path file = fs::path(::testing::TempDir()) / name;
  std::ofstream(file) << yaml;
  GradcheckOptions o;
  o.steps = 10;
  return gradcheck_scene(scene::load_scene(file.string()), o);
}

const GradcheckRow& row(const GradcheckReport& r, const std::string& prefix) {
  for (const auto& x : r.rows)
    if (x.quantity.rfind(prefix, 0) == 0) return x;
  throw std::runtime_error("no row " + prefix);
}

TEST(Gradcheck, BlockAtRestOnAFrictionalFloorPassesEveryRow) {
  const GradcheckReport r = check("gradcheck_block.yaml", block_scene(-9.81));
  EXPECT_TRUE(r.passed()) << r.table();
  for (const auto& x : r.rows) EXPECT_EQ(x.status, "ok") << x.quantity << "\n" << r.table();
  const GradcheckRow& v = row(r, "initial velocities");
  EXPECT_LE(v.rel_error, 1e-6) << r.table();
  EXPECT_NE(v.adjoint, 0.0);
}

TEST(Gradcheck, KinkAtTheBasePointIsReportedAsAKinkNotAFailure) {
  const GradcheckReport r = check("gradcheck_block_no_gravity.yaml", block_scene(0.0));
  const GradcheckRow& v = row(r, "initial velocities");
  EXPECT_EQ(v.status, "kink") << r.table();
  EXPECT_NE(v.note.find("base point"), std::string::npos) << v.note;
  // The one-sided slopes differ by much more than the tolerance (the kink is real).
  EXPECT_GT(std::abs(v.one_sided_forward - v.one_sided_backward), 1e-3 * std::abs(v.finite_difference));
  // Perturbing positions keeps every velocity 0: smooth, and it must pass.
  EXPECT_EQ(row(r, "initial positions").status, "ok") << r.table();
  EXPECT_TRUE(r.passed()) << r.table();
  EXPECT_NE(r.table().find("notes:"), std::string::npos);
}

}  // namespace
}  // namespace pl
