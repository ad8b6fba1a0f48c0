// End-to-end gradient checks of the checkpointed rollout: the adjoint
// gradients of a loss over several frames agree with central finite
// differences in double precision, for the initial state, material
// parameters, density, wall friction and per-step forces; checkpoint budgets
// change memory and recomputation but not a single bit of the gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "engine/core/error.hpp"
#include "engine/diff/mpm_rollout.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

constexpr int kSteps = 24;

template <int D>
struct Scenario {
  std::string model = "weakly_compressible_fluid";
  std::map<std::string, double> params{{"bulk_modulus", 2e3}, {"gamma", 3}, {"viscosity", 0.5}};
  double density = 1000;
  double friction = 0.3;
  int checkpoints = 0;  // 0: default budget
};

/// A block thrown down and sideways onto a floor with Coulomb friction, in a small box.
template <int D>
MpmWorld<double, D> make_world(const Scenario<D>& sc) {
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, D == 2 ? 16 : 10);
  s.dt = 2e-3;
  s.gravity[1] = -9.8;
  for (int a = 0; a < D; ++a) s.walls[a][0] = s.walls[a][1] = {WallType::Slip, 0.0};
  s.walls[1][0] = {WallType::Separate, sc.friction};
  s.walls[0][1] = {WallType::Sticky, 0.0};
  MpmWorld<double, D> world(s, {material(sc.model, sc.params, sc.density, "stuff")});
  std::array<double, D> lo = filled<D>(0.35), hi = filled<D>(0.6);
  lo[1] = s.bound_cells * s.dx + 0.02;
  hi[1] = lo[1] + 0.2;
  std::array<double, D> v0 = filled<D>(0.0);
  v0[0] = 1.5;
  v0[1] = -1.0;
  world.add_body("block", lattice_box<D>(lo, hi, s.dx, 2), 0, v0, std::pow(s.dx / 2, D));
  return world;
}

/// Fixed random loss weights: L = sum over read steps of w_x . x + w_v . v + w_F : F.
template <int D>
struct Loss {
  std::vector<Vec<double, D>> wx, wv;
  std::vector<Mat<double, D>> wF;
  static bool reads(int step) { return step == kSteps || step == kSteps / 2; }
  explicit Loss(std::size_t n) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1, 1);
    wx.resize(n), wv.resize(n), wF.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < D; ++a) {
        wx[i][a] = u(rng);
        wv[i][a] = u(rng);
        for (int b = 0; b < D; ++b) wF[i](a, b) = u(rng);
      }
  }
  double value(const ParticleSet<double, D>& s) const {
    double l = 0;
    for (std::size_t i = 0; i < s.size(); ++i) l += dot(wx[i], s.x[i]) + dot(wv[i], s.v[i]) + ddot(wF[i], s.F[i]);
    return l;
  }
  void gradient(ParticleAdjoint<double, D>& g) const {
    for (std::size_t i = 0; i < g.x.size(); ++i) {
      g.x[i] += wx[i];
      g.v[i] += wv[i];
      g.F[i] += wF[i];
    }
  }
};

/// Per-step external force: a smooth push, scaled by `amplitude`.
template <int D>
void push(int step, double amplitude, std::vector<Vec<double, D>>& f) {
  for (std::size_t i = 0; i < f.size(); ++i) f[i][0] = amplitude * 1e-3 * std::sin(0.3 * step + 0.1 * double(i));
}

template <int D>
struct Result {
  double loss = 0;
  RolloutGradients<double, D> grad;
  std::vector<std::vector<Vec<double, D>>> force_grad;
  RolloutReport report;
};

/// Runs the rollout; `edit` perturbs the world (initial state) before it.
template <int D, class Edit>
Result<D> run(const Scenario<D>& sc, double force_amplitude, Edit edit, bool with_backward = true) {
  auto world = make_world<D>(sc);
  edit(world);
  const Loss<D> loss(world.num_particles());
  Result<D> r;
  r.force_grad.resize(kSteps);
  RolloutOptions<double, D> opt;
  opt.steps = kSteps;
  opt.checkpoints = sc.checkpoints;
  opt.loss_reads_step = [](int step) { return Loss<D>::reads(step); };
  opt.on_state = [&](int, const ParticleSet<double, D>& s) { r.loss += loss.value(s); };
  opt.loss_gradient = [&](int, const ParticleSet<double, D>&, ParticleAdjoint<double, D>& g) { loss.gradient(g); };
  opt.forces = [&](int step, std::vector<Vec<double, D>>& f) { push<D>(step, force_amplitude, f); };
  opt.force_gradient = [&](int step, const std::vector<Vec<double, D>>& g) { r.force_grad[std::size_t(step)] = g; };
  MpmRollout<double, D> rollout(world, opt);
  rollout.forward();
  if (with_backward) r.grad = rollout.backward();
  r.report = rollout.report();
  return r;
}

template <int D>
double central_difference(const Scenario<D>& sc, double h, const std::function<void(MpmWorld<double, D>&, double)>& perturb,
                          double force_amplitude = 1.0) {
  const double lp = run<D>(sc, force_amplitude, [&](auto& w) { perturb(w, +h); }, false).loss;
  const double lm = run<D>(sc, force_amplitude, [&](auto& w) { perturb(w, -h); }, false).loss;
  return (lp - lm) / (2 * h);
}

void expect_close(double adjoint, double fd, const std::string& what) {
  EXPECT_NEAR(adjoint, fd, 1e-6 * std::max(1.0, std::abs(fd))) << what << ": adjoint " << adjoint << " vs FD " << fd;
}

template <int D>
void check_all_gradients(const Scenario<D>& sc) {
  const auto base = run<D>(sc, 1.0, [](auto&) {});
  ASSERT_EQ(base.report.forward_substeps, kSteps);
  const std::size_t n = base.grad.initial_state.x.size();
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);

  // Initial positions and velocities along random directions.
  std::vector<Vec<double, D>> dir(n);
  for (auto& d : dir)
    for (int a = 0; a < D; ++a) d[a] = u(rng);
  double adj_x = 0, adj_v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    adj_x += dot(base.grad.initial_state.x[i], dir[i]);
    adj_v += dot(base.grad.initial_state.v[i], dir[i]);
  }
  auto along = [&](bool velocity) {
    return [&, velocity](MpmWorld<double, D>& w, double h) {
      auto p = w.particles();
      for (std::size_t i = 0; i < n; ++i) (velocity ? p.v[i] : p.x[i]) += h * dir[i];
      w.set_particles(p);
    };
  };
  expect_close(adj_x, central_difference<D>(sc, 1e-6, along(false)), "initial positions");
  expect_close(adj_v, central_difference<D>(sc, 1e-6, along(true)), "initial velocities");

  // Every material parameter (relative step), the density and the floor friction.
  const auto& desc = make_world<D>(sc).materials()[0];
  int num_params = 0;
  materials::visit_model(desc.model_id, [&](auto m) { num_params = decltype(m)::kNumParams; });
  for (int k = 0; k < num_params; ++k) {
    const double value = desc.params[std::size_t(k)];
    const double h = 1e-6 * std::max(1.0, std::abs(value));
    Scenario<D> plus = sc, minus = sc;
    const std::string name = materials::model_info(desc.model_id).params[k].name;
    plus.params[name] = value + h;
    minus.params[name] = value - h;
    const double fd = (run<D>(plus, 1.0, [](auto&) {}, false).loss - run<D>(minus, 1.0, [](auto&) {}, false).loss) / (2 * h);
    // Compared as dL/dlog(p) so that stiff parameters (B ~ 1e3 Pa) are held to
    // the same relative standard as O(1) ones.
    const double scale = std::max(1.0, std::abs(value));
    expect_close(scale * base.grad.parameters.per_material[0][std::size_t(k)], scale * fd, "parameter " + name);
  }
  {
    Scenario<D> plus = sc, minus = sc;
    plus.density += 1e-3, minus.density -= 1e-3;
    const double fd = (run<D>(plus, 1.0, [](auto&) {}, false).loss - run<D>(minus, 1.0, [](auto&) {}, false).loss) / 2e-3;
    expect_close(sc.density * base.grad.density[0], sc.density * fd, "density (dL/dlog rho)");
  }
  {
    Scenario<D> plus = sc, minus = sc;
    plus.friction += 1e-6, minus.friction -= 1e-6;
    const double fd = (run<D>(plus, 1.0, [](auto&) {}, false).loss - run<D>(minus, 1.0, [](auto&) {}, false).loss) / 2e-6;
    expect_close(base.grad.parameters.wall_friction[0][1][0], fd, "floor friction");
  }
  // Per-step forces: the amplitude of the whole push sequence.
  double adj_amplitude = 0;
  for (int step = 0; step < kSteps; ++step) {
    std::vector<Vec<double, D>> f(n, Vec<double, D>::zero());
    push<D>(step, 1.0, f);
    for (std::size_t i = 0; i < n; ++i) adj_amplitude += dot(base.force_grad[std::size_t(step)][i], f[i]);
  }
  const double fd_amp = (run<D>(sc, 1.0 + 1e-5, [](auto&) {}, false).loss - run<D>(sc, 1.0 - 1e-5, [](auto&) {}, false).loss) / 2e-5;
  expect_close(adj_amplitude, fd_amp, "per-step forces");
}

TEST(RolloutGradients, FluidMatchesFiniteDifferences2D) { check_all_gradients<2>(Scenario<2>{}); }
TEST(RolloutGradients, FluidMatchesFiniteDifferences3D) { check_all_gradients<3>(Scenario<3>{}); }

TEST(RolloutGradients, ElasticMatchesFiniteDifferences2D) {
  Scenario<2> sc;
  sc.model = "fixed_corotated";
  sc.params = {{"E", 3e3}, {"nu", 0.3}};
  bool has = false;
  materials::visit_model(materials::model_id<materials::FixedCorotated>(), [&](auto m) { has = decltype(m)::kHasAdjoint; });
  if (!has) GTEST_SKIP() << "fixed_corotated has no adjoint yet";
  check_all_gradients<2>(sc);
}

TEST(RolloutGradients, CheckpointBudgetsGiveBitIdenticalGradients) {
  std::vector<std::vector<Vec<double, 2>>> grads;
  std::vector<double> recompute;
  for (int checkpoints : {kSteps + 1, 6, 2, 1}) {
    Scenario<2> sc;
    sc.checkpoints = checkpoints;
    const auto r = run<2>(sc, 1.0, [](auto&) {});
    grads.push_back(r.grad.initial_state.x);
    recompute.push_back(r.report.recompute_factor);
    EXPECT_LE(r.report.peak_checkpoints, checkpoints);
  }
  for (std::size_t k = 1; k < grads.size(); ++k)
    for (std::size_t i = 0; i < grads[0].size(); ++i)
      for (int a = 0; a < 2; ++a) EXPECT_EQ(grads[k][i][a], grads[0][i][a]) << "budget #" << k << " particle " << i;
  EXPECT_EQ(recompute.front(), 1.0);       // every state stored
  EXPECT_GT(recompute.back(), recompute[1]);  // fewer checkpoints, more recomputation
}

TEST(RolloutGradients, NonFiniteLossGradientStopsTheBackwardPassOrIsZeroedOnRequest) {
  for (bool zero : {false, true}) {
    auto world = make_world<2>(Scenario<2>{});
    RolloutOptions<double, 2> opt;
    opt.steps = 8;
    opt.loss_reads_step = [](int step) { return step == 8 || step == 3; };
    opt.loss_gradient = [](int step, const ParticleSet<double, 2>&, ParticleAdjoint<double, 2>& g) {
      g.v[5][0] += step == 8 ? std::numeric_limits<double>::quiet_NaN() : 1.0;
    };
    opt.zero_nonfinite_gradients = zero;
    MpmRollout<double, 2> rollout(world, opt);
    rollout.forward();
    if (!zero) {
      try {
        rollout.backward();
        FAIL() << "expected SimulationError";
      } catch (const SimulationError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("adjoint of step 8"), std::string::npos) << msg;
        EXPECT_NE(msg.find("not finite"), std::string::npos) << msg;
      }
    } else {
      const auto g = rollout.backward();
      EXPECT_GE(rollout.report().nonfinite_zeroed_steps, 1);
      for (const auto& x : g.initial_state.x) EXPECT_TRUE(all_finite(x));
    }
  }
}

TEST(RolloutGradients, WorldIsBackAtTheInitialStateAfterBackward) {
  auto world = make_world<2>(Scenario<2>{});
  const auto x0 = world.particles().x;
  RolloutOptions<double, 2> opt;
  opt.steps = 10;
  MpmRollout<double, 2> rollout(world, opt);
  rollout.forward();
  EXPECT_EQ(world.step_count(), 10);
  EXPECT_NE(world.particles().x[0][1], x0[0][1]);
  rollout.backward();
  EXPECT_EQ(world.step_count(), 0);
  const auto& x = world.particles().x;
  for (std::size_t i = 0; i < x0.size(); ++i)
    for (int a = 0; a < 2; ++a) EXPECT_EQ(x[i][a], x0[i][a]);
  EXPECT_THROW(rollout.backward(), InputError);  // one backward per forward
}

TEST(RolloutGradients, BudgetSmallerThanOneStateIsAnInputError) {
  auto world = make_world<2>(Scenario<2>{});
  RolloutOptions<double, 2> opt;
  opt.steps = 5;
  opt.checkpoint_bytes = 16;
  MpmRollout<double, 2> rollout(world, opt);
  EXPECT_THROW(rollout.forward(), InputError);
}

}  // namespace
}  // namespace pl::test
