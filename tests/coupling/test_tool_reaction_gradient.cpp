// A loss on the tool reactions (force and torque per substep, the tactile
// signal) is differentiable: its adjoint (kernels/coupling/grid_tool_collision.hpp,
// adj_apply_tools with seeds, via RolloutOptions::reaction_gradient) is checked
// against central differences of a short rollout in double, with respect to
// the tool's actions, initial pose, friction and stiffness and to the
// material's initial velocity and density (the node masses in I = m dv).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/coupling/tool_rollout_fixture.hpp"

namespace pl {
namespace {

using test::central_difference;
using test::run_tool_rollout;
using test::ToolRolloutCase;

void expect_close(double adjoint, double fd, const std::string& what, double tol = 1e-6) {
  const double err = std::abs(adjoint - fd) / std::max(1e-6, std::abs(fd));
  EXPECT_LT(err, tol) << what << ": adjoint " << adjoint << ", finite difference " << fd;
}

template <int D>
ToolSpec<D> pushing_tool(ContactMode mode, int steps) {
  ToolSpec<D> spec;
  spec.name = "pusher";
  spec.shape = D == 3 ? ToolShape::Capsule : ToolShape::Box;
  spec.radius = 0.06;
  spec.half_height = 0.1;
  for (int a = 0; a < D; ++a) spec.half_extents[a] = 0.06 + 0.02 * a;
  spec.mode = mode;
  spec.friction = 0.3;
  spec.stiffness = 2e4;
  spec.softness = 0.01;
  spec.smoothing = 0.05;
  for (int a = 0; a < D; ++a) spec.position[a] = 0.5;
  spec.position[0] = 0.31;
  spec.rotation_deg = {20, 10, 30};
  spec.motion = ToolMotion::Velocity;
  spec.actions.assign(std::size_t(steps), ToolAction<D>{});
  for (int n = 0; n < steps; ++n) {
    spec.actions[std::size_t(n)].linear[0] = 1.5 + 0.1 * std::sin(n);
    spec.actions[std::size_t(n)].linear[1] = 0.3 * std::cos(n);
    for (int a = 0; a < kAngularDim<D>; ++a) spec.actions[std::size_t(n)].angular[std::size_t(a)] = 2.0 - a;
  }
  return spec;
}

template <int D>
void check_reaction_loss(ContactMode mode, bool with_state_loss) {
  const std::string tag = std::string(D == 2 ? "2D " : "3D ") + contact_mode_name(mode) + ": ";
  ToolRolloutCase<D> c;
  c.steps = D == 2 ? 10 : 6;
  c.reaction_weight = 1e-2;
  c.state_loss = with_state_loss;
  const ToolSpec<D> spec = pushing_tool<D>(mode, c.steps);
  const auto base = run_tool_rollout<D>(spec, c, true);
  const ToolGradients<D>& g = base.grad.tools.at(0);
  using Perturb = std::function<void(ToolSpec<D>&, ToolRolloutCase<D>&, double)>;
  auto check = [&](double adjoint, double h, const Perturb& p, const std::string& what) {
    expect_close(adjoint, central_difference<D>(spec, c, h, p), tag + what);
  };
  for (int n : {1, c.steps - 2})
    for (int a = 0; a < D; ++a)
      check(g.actions[std::size_t(n)].linear[std::size_t(a)], 1e-6,
            [&](ToolSpec<D>& s, ToolRolloutCase<D>&, double h) { s.actions[std::size_t(n)].linear[std::size_t(a)] += h; },
            "linear action " + std::to_string(n) + "." + std::to_string(a));
  check(g.actions[2].angular[0], 1e-4,  // small gradient: a larger step keeps round-off out
       
        [&](ToolSpec<D>& s, ToolRolloutCase<D>&, double h) { s.actions[2].angular[0] += h; }, "angular action 2");
  for (int a = 0; a < D; ++a)
    check(g.initial_position[std::size_t(a)], 1e-6,
          [&](ToolSpec<D>& s, ToolRolloutCase<D>&, double h) { s.position[std::size_t(a)] += h; },
          "initial position " + std::to_string(a));
  if (mode == ContactMode::Soft || mode == ContactMode::Friction)
    check(g.friction, 1e-6, [](ToolSpec<D>& s, ToolRolloutCase<D>&, double h) { s.friction += h; }, "friction");
  if (mode == ContactMode::Soft)
    check(g.stiffness, 1e-2, [](ToolSpec<D>& s, ToolRolloutCase<D>&, double h) { s.stiffness += h; }, "stiffness");
  // Material side: dL/dv_0 (summed over particles, x component) and dL/d(density scale).
  double dv = 0;
  for (const auto& v : base.grad.initial_state.v) dv += v[0];
  check(dv, 1e-6, [](ToolSpec<D>&, ToolRolloutCase<D>& k, double h) { k.initial_velocity += h; }, "initial velocity x");
  check(1000 * base.grad.density.at(0), 1e-6, [](ToolSpec<D>&, ToolRolloutCase<D>& k, double h) { k.density_scale += h; },
        "density");
}

TEST(ToolReactionGradient, SoftContact2D) { check_reaction_loss<2>(ContactMode::Soft, false); }
TEST(ToolReactionGradient, SoftContactWithStateLoss2D) { check_reaction_loss<2>(ContactMode::Soft, true); }
TEST(ToolReactionGradient, HardContact2D) {
  check_reaction_loss<2>(ContactMode::Sticky, false);
  check_reaction_loss<2>(ContactMode::Friction, false);
}
TEST(ToolReactionGradient, SoftContact3D) { check_reaction_loss<3>(ContactMode::Soft, false); }

TEST(ToolReactionGradient, LossOnReactionsIsNotZero) {
  // The reaction loss alone must depend on the tool: a zero gradient would pass
  // every comparison above trivially.
  ToolRolloutCase<2> c;
  c.steps = 10;
  c.reaction_weight = 1e-2;
  c.state_loss = false;
  const auto r = run_tool_rollout<2>(pushing_tool<2>(ContactMode::Soft, c.steps), c, true);
  EXPECT_GT(std::abs(r.loss), 1e-4);
  EXPECT_GT(std::abs(r.grad.tools.at(0).actions[2].linear[0]), 1e-4);
}

}  // namespace
}  // namespace pl
