// End-to-end gradient checks of the checkpointed rollout (engine/diff/mpm_rollout.hpp)
// for EVERY constitutive model in AllModels, in 2D and 3D, double precision.
// A typed test over materials::AllModels: a model appended to
// materials/model_list.hpp is covered without touching this file (it runs with
// its default parameters unless model_parameters() below has an entry).
//
// Scene (30 substeps, 96 particles in 2D, 200 in 3D): two blocks of one material
// thrown down and out into the two bottom corners of a small box, with gravity,
// so that every wall type is in contact (asserted): the floor separates with
// Coulomb friction (0.3), the x-low wall is sticky, the x-high wall slip; in
// 3D the z-low wall separates with friction 0.2 and the z-high wall is sticky.
// Every particle also gets a per-step external force (random direction, up to
// ~5 m/s^2 times its mass).
//
// Loss: L = sum over steps T/2 and T of fixed random weights . (x, v, F, plastic).
// Checked: the adjoint's directional derivative of L against finite
// differences of the forward, for
//   x0        initial positions, each particle along a random direction (up to 1 cell)
//   v0        initial velocities, each along a random direction (up to 1 m/s)
//   <param>   every material parameter p of the model: dL/dlog(p) = p dL/dp
//   density   dL/dlog(rho)
//   wall_friction[a][side]  dL/dlog(mu) of each separating wall with friction
//   forces    dL/d(amplitude) of the whole per-step force sequence
// so every quantity is the change of L under an O(100%) change of what it
// perturbs.  Criterion: |adjoint - FD| <= 1e-6 max(|FD|, kFloor), kFloor = 0.1:
// L is ~10-40 here and these derivatives ~0.01-1000; one below 0.1 (a nearly
// cancelling sum, e.g. dL/dlog(yield stress) of a scene that barely feels it)
// is held to 1e-7 absolute rather than to 1e-6 of itself, which would sit
// below the finite differences' own rounding noise.  The loss is accumulated in
// long double, so its rounding noise (measured per scene, printed) is that of
// the trajectory, ~1e-14.
//
// Kinks: the rollout is piecewise smooth (yield surfaces, snow's clamp, the
// Drucker-Prager apex, wall branches vn = 0 and stick/slide, the onset of
// Herschel-Bulkley flow).  finite_difference() below detects a kink within its
// step from the disagreement of central and one-sided differences across step
// sizes, falls back to the one-sided differences from the kink-free side, and
// when no estimate can be trusted skips the check with a logged reason.  At
// most 1 in 5 checks of a test may be skipped and a test with no check fails.
// (Over 50 seeds for the random directions, weights and forces, i.e. 800 runs
// of these tests: no failure, 3 checks skipped in all, worst error 4.1e-7.)
//
// Plasticity: model_parameters() makes every plastic model yield, asserted by
// recomputing each substep's trial F = (I + dt C_new) F_old on the host from
// the recorded states and comparing it with the stored F (project() changed it
// for >= 10% of the particles); for an elastic model it must never change.
//
// Also: the float32 gradient of the same rollout is compared with the double
// one and the relative difference per quantity is printed and recorded
// (RecordProperty); asserted only loosely (median < 1e-2, every quantity <
// 0.25: a float rollout may take the other branch at a kink, e.g. snow 3D's
// float loss differs by 5e-5 and its dL/dlog(E) by ~6%).  And two backward
// passes of the same rollout at 2 OpenMP threads give bit-identical gradients.
//
// PLIANT_GRADCHECK_SEED=<n> in the environment changes the random directions,
// weights and forces (default 12345).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/backend.hpp"
#include "engine/diff/mpm_rollout.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

constexpr double kTol = 1e-6;          // adjoint vs finite differences, relative (double)
constexpr double kFloor = 0.1;         // denominator floor, in loss units (see header)
constexpr double kConsistency = 3e-7;  // finite-difference self-consistency, relative
constexpr double kStepRel = 5e-4;      // largest FD step: relative, for parameters / density / friction / forces
constexpr double kStepX = 2e-4;        // [cells] along the position directions
constexpr double kStepV = 5e-4;        // [m/s] along the velocity directions
constexpr double kFloatMedian = 1e-2;  // loose sanity bounds on the float32 gradient
constexpr double kFloatMax = 0.25;

// ---- per-model parameters ------------------------------------------------------------
// Soft enough for ~3 ms substeps, and for plastic models a yield stress (or clamp)
// low enough that the impact yields.  Herschel-Bulkley uses flow_index 2: for
// n < 2 the flow rate near the onset of flow goes like excess^(1/n) (or has an
// x^n term), a C1 function with unbounded curvature there, which finite
// differences resolve poorly; n = 2 is smooth on each side of the onset.
std::map<std::string, double> model_parameters(const std::string& model) {
  static const std::map<std::string, std::map<std::string, double>> table = {
      {"fixed_corotated", {{"E", 4e3}, {"nu", 0.3}}},
      {"stable_neo_hookean", {{"E", 4e3}, {"nu", 0.4}}},
      {"stvk_hencky", {{"E", 4e3}, {"nu", 0.3}}},
      {"von_mises", {{"E", 4e3}, {"nu", 0.3}, {"yield_stress", 150}}},
      {"drucker_prager", {{"E", 4e3}, {"nu", 0.3}, {"friction_angle", 30}, {"cohesion", 100}}},
      {"snow", {{"E", 5e3}, {"nu", 0.2}, {"critical_compression", 0.08}, {"critical_stretch", 0.04}, {"hardening", 10}}},
      {"weakly_compressible_fluid", {{"bulk_modulus", 2e3}, {"gamma", 3}, {"viscosity", 0.5}}},
      {"herschel_bulkley", {{"E", 4e3}, {"nu", 0.3}, {"yield_stress", 100}, {"viscosity", 5}, {"flow_index", 2}}},
  };
  const auto it = table.find(model);
  return it == table.end() ? std::map<std::string, double>{} : it->second;
}

int model_index(const std::string& name) {
  const auto names = materials::model_names();
  return int(std::find(names.begin(), names.end(), name) - names.begin());
}

// ---- the scene -----------------------------------------------------------------------
template <int D>
struct Scene {
  std::string model;
  std::map<std::string, double> params;  // every parameter of the model
  double density = 1000;
  std::array<std::array<WallSpec, 2>, D> walls{};
  int cells = D == 2 ? 20 : 16;  // per axis, domain [0, 1]^D
  int steps = 30;
  double dt = 0;
  // Perturbations (zero in the base run).
  double x_shift = 0;  // [cells] along Fixed::dir_x
  double v_shift = 0;  // [m/s] along Fixed::dir_v
  double force_amplitude = 1;
  double dx() const { return 1.0 / cells; }
  double particle_volume() const { return std::pow(dx() / 2, D); }
};

template <int D>
struct Block {
  std::array<double, D> lo{}, hi{}, v{};
};

/// Block A flies into the low-x (and low-z) corner, block B into the high-x (and
/// high-z) one; each starts one cell away from the wall layers it will hit.
template <int D>
std::vector<Block<D>> blocks(const Scene<D>& sc) {
  const double dx = sc.dx(), n = sc.cells;
  const double width = D == 2 ? 4 : 2.5, height = D == 2 ? 3 : 2;
  Block<D> a, b;
  a.lo[0] = 4 * dx, a.hi[0] = (4 + width) * dx;
  b.hi[0] = (n - 4) * dx, b.lo[0] = (n - 4 - width) * dx;
  a.lo[1] = b.lo[1] = 4 * dx;
  a.hi[1] = b.hi[1] = (4 + height) * dx;
  a.v[0] = -1.2, b.v[0] = 1.2;
  a.v[1] = b.v[1] = -1.5;
  if constexpr (D == 3) {
    a.lo[2] = 4 * dx, a.hi[2] = (4 + width) * dx;
    b.hi[2] = (n - 4) * dx, b.lo[2] = (n - 4 - width) * dx;
    a.v[2] = -1.0, b.v[2] = 1.0;
  }
  return {a, b};
}

template <int D>
std::vector<std::vector<std::array<double, D>>> body_positions(const Scene<D>& sc) {
  std::vector<std::vector<std::array<double, D>>> out;
  for (const auto& b : blocks(sc)) out.push_back(lattice_box<D>(b.lo, b.hi, sc.dx(), 2));
  return out;
}

template <int D>
Scene<D> base_scene(const std::string& model) {
  Scene<D> sc;
  sc.model = model;
  const auto info = materials::model_info(model_index(model));
  const auto chosen = model_parameters(model);
  for (int k = 0; k < info.num_params; ++k) {
    const std::string name = info.params[k].name;
    const auto it = chosen.find(name);
    sc.params[name] = it == chosen.end() ? info.params[k].default_value : it->second;
  }
  for (int a = 0; a < D; ++a) sc.walls[a][0] = sc.walls[a][1] = {WallType::Slip, 0.0};
  sc.walls[0][0] = {WallType::Sticky, 0.0};
  sc.walls[0][1] = {WallType::Slip, 0.0};
  sc.walls[1][0] = {WallType::Separate, 0.3};
  if constexpr (D == 3) {
    sc.walls[2][0] = {WallType::Separate, 0.2};
    sc.walls[2][1] = {WallType::Sticky, 0.0};
  }
  // dt: a quarter of the CFL limit at the initial wave speed and speed, at most 4 ms.
  double speed = 0;
  for (const auto& b : blocks(sc)) {
    double q = 0;
    for (int a = 0; a < D; ++a) q += b.v[a] * b.v[a];
    speed = std::max(speed, std::sqrt(q));
  }
  const double c = materials::wave_speed(material(model, sc.params, sc.density, "stuff"));
  sc.dt = std::min(4e-3, 0.25 * sc.dx() / (c + speed));
  return sc;
}

/// Fixed random data of a scene: perturbation directions, loss weights, forces.
template <int D>
struct Fixed {
  std::size_t n = 0;
  std::vector<Vec<double, D>> dir_x, dir_v;        // perturbation directions, components in [-1, 1]
  std::vector<Vec<double, D>> wx, wv;              // loss weights
  std::vector<Mat<double, D>> wF;
  std::vector<double> wpl;
  std::vector<std::vector<Vec<double, D>>> accel;  // [step][particle]: force / base mass [m/s^2]
  double particle_mass = 0;                        // base density * particle volume
  std::vector<int> loss_steps;

  bool loss_reads(int step) const {
    return std::find(loss_steps.begin(), loss_steps.end(), step) != loss_steps.end();
  }
};

unsigned seed() {
  const char* s = std::getenv("PLIANT_GRADCHECK_SEED");
  return s ? unsigned(std::strtoul(s, nullptr, 10)) : 12345u;
}

template <int D>
Fixed<D> make_fixed(const Scene<D>& sc) {
  Fixed<D> f;
  for (const auto& b : body_positions(sc)) f.n += b.size();
  std::mt19937 rng(seed());
  std::uniform_real_distribution<double> u(-1, 1);
  auto vec = [&] {
    Vec<double, D> r;
    for (int a = 0; a < D; ++a) r[a] = u(rng);
    return r;
  };
  for (std::size_t i = 0; i < f.n; ++i) {
    f.dir_x.push_back(vec());
    f.dir_v.push_back(vec());
    f.wx.push_back(vec());
    f.wv.push_back(vec());
    Mat<double, D> m;
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) m(a, b) = u(rng);
    f.wF.push_back(m);
    f.wpl.push_back(u(rng));
  }
  f.accel.resize(std::size_t(sc.steps));
  for (auto& step : f.accel) {
    step.resize(f.n);
    for (auto& a : step) a = 5.0 * vec();
  }
  f.particle_mass = sc.density * sc.particle_volume();
  f.loss_steps = {sc.steps / 2, sc.steps};
  return f;
}

template <class Real, int D>
MpmWorld<Real, D> make_world(const Scene<D>& sc, const Fixed<D>& fx) {
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, sc.cells);
  s.dt = sc.dt;
  s.gravity[1] = -9.8;
  s.walls = sc.walls;
  MpmWorld<Real, D> world(s, {material(sc.model, sc.params, sc.density, "stuff")});
  const auto bodies = blocks(sc);
  const auto positions = body_positions(sc);
  for (std::size_t b = 0; b < bodies.size(); ++b)
    world.add_body(b == 0 ? "A" : "B", positions[b], 0, bodies[b].v, sc.particle_volume());
  if (sc.x_shift != 0 || sc.v_shift != 0) {
    auto p = world.particles();
    for (std::size_t i = 0; i < p.size(); ++i)
      for (int a = 0; a < D; ++a) {
        p.x[i][a] += Real(sc.x_shift * sc.dx() * fx.dir_x[i][a]);
        p.v[i][a] += Real(sc.v_shift * fx.dir_v[i][a]);
      }
    world.set_particles(p);
  }
  return world;
}

template <class Real, int D>
struct RunResult {
  long double loss = 0;  // extended precision: the sum's rounding stays far below the trajectory's
  RolloutGradients<Real, D> grad;
  std::vector<std::vector<Vec<Real, D>>> force_grad;  // [step][particle]
  std::vector<ParticleSet<Real, D>> states;           // every step, when recorded
};

/// Forward (and backward) of the scene's rollout.
template <class Real, int D>
RunResult<Real, D> run(const Scene<D>& sc, const Fixed<D>& fx, bool backward, bool record_states = false,
                       int checkpoints = 0) {
  auto world = make_world<Real, D>(sc, fx);
  RunResult<Real, D> r;
  r.force_grad.resize(std::size_t(sc.steps));
  RolloutOptions<Real, D> opt;
  opt.steps = sc.steps;
  opt.checkpoints = checkpoints;
  opt.loss_reads_step = [&](int step) { return record_states || fx.loss_reads(step); };
  opt.on_state = [&](int step, const ParticleSet<Real, D>& s) {
    if (record_states) r.states.push_back(s);
    if (!fx.loss_reads(step)) return;
    for (std::size_t i = 0; i < s.size(); ++i) {
      for (int a = 0; a < D; ++a) {
        r.loss += (long double)fx.wx[i][a] * s.x[i][a] + (long double)fx.wv[i][a] * s.v[i][a];
        for (int b = 0; b < D; ++b) r.loss += (long double)fx.wF[i](a, b) * s.F[i](a, b);
      }
      r.loss += (long double)fx.wpl[i] * s.plastic[i];
    }
  };
  opt.loss_gradient = [&](int step, const ParticleSet<Real, D>&, ParticleAdjoint<Real, D>& g) {
    if (!fx.loss_reads(step)) return;
    for (std::size_t i = 0; i < g.size(); ++i) {
      for (int a = 0; a < D; ++a) {
        g.x[i][a] += Real(fx.wx[i][a]);
        g.v[i][a] += Real(fx.wv[i][a]);
        for (int b = 0; b < D; ++b) g.F[i](a, b) += Real(fx.wF[i](a, b));
      }
      g.plastic[i] += Real(fx.wpl[i]);
    }
  };
  opt.forces = [&](int step, std::vector<Vec<Real, D>>& f) {
    const double scale = sc.force_amplitude * fx.particle_mass;
    for (std::size_t i = 0; i < f.size(); ++i)
      for (int a = 0; a < D; ++a) f[i][a] = Real(scale * fx.accel[std::size_t(step)][i][a]);
  };
  opt.force_gradient = [&](int step, const std::vector<Vec<Real, D>>& g) { r.force_grad[std::size_t(step)] = g; };
  MpmRollout<Real, D> rollout(world, opt);
  rollout.forward();
  if (backward) r.grad = rollout.backward();
  return r;
}

// ---- the differentiable quantities ---------------------------------------------------
template <int D>
struct Quantity {
  std::string name;
  double step;                                     // largest FD step
  std::function<void(Scene<D>&, double)> perturb;  // the scene at offset s
  bool one_sided = false;                          // a parameter at its bound (0): forward differences
};

template <int D>
std::vector<Quantity<D>> quantities(const Scene<D>& sc) {
  std::vector<Quantity<D>> q;
  q.push_back({"x0", kStepX, [](Scene<D>& s, double e) { s.x_shift = e; }});
  q.push_back({"v0", kStepV, [](Scene<D>& s, double e) { s.v_shift = e; }});
  for (const auto& [name, value] : sc.params) {
    const std::string n = name;
    const double p = value;
    if (p != 0)
      q.push_back({n, kStepRel, [n, p](Scene<D>& s, double e) { s.params[n] = p * (1 + e); }});
    else  // dL/dp itself (additive step) at the bound
      q.push_back({n, kStepRel, [n](Scene<D>& s, double e) { s.params[n] = e; }, true});
  }
  q.push_back({"density", kStepRel, [d = sc.density](Scene<D>& s, double e) { s.density = d * (1 + e); }});
  for (int a = 0; a < D; ++a)
    for (int side = 0; side < 2; ++side)
      if (sc.walls[a][side].type == WallType::Separate && sc.walls[a][side].friction > 0) {
        const double mu = sc.walls[a][side].friction;
        q.push_back({"wall_friction[" + std::to_string(a) + "][" + std::to_string(side) + "]", kStepRel,
                     [a, side, mu](Scene<D>& s, double e) { s.walls[a][side].friction = mu * (1 + e); }});
      }
  q.push_back({"forces", kStepRel, [](Scene<D>& s, double e) { s.force_amplitude = 1 + e; }});
  return q;
}

/// The adjoint's directional derivative for each quantity, from one backward pass.
template <class Real, int D>
std::vector<double> adjoint_values(const Scene<D>& sc, const Fixed<D>& fx, const RunResult<Real, D>& r,
                                   const std::vector<Quantity<D>>& qs) {
  const auto& g = r.grad;
  const auto info = materials::model_info(model_index(sc.model));
  std::vector<double> out;
  for (const auto& q : qs) {
    double value = 0;
    if (q.name == "x0") {
      for (std::size_t i = 0; i < fx.n; ++i)
        for (int a = 0; a < D; ++a) value += double(g.initial_state.x[i][a]) * sc.dx() * fx.dir_x[i][a];
    } else if (q.name == "v0") {
      for (std::size_t i = 0; i < fx.n; ++i)
        for (int a = 0; a < D; ++a) value += double(g.initial_state.v[i][a]) * fx.dir_v[i][a];
    } else if (q.name == "density") {
      value = sc.density * g.density[0];
    } else if (q.name == "forces") {
      for (int step = 0; step < sc.steps; ++step)
        for (std::size_t i = 0; i < fx.n; ++i)
          for (int a = 0; a < D; ++a)
            value += double(r.force_grad[std::size_t(step)][i][a]) * fx.particle_mass *
                     fx.accel[std::size_t(step)][i][a];
    } else if (q.name.rfind("wall_friction[", 0) == 0) {  // wall_friction[a][side]
      const std::size_t a = std::size_t(q.name[14] - '0'), side = std::size_t(q.name[17] - '0');
      value = sc.walls[a][side].friction * double(g.parameters.wall_friction[0][a][side]);
    } else {  // a material parameter, in the model's enum order
      bool found = false;
      for (int k = 0; k < info.num_params; ++k)
        if (q.name == info.params[k].name) {
          const double p = sc.params.at(q.name);
          value = (p != 0 ? p : 1.0) * double(g.parameters.per_material[0][std::size_t(k)]);
          found = true;
        }
      EXPECT_TRUE(found) << q.name;
    }
    out.push_back(value);
  }
  return out;
}

template <int D>
long double loss_at(const Scene<D>& base, const Fixed<D>& fx, const Quantity<D>& q, double s) {
  Scene<D> sc = base;
  q.perturb(sc, s);
  return run<double, D>(sc, fx, false).loss;
}

/// Rounding noise of the loss: the largest second difference of L over steps
/// far too small (1e-10 cells) for its curvature to show.
template <int D>
double loss_noise(const Scene<D>& sc, const Fixed<D>& fx) {
  const Quantity<D> q{"x0", 0, [](Scene<D>& s, double e) { s.x_shift = e; }};
  std::vector<long double> l;
  for (int i = -4; i <= 4; ++i) l.push_back(loss_at(sc, fx, q, i * 1e-10));
  double noise = 0;
  for (std::size_t i = 1; i + 1 < l.size(); ++i)
    noise = std::max(noise, double(std::abs(l[i - 1] - 2 * l[i] + l[i + 1]) / 2));
  return noise;
}

// ---- finite differences with kink detection -------------------------------------------
// The loss is piecewise smooth, and the adjoint is its derivative at the base
// point, inside one smooth piece (the branch the forward took).  Level k of the
// ladder uses the step h_k = h / 4^k and L at 0, +-h_k/2, +-h_k, from which
//   central   C_k = (4 D(h_k/2) - D(h_k)) / 3   (D: central difference; Richardson, O(h^4))
//   forward   F_k = (-3 L(0) + 4 L(h_k/2) - L(h_k)) / h_k     (second order)
//   backward  B_k = ( 3 L(0) - 4 L(-h_k/2) + L(-h_k)) / h_k
// An estimate is self-consistent at level k when it agrees with the same
// estimate at level k+1 to kConsistency (relative to max(|value|, kFloor)): on
// a smooth piece they differ by truncation and rounding only.  A kink (slopes
// a | b) at distance d from the base point shifts what straddles it:
//   d ~ h_k:   unevenly across levels: the estimates that straddle it are not
//              self-consistent, the others stay exact;
//   d << h_k:  alike at both levels: C -> (a + b)/2 and the one-sided estimate
//              on the kink's side -> the far slope; the other side stays exact.
// Hence, at the first level where one applies:
//   - C self-consistent and F_k, B_k agree with it: the central value;
//   - C self-consistent but F_k or B_k disagree (a kink within ~h_k/8): both
//     one-sided estimates must be self-consistent, and the adjoint must match
//     one of them (the side of the branch the forward took);
//   - C not self-consistent: the self-consistent one-sided estimate(s).
// One-sided values are Richardson-combined over levels k, k+1 (O(h^3)).  An
// estimate whose rounding noise (sum of |weights| x the measured noise of L,
// over h) exceeds kConsistency certifies nothing; when no estimate is accepted
// at any level the check cannot be judged, and is skipped.
struct FiniteDifference {
  std::vector<double> values;  // accepted estimates (empty: none)
  std::string kind;
  double h = 0, mismatch = 0;
  double nearest(double adjoint) const {
    double best = values.empty() ? 0 : values[0];
    for (double v : values)
      if (std::abs(v - adjoint) < std::abs(best - adjoint)) best = v;
    return best;
  }
};

constexpr int kLevels = 4;  // levels 0..kLevels-1 can be accepted (kLevels compares only)

template <int D>
FiniteDifference finite_difference(const Scene<D>& sc, const Fixed<D>& fx, const Quantity<D>& q, long double l0,
                                   double noise) {
  struct Level {
    double central = 0, forward = 0, backward = 0;
  };
  std::vector<Level> lv;
  auto step = [&](int k) { return q.step * std::pow(4.0, -k); };
  auto add_level = [&](int k) {
    const double h = step(k);
    Level e;
    const long double p1 = loss_at(sc, fx, q, h), p2 = loss_at(sc, fx, q, h / 2);
    e.forward = double((-3 * l0 + 4 * p2 - p1) / h);
    if (!q.one_sided) {
      const long double m1 = loss_at(sc, fx, q, -h), m2 = loss_at(sc, fx, q, -h / 2);
      e.central = double((4 * (p2 - m2) / h - (p1 - m1) / (2 * h)) / 3);
      e.backward = double((3 * l0 - 4 * m2 + m1) / h);
    }
    lv.push_back(e);
  };
  auto noise_central = [&](int k) { return 3 * noise / step(k); };
  auto noise_one_sided = [&](int k) { return 8 * noise / step(k); };
  auto scale_of = [](double x, double y) { return std::max({std::abs(x), std::abs(y), kFloor}); };

  FiniteDifference r;
  r.mismatch = 1e300;
  add_level(0);
  for (int k = 0; k < kLevels; ++k) {
    add_level(k + 1);
    const Level &a = lv[std::size_t(k)], &b = lv[std::size_t(k) + 1];
    auto consistent = [&](double x, double y, double level_noise, double& mismatch) {
      mismatch = std::abs(x - y) / scale_of(x, y);
      r.mismatch = std::min(r.mismatch, mismatch);
      return level_noise <= kConsistency * scale_of(x, y) && mismatch <= kConsistency;
    };
    r.h = step(k);
    double mc = 0, mf = 0, mb = 0;
    const bool forward = consistent(a.forward, b.forward, noise_one_sided(k + 1), mf);
    const double fwd = (16 * b.forward - a.forward) / 15;
    if (q.one_sided) {
      if (forward) {
        r.values = {fwd}, r.kind = "forward (parameter at its bound)", r.mismatch = mf;
        return r;
      }
      continue;
    }
    const bool central = consistent(a.central, b.central, noise_central(k + 1), mc);
    const bool backward = consistent(a.backward, b.backward, noise_one_sided(k + 1), mb);
    const double bwd = (16 * b.backward - a.backward) / 15;
    auto agrees_with_central = [&](double one_sided) {
      return std::abs(one_sided - a.central) <=
             2 * kConsistency * scale_of(one_sided, a.central) + noise_one_sided(k) + noise_central(k);
    };
    if (central) {
      if (agrees_with_central(a.forward) && agrees_with_central(a.backward)) {
        r.values = {a.central}, r.kind = "central", r.mismatch = mc;
        return r;
      }
      if (forward && backward) {
        r.values = {fwd, bwd}, r.kind = "either side (a kink within h/8)", r.mismatch = std::max(mf, mb);
        return r;
      }
      continue;
    }
    if (forward && backward) {
      r.values = {fwd, bwd}, r.kind = "either side", r.mismatch = std::max(mf, mb);
      return r;
    }
    if (forward) {
      r.values = {fwd}, r.kind = "forward (a kink at s < 0)", r.mismatch = mf;
      return r;
    }
    if (backward) {
      r.values = {bwd}, r.kind = "backward (a kink at s > 0)", r.mismatch = mb;
      return r;
    }
  }
  r.values.clear();
  return r;
}

// ---- assertions on the base run ----------------------------------------------------------
/// Particle-steps where project() changed F or the plastic state: from the
/// recorded states, trial F = (I + dt C_n) F_{n-1} (C_n: G2P's new velocity gradient).
struct YieldStats {
  long changed = 0, total = 0;
  std::size_t particles_yielded = 0;
};
template <int D>
YieldStats yield_stats(const Scene<D>& sc, const std::vector<ParticleSet<double, D>>& states) {
  YieldStats y;
  if (states.empty()) return y;
  std::vector<bool> yielded(states[0].size(), false);
  for (std::size_t n = 1; n < states.size(); ++n) {
    const auto &before = states[n - 1], &after = states[n];
    for (std::size_t i = 0; i < before.size(); ++i) {
      const Mat<double, D> trial = (Mat<double, D>::identity() + sc.dt * after.C[i]) * before.F[i];
      const bool changed = frobenius_norm(after.F[i] - trial) > 1e-9 * frobenius_norm(trial) ||
                           after.plastic[i] != before.plastic[i];
      y.changed += changed;
      ++y.total;
      if (changed) yielded[i] = true;
    }
  }
  for (bool v : yielded) y.particles_yielded += v;
  return y;
}

/// Some particle's stencil reaches the wall layer of face (axis, side) at some step.
template <int D>
bool touches_wall(const Scene<D>& sc, const std::vector<ParticleSet<double, D>>& states, int axis, int side) {
  const double layer = 3 * sc.dx();  // MpmSettings::bound_cells (default 3) cells
  for (const auto& s : states)
    for (const auto& x : s.x) {
      const double d = side == 0 ? x[axis] - layer : (1.0 - layer) - x[axis];
      if (d < 0.5 * sc.dx()) return true;  // quadratic stencil: 1.5 cells to each side
    }
  return false;
}

std::string fmt(double v) {
  std::ostringstream os;
  os << std::setprecision(3) << v;
  return os.str();
}

// ---- the tests ----------------------------------------------------------------------------
/// Sets the CPU backend's thread count for a scope.  The finite-difference and
/// float tests run their hundreds of tiny rollouts on one thread: on a shared
/// 2-core machine, OpenMP barriers of 2 threads over ~1 ms of work each stall
/// badly whenever another process takes a core (observed: 0.05 s -> 150 s).
/// BackwardIsBitIdenticalAtTwoThreads checks that 2 threads give the same
/// gradient as 1.
struct CpuThreads {
  int before;
  explicit CpuThreads(int n) : before(cpu_threads()) { set_cpu_threads(n); }
  ~CpuThreads() { set_cpu_threads(before); }
};

template <class M, int D>
void check_model_gradients() {
  const CpuThreads threads(1);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string model = M::kName;
  const std::string tag = "[" + model + " " + std::to_string(D) + "D] ";
  const Scene<D> sc = base_scene<D>(model);
  const Fixed<D> fx = make_fixed(sc);
  const auto base = run<double, D>(sc, fx, true, /*record_states=*/true);
  ASSERT_EQ(int(base.states.size()), sc.steps + 1);

  EXPECT_TRUE(touches_wall(sc, base.states, 0, 0)) << "the sticky x-low wall is never reached";
  EXPECT_TRUE(touches_wall(sc, base.states, 0, 1)) << "the slip x-high wall is never reached";
  EXPECT_TRUE(touches_wall(sc, base.states, 1, 0)) << "the separating floor is never reached";
  if constexpr (D == 3) {
    EXPECT_TRUE(touches_wall(sc, base.states, 2, 0)) << "the separating z-low wall is never reached";
    EXPECT_TRUE(touches_wall(sc, base.states, 2, 1)) << "the sticky z-high wall is never reached";
  }
  const YieldStats y = yield_stats(sc, base.states);
  std::cout << tag << fx.n << " particles, " << sc.steps << " substeps of " << fmt(sc.dt * 1e3)
            << " ms; project() changed F in " << y.changed << " of " << y.total << " particle-steps, "
            << y.particles_yielded << " particles yielded\n";
  if (M::kHasPlasticity) {
    EXPECT_GE(y.particles_yielded, fx.n / 10)
        << model << " barely yields with these parameters: add or adjust its entry in model_parameters()";
  } else {
    EXPECT_EQ(y.changed, 0) << model << " is elastic, yet F changed beyond (I + dt C) F";
  }

  const auto qs = quantities(sc);
  const auto adj = adjoint_values(sc, fx, base, qs);
  for (int k = 0; k < M::kNumParams; ++k) {  // per-particle rows sum to the per-material gradient
    double sum = 0;
    for (const auto& row : base.grad.parameters.per_particle) sum += double(row[std::size_t(k)]);
    const double pm = base.grad.parameters.per_material[0][std::size_t(k)];
    EXPECT_NEAR(sum, pm, 1e-9 * std::max(1.0, std::abs(pm))) << "per_particle vs per_material, parameter " << k;
  }

  const double noise = loss_noise(sc, fx);
  std::cout << tag << "L = " << fmt(double(base.loss)) << ", rounding noise of L " << fmt(noise) << "\n";
  int checked = 0, skipped = 0;
  double worst = 0;
  std::string worst_name = "-";
  for (std::size_t k = 0; k < qs.size(); ++k) {
    const auto& q = qs[k];
    const FiniteDifference fd = finite_difference(sc, fx, q, base.loss, noise);
    const double value = fd.nearest(adj[k]);
    const double err = std::abs(adj[k] - value) / std::max(std::abs(value), kFloor);
    std::ostringstream line;
    line << "  " << std::left << std::setw(21) << q.name << std::setprecision(10) << " adjoint " << std::setw(17)
         << adj[k] << " FD " << std::setw(17) << value << std::setprecision(2) << " h " << std::setw(8) << fd.h
         << " rel.err " << std::setw(8) << err;
    if (fd.values.empty()) {
      ++skipped;
      std::cout << line.str() << " SKIPPED: no finite difference is self-consistent at any step"
                << " (kinks within h; best mismatch " << fmt(fd.mismatch) << ")\n";
      continue;
    }
    ++checked;
    std::cout << line.str() << " " << fd.kind << "\n";
    EXPECT_LE(err, kTol) << tag << q.name << ": adjoint " << adj[k] << " vs FD " << value << " (" << fd.kind
                         << ", h " << fd.h << ")";
    if (err > worst) worst = err, worst_name = q.name;
  }
  EXPECT_GT(checked, 0) << "no finite difference could be trusted";
  EXPECT_LE(skipped * 5, int(qs.size())) << skipped << " of " << qs.size() << " checks skipped";
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << tag << "worst relative error " << fmt(worst) << " (" << worst_name << "), " << checked
            << " checked, " << skipped << " skipped, " << fmt(secs) << " s\n";
  ::testing::Test::RecordProperty("worst_relative_error", fmt(worst));
  ::testing::Test::RecordProperty("worst_quantity", worst_name);
  ::testing::Test::RecordProperty("skipped_checks", skipped);
}

/// The float32 gradient of the same rollout against the double one.
template <class M, int D>
void report_float_error() {
  const CpuThreads threads(1);
  const std::string model = M::kName;
  const std::string tag = "[" + model + " " + std::to_string(D) + "D] ";
  const Scene<D> sc = base_scene<D>(model);
  const Fixed<D> fx = make_fixed(sc);
  const auto qs = quantities(sc);
  const auto rd = run<double, D>(sc, fx, true);
  const auto rf = run<float, D>(sc, fx, true);
  const auto gd = adjoint_values(sc, fx, rd, qs);
  const auto gf = adjoint_values(sc, fx, rf, qs);
  std::vector<double> rel;
  double worst = 0;
  std::string worst_name, table;
  for (std::size_t k = 0; k < qs.size(); ++k) {
    rel.push_back(std::abs(gf[k] - gd[k]) / std::max(std::abs(gd[k]), kFloor));
    table += " " + qs[k].name + "=" + fmt(rel.back());
    if (rel.back() > worst) worst = rel.back(), worst_name = qs[k].name;
  }
  std::vector<double> sorted = rel;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::cout << tag << "float32 loss rel. diff " << fmt(double(std::abs(rf.loss - rd.loss) / std::abs(rd.loss)))
            << "; float32 vs double gradient, rel. diff:" << table << "\n"
            << tag << "float32 gradient: worst " << fmt(worst) << " (" << worst_name << "), median " << fmt(median)
            << "\n";
  ::testing::Test::RecordProperty("float32_worst_relative_error", fmt(worst));
  ::testing::Test::RecordProperty("float32_worst_quantity", worst_name);
  ::testing::Test::RecordProperty("float32_median_relative_error", fmt(median));
  EXPECT_LT(median, kFloatMedian) << tag << "float32 gradient";
  EXPECT_LT(worst, kFloatMax) << tag << "float32 gradient of " << worst_name;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <class M, int D>
void check_deterministic_backward() {
  const Scene<D> sc = base_scene<D>(M::kName);
  const Fixed<D> fx = make_fixed(sc);
  // Every state stored (no recomputation): fewer 2-thread kernel launches.
  const int all_states = sc.steps + 1;
  RunResult<double, D> a, b, serial;
  {
    const CpuThreads threads(2);
    a = run<double, D>(sc, fx, true, false, all_states);
    b = run<double, D>(sc, fx, true, false, all_states);
  }
  {
    const CpuThreads threads(1);
    serial = run<double, D>(sc, fx, true, false, all_states);
  }
  ASSERT_EQ(a.grad.initial_state.x.size(), fx.n);
  // Two threads against one: the same gradient (to rounding, if not bit for bit).
  const auto qs = quantities(sc);
  const auto g2 = adjoint_values(sc, fx, a, qs), g1 = adjoint_values(sc, fx, serial, qs);
  bool identical = same_bits(a.grad.initial_state.x, serial.grad.initial_state.x) &&
                   same_bits(a.grad.parameters.per_material, serial.grad.parameters.per_material);
  for (std::size_t k = 0; k < qs.size(); ++k)
    EXPECT_NEAR(g2[k], g1[k], 1e-12 * std::max(std::abs(g1[k]), kFloor)) << qs[k].name << ": 2 threads vs 1";
  std::cout << "[" << M::kName << " " << D << "D] gradient at 2 threads vs 1: "
            << (identical ? "bit-identical" : "equal to rounding") << "\n";
  EXPECT_TRUE(same_bits(a.grad.initial_state.x, b.grad.initial_state.x));
  EXPECT_TRUE(same_bits(a.grad.initial_state.v, b.grad.initial_state.v));
  EXPECT_TRUE(same_bits(a.grad.initial_state.F, b.grad.initial_state.F));
  EXPECT_TRUE(same_bits(a.grad.initial_state.C, b.grad.initial_state.C));
  EXPECT_TRUE(same_bits(a.grad.initial_state.plastic, b.grad.initial_state.plastic));
  EXPECT_TRUE(same_bits(a.grad.parameters.per_material, b.grad.parameters.per_material));
  EXPECT_TRUE(same_bits(a.grad.parameters.per_particle, b.grad.parameters.per_particle));
  EXPECT_TRUE(same_bits(a.grad.parameters.mass, b.grad.parameters.mass));
  EXPECT_TRUE(same_bits(a.grad.parameters.wall_friction, b.grad.parameters.wall_friction));
  EXPECT_TRUE(same_bits(a.grad.density, b.grad.density));
  for (int step = 0; step < sc.steps; ++step)
    EXPECT_TRUE(same_bits(a.force_grad[std::size_t(step)], b.force_grad[std::size_t(step)])) << "forces, step " << step;
}

template <class List>
struct GTestTypes;
template <class... Ms>
struct GTestTypes<materials::ModelList<Ms...>> {
  using type = ::testing::Types<Ms...>;
};

struct ModelName {
  template <class M>
  static std::string GetName(int) {
    return M::kName;
  }
};

template <class M>
class RolloutAllModels : public ::testing::Test {};
TYPED_TEST_SUITE(RolloutAllModels, GTestTypes<materials::AllModels>::type, ModelName);

TYPED_TEST(RolloutAllModels, GradientsMatchFiniteDifferences2D) { check_model_gradients<TypeParam, 2>(); }
TYPED_TEST(RolloutAllModels, GradientsMatchFiniteDifferences3D) { check_model_gradients<TypeParam, 3>(); }
TYPED_TEST(RolloutAllModels, Float32GradientErrorIsReported2D) { report_float_error<TypeParam, 2>(); }
TYPED_TEST(RolloutAllModels, Float32GradientErrorIsReported3D) { report_float_error<TypeParam, 3>(); }
TYPED_TEST(RolloutAllModels, BackwardIsBitIdenticalAtTwoThreads2D) { check_deterministic_backward<TypeParam, 2>(); }
TYPED_TEST(RolloutAllModels, BackwardIsBitIdenticalAtTwoThreads3D) { check_deterministic_backward<TypeParam, 3>(); }

}  // namespace
}  // namespace pl::test
