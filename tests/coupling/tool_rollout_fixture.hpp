// A small differentiable tool scene for the gradient tests of
// test_tool_waypoint_rotation.cpp and test_tool_reaction_gradient.cpp: a jelly
// block without gravity, one tool, and a loss mixing
//   the final state    sum_p wx_p . (x_p - x0_p) + wv_p . v_p
//   the tool reaction  sum_n a_n . F_n + b_n . tau_n   (optional)
// with fixed random weights, so one backward pass exercises every path and a
// central difference of the same function checks it.
#pragma once

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "engine/diff/mpm_rollout.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {

template <int D>
struct ToolRolloutCase {
  int cells = D == 2 ? 16 : 10;
  double dt = 2e-3;
  int steps = 8;
  int checkpoints = 3;         // fewer than steps: the backward pass recomputes
  bool state_loss = true;
  double reaction_weight = 0;  // scale of the reaction weights a_n, b_n (0: no reaction term)
  double density_scale = 1;    // the jelly's density factor (a finite-difference handle on masses)
  double initial_velocity = 0;  // added to every particle's v[0] (a handle on the state adjoint)
};

template <int D>
struct ToolRolloutResult {
  double loss = 0;
  RolloutGradients<double, D> grad;
};

/// Runs the case with `spec` as the only tool; with `gradient`, also the backward pass.
template <int D>
ToolRolloutResult<D> run_tool_rollout(const ToolSpec<D>& spec, const ToolRolloutCase<D>& c, bool gradient) {
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, c.cells);
  s.dt = c.dt;
  for (int a = 0; a < D; ++a) s.walls[a][0] = s.walls[a][1] = {WallType::Slip, 0.0};
  MpmWorld<double, D> world(s, {material("fixed_corotated", {{"E", 3e3}, {"nu", 0.3}}, 1000 * c.density_scale, "jelly")});
  world.add_body("block", lattice_box<D>(filled<D>(0.4), filled<D>(0.6), s.dx, 2), 0, filled<D>(0.0),
                 std::pow(s.dx / 2, D));
  if (c.initial_velocity != 0) {
    auto p = world.particles();
    for (auto& v : p.v) v[0] += c.initial_velocity;
    world.set_particles(p);
  }
  world.add_tool(Tool<D>(spec, s.dt, "test"));

  const std::size_t n = world.num_particles();
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<Vec<double, D>> wx(n), wv(n);
  for (std::size_t i = 0; i < n; ++i)
    for (int a = 0; a < D; ++a) wx[i][a] = c.state_loss ? u(rng) : 0.0, wv[i][a] = c.state_loss ? 0.1 * u(rng) : 0.0;
  std::vector<ToolReaction> weights(std::size_t(c.steps));
  for (auto& w : weights)
    for (int a = 0; a < 3; ++a) w.force[a] = c.reaction_weight * u(rng), w.torque[a] = c.reaction_weight * u(rng);
  const std::vector<Vec<double, D>> x0 = world.particles().x;

  ToolRolloutResult<D> r;
  auto state_value = [&](const ParticleSet<double, D>& st) {
    double l = 0;
    for (std::size_t i = 0; i < n; ++i) l += dot(wx[i], st.x[i] - x0[i]) + dot(wv[i], st.v[i]);
    return l;
  };
  auto reaction_value = [&] {
    double l = 0;
    const auto& rec = world.tool_reactions()[0];
    for (int step = 0; step < c.steps; ++step)
      for (int a = 0; a < 3; ++a)
        l += weights[std::size_t(step)].force[a] * rec[std::size_t(step)].force[a] +
             weights[std::size_t(step)].torque[a] * rec[std::size_t(step)].torque[a];
    return l;
  };
  if (!gradient) {
    world.step(c.steps);
    r.loss = state_value(world.particles()) + reaction_value();
    return r;
  }
  RolloutOptions<double, D> opt;
  opt.steps = c.steps;
  opt.checkpoints = c.checkpoints;
  opt.on_state = [&](int, const ParticleSet<double, D>& st) { r.loss = state_value(st); };
  opt.loss_gradient = [&](int, const ParticleSet<double, D>&, ParticleAdjoint<double, D>& g) {
    for (std::size_t i = 0; i < n; ++i) g.x[i] += wx[i], g.v[i] += wv[i];
  };
  if (c.reaction_weight != 0)
    opt.reaction_gradient = [&](int step, int, ToolReaction& g) {
      for (int a = 0; a < 3; ++a)
        g.force[a] += weights[std::size_t(step)].force[a], g.torque[a] += weights[std::size_t(step)].torque[a];
    };
  MpmRollout<double, D> rollout(world, opt);
  rollout.forward();
  r.loss += reaction_value();
  r.grad = rollout.backward();
  return r;
}

/// Central difference of the case's loss under perturb(spec, case, +-h).
template <int D>
double central_difference(const ToolSpec<D>& spec, const ToolRolloutCase<D>& c, double h,
                          const std::function<void(ToolSpec<D>&, ToolRolloutCase<D>&, double)>& perturb) {
  ToolSpec<D> sp = spec, sm = spec;
  ToolRolloutCase<D> cp = c, cm = c;
  perturb(sp, cp, h);
  perturb(sm, cm, -h);
  return (run_tool_rollout<D>(sp, cp, false).loss - run_tool_rollout<D>(sm, cm, false).loss) / (2 * h);
}

}  // namespace pl::test
