// A short optimization through the differentiable rollout: recover the initial
// velocity v0 that throws a jelly cube (fixed_corotated, double) so that its
// centre of mass reaches a target at the final step, in 2D and 3D.
//
// The target is the centre of mass after a forward run with a known v0*; the
// optimization starts from a wrong v0 and runs Adam (written out below) on
//   L(v0) = |com_T(v0) - target|^2 / l^2        (l = 1 cm: L is in cm^2)
// with dL/dv0 = sum over particles of dL/dv_p(0) from MpmRollout::backward()
// (every particle starts with the same v0).  The cube flies freely under
// gravity (no wall is reached by any iterate), so com_T is determined by v0
// and v0* is the unique minimizer: the test asserts that the loss drops by more
// than 1e4x, that com_T ends within 0.5 mm of the target and v0 within 5 mm/s
// of v0*.  The gradient at the start is also checked against central finite
// differences (1e-6), so a converging optimization is not masking a wrong one.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <iostream>

#include "engine/core/backend.hpp"
#include "engine/diff/mpm_rollout.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

constexpr int kSteps = 50;
constexpr double kDt = 4e-3;
constexpr double kLength = 0.01;  // loss unit [m]

template <int D>
using Velocity = std::array<double, D>;

/// A jelly cube near the left of a 1 m box, thrown with v0 (same for every particle).
template <int D>
MpmWorld<double, D> make_world(const Velocity<D>& v0) {
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, 16);
  s.dt = kDt;
  s.gravity[1] = -9.8;
  for (int a = 0; a < D; ++a) s.walls[a][0] = s.walls[a][1] = {WallType::Separate, 0.3};
  MpmWorld<double, D> world(s, {material("fixed_corotated", {{"E", 5e3}, {"nu", 0.3}}, 1000, "jelly")});
  std::array<double, D> lo = filled<D>(0.4), hi = filled<D>(0.4 + 3 * s.dx);
  lo[0] = 0.25, hi[0] = 0.25 + 3 * s.dx;
  lo[1] = 0.45, hi[1] = 0.45 + 3 * s.dx;
  world.add_body("cube", lattice_box<D>(lo, hi, s.dx, 2), 0, v0, std::pow(s.dx / 2, D));
  return world;
}

template <int D>
std::array<double, D> centre_of_mass(const ParticleSet<double, D>& p) {
  std::array<double, D> c{};
  double m = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    m += p.mass[i];
    for (int a = 0; a < D; ++a) c[a] += p.mass[i] * p.x[i][a];
  }
  for (int a = 0; a < D; ++a) c[a] /= m;
  return c;
}

template <int D>
struct Evaluation {
  double loss = 0;
  std::array<double, D> com{}, gradient{};  // dL/dv0
  double wall_clearance = 1e300;  // over the run: least distance [m] of a particle's stencil to a wall layer
};

/// Forward (+ backward when `gradient`) of the throw with initial velocity v0.
template <int D>
Evaluation<D> evaluate(const Velocity<D>& v0, const std::array<double, D>& target, bool gradient = true) {
  auto world = make_world<D>(v0);
  Evaluation<D> e;
  RolloutOptions<double, D> opt;
  opt.steps = kSteps;
  opt.loss_reads_step = [](int) { return true; };  // every state, for the wall clearance
  opt.on_state = [&](int step, const ParticleSet<double, D>& s) {
    const double dx = world.settings().dx, layer = world.settings().bound_cells * dx;
    for (const auto& x : s.x)
      for (int a = 0; a < D; ++a)
        e.wall_clearance = std::min({e.wall_clearance, x[a] - layer - 0.5 * dx, (1.0 - layer) - x[a] - 0.5 * dx});
    if (step != kSteps) return;
    e.com = centre_of_mass<D>(s);
    for (int a = 0; a < D; ++a) e.loss += std::pow((e.com[a] - target[a]) / kLength, 2);
  };
  opt.loss_gradient = [&](int step, const ParticleSet<double, D>& s, ParticleAdjoint<double, D>& g) {
    if (step != kSteps) return;
    double m = 0;
    for (double mp : s.mass) m += mp;
    for (std::size_t i = 0; i < s.size(); ++i)
      for (int a = 0; a < D; ++a) g.x[i][a] += 2 * (e.com[a] - target[a]) / (kLength * kLength) * s.mass[i] / m;
  };
  MpmRollout<double, D> rollout(world, opt);
  rollout.forward();
  if (!gradient) return e;
  const auto g = rollout.backward();
  for (const auto& gv : g.initial_state.v)
    for (int a = 0; a < D; ++a) e.gradient[a] += gv[a];
  return e;
}

template <int D>
void optimize_throw() {
  // One CPU thread: these rollouts are tiny, and 2 OpenMP threads stall badly on
  // a shared 2-core machine whenever another process takes a core.
  const int threads_before = cpu_threads();
  set_cpu_threads(1);
  struct Restore {
    int n;
    ~Restore() { set_cpu_threads(n); }
  } restore{threads_before};
  const auto t0 = std::chrono::steady_clock::now();
  Velocity<D> v_star{}, v{};
  v_star[0] = 1.2, v_star[1] = 0.8;
  v[0] = 0.3, v[1] = 0.0;
  if constexpr (D == 3) v_star[2] = -0.4, v[2] = 0.3;
  std::array<double, D> target{};
  {
    auto world = make_world<D>(v_star);
    world.step(kSteps);
    target = centre_of_mass<D>(world.particles());
  }

  // The gradient at the start against central finite differences.
  const Evaluation<D> first = evaluate<D>(v, target);
  for (int a = 0; a < D; ++a) {
    const double h = 1e-5;
    Velocity<D> plus = v, minus = v;
    plus[a] += h, minus[a] -= h;
    const double fd = (evaluate<D>(plus, target, false).loss - evaluate<D>(minus, target, false).loss) / (2 * h);
    EXPECT_NEAR(first.gradient[a], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "dL/dv0[" << a << "]";
  }

  // Adam on v0, step size decaying from 0.2 m/s.
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-12;
  std::array<double, D> m{}, s{};
  Evaluation<D> e = first;
  double clearance = first.wall_clearance;
  int it = 0;
  for (; it < 300 && e.loss > 1e-6 * first.loss; ++it) {
    const double lr = 0.2 * std::pow(0.97, it);
    for (int a = 0; a < D; ++a) {
      m[a] = beta1 * m[a] + (1 - beta1) * e.gradient[a];
      s[a] = beta2 * s[a] + (1 - beta2) * e.gradient[a] * e.gradient[a];
      const double m_hat = m[a] / (1 - std::pow(beta1, it + 1)), s_hat = s[a] / (1 - std::pow(beta2, it + 1));
      v[a] -= lr * m_hat / (std::sqrt(s_hat) + eps);
    }
    e = evaluate<D>(v, target);
    clearance = std::min(clearance, e.wall_clearance);
  }
  double com_error = 0, v_error = 0;
  for (int a = 0; a < D; ++a) {
    com_error += std::pow(e.com[a] - target[a], 2);
    v_error += std::pow(v[a] - v_star[a], 2);
  }
  com_error = std::sqrt(com_error), v_error = std::sqrt(v_error);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[optimize throw " << D << "D] " << it << " Adam steps: loss " << first.loss << " -> " << e.loss
            << " (x" << first.loss / e.loss << "), |com_T - target| " << com_error << " m, |v0 - v0*| " << v_error
            << " m/s, least wall clearance " << clearance << " m, " << secs << " s\n";
  EXPECT_GT(clearance, 0) << "an iterate reached a wall: v0* is then not the only minimizer";
  EXPECT_LT(e.loss, first.loss / 1e4);
  EXPECT_LT(com_error, 5e-4);
  EXPECT_LT(v_error, 5e-3);
}

TEST(OptimizeThrow, RecoversTheInitialVelocityOfAJellyCube2D) { optimize_throw<2>(); }
TEST(OptimizeThrow, RecoversTheInitialVelocityOfAJellyCube3D) { optimize_throw<3>(); }

}  // namespace
}  // namespace pl::test
