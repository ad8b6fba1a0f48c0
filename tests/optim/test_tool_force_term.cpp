// Objective term tool_force (issue 6): the mean squared reaction force of a
// tool.  Its gradient with respect to the reactions against central
// differences, and dL/du of a whole evaluate() on a small tool scene (the
// reaction adjoint through the rollout) against central differences of
// evaluate() itself, in double; the loader's errors name the key.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/coupling/tool.hpp"
#include "engine/optim/evaluate.hpp"
#include "engine/optim/objective_terms.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::optim {
namespace {

// A jelly block thrown at a soft-contact paddle that also moves; the
// controls change how hard the block hits it.
const char* kScene = R"(version: 1
simulation:
  dim: 2
  precision: double
  dt: 2.0e-3
  substeps_per_frame: 4
  frames: 5
  dx: 0.0625
  domain: {size: 1}
  gravity: [0, -9.81]
materials:
  jelly: {model: fixed_corotated, density: 1000, E: 2000, nu: 0.3}
bodies:
  block: {material: jelly, shape: {type: box, lower: [0.3, 0.4], upper: [0.45, 0.55]}, particles_per_cell: 4}
tools:
  paddle:
    shape: {type: box, half_extents: [0.05, 0.12]}
    position: [0.56, 0.47]
    rotation_deg: 10
    contact: {mode: soft, friction: 0.3, stiffness: 2.0e4, softness: 0.02, smoothing: 0.05}
    motion:
      type: velocity
      segments:
        - {until: 0.04, linear: [-0.5, 0.1], angular: 1.0}
controls:
  v0: {kind: initial_velocity, body: block, init: [1.2, 0.2], lower: [-1, -1], upper: [2, 2]}
  stiffness: {kind: material, material: jelly, parameter: E, init: 2500, lower: 1000, upper: 8000, log: true}
objective:
  gentle: {type: tool_force, tool: paddle, weight: 1.0e-3}
  reach: {type: com, body: block, target: [0.6, 0.5]}
optimizer: {method: adam, iterations: 5}
output: {dir: out/test}
)";

TEST(ToolForceTerm, GradientMatchesFiniteDifferences) {
  auto scene = scene::parse_scene(kScene, "tool_force_test.yaml");
  scene::ObjectiveTermDesc d = scene.optimization.objective.at(0);
  ASSERT_EQ(d.type, "tool_force");
  d.frames = {2, 4};  // substeps 4..7 and 12..15
  const ControlLayout layout(scene.optimization.controls);
  const auto term = make_term(d, scene, layout);
  EXPECT_EQ(term->reaction_tool(), 0);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-3, 3);
  std::vector<ToolReaction> r(20);
  for (auto& x : r)
    for (int a = 0; a < 3; ++a) x.force[a] = u(rng), x.torque[a] = u(rng);
  std::vector<ToolReaction> g;
  double metric = 0;
  const double v = term->reaction_value(r, &g, &metric);
  EXPECT_NEAR(metric, std::sqrt(v), 1e-12);
  ASSERT_EQ(g.size(), r.size());
  for (std::size_t n = 0; n < r.size(); ++n)
    for (int a = 0; a < 3; ++a) {
      const double h = 1e-6;
      auto up = r, down = r;
      up[n].force[a] += h, down[n].force[a] -= h;
      const double fd = (term->reaction_value(up, nullptr, nullptr) - term->reaction_value(down, nullptr, nullptr)) / (2 * h);
      EXPECT_NEAR(g[n].force[a], fd, 1e-8) << "substep " << n << " axis " << a;
      EXPECT_EQ(g[n].torque[a], 0.0);
      const bool read = (n >= 4 && n < 8) || (n >= 12 && n < 16);
      if (!read) EXPECT_EQ(g[n].force[a], 0.0) << "substep " << n << " is outside the term's frames";
    }
}

/// dL/du of `e` (at u) against central differences of problem.evaluate, entry by
/// entry; each entry must move the loss (else the check would be empty).
void expect_gradient_matches_fd(const Problem& problem, const std::vector<double>& u, const Evaluation& e, double floor) {
  ASSERT_EQ(e.gradient.size(), u.size());
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double h = 1e-6;
    auto up = u, down = u;
    up[i] += h, down[i] -= h;
    const double fd = (problem.evaluate(up, 0, false).loss - problem.evaluate(down, 0, false).loss) / (2 * h);
    EXPECT_GT(std::fabs(fd), 1e-8) << problem.layout().entry_name(int(i)) << " does not move the loss";
    EXPECT_NEAR(e.gradient[i], fd, 1e-6 * std::max(floor, std::fabs(fd)))
        << problem.layout().entry_name(int(i)) << ": adjoint " << e.gradient[i] << ", FD " << fd;
  }
}

TEST(ToolForceTerm, EvaluateGradientMatchesFiniteDifferences) {
  const auto scene = scene::parse_scene(kScene, "tool_force_test.yaml");
  const int before = cpu_threads();
  set_cpu_threads(1);
  const Problem problem(scene);
  std::vector<double> u = problem.layout().initial_unit();
  const Evaluation e = problem.evaluate(u, 0, true);
  ASSERT_TRUE(e.ok) << e.error;
  EXPECT_GT(e.metrics.at("gentle.rms_force_N"), 1.0) << "the block does not hit the paddle: the check is empty";
  EXPECT_NEAR(e.metrics.at("loss.gentle") + e.metrics.at("loss.reach"), e.loss, 1e-12);
  expect_gradient_matches_fd(problem, u, e, 1.0);
  // The tool_force term alone moves the gradient (so the reaction path is exercised).
  std::string only_force = kScene;
  only_force.replace(only_force.find("  reach:"), std::string("  reach: {type: com, body: block, target: [0.6, 0.5]}\n").size(), "");
  const Problem force_problem(scene::parse_scene(only_force, "tool_force_only.yaml"));
  const Evaluation f = force_problem.evaluate(u, 0, true);
  ASSERT_TRUE(f.ok) << f.error;
  expect_gradient_matches_fd(force_problem, u, f, 1e-3);
  set_cpu_threads(before);
}

TEST(ToolForceTerm, UnknownToolNamesTheKey) {
  std::string bad = kScene;
  bad.replace(bad.find("tool: paddle"), 12, "tool: padle");
  try {
    scene::parse_scene(bad, "bad_tool_force.yaml");
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("objective.gentle.tool"), std::string::npos) << m;
    EXPECT_NE(m.find("paddle"), std::string::npos) << m;  // the suggestion / the list of tools
  }
}

}  // namespace
}  // namespace pl::optim
