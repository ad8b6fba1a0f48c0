// Adjoint of one MPM substep (AdjG2P, AdjGridUpdate with every wall type,
// AdjP2G; MpmBackend::adjoint_substep) against central finite differences in
// double precision, 2D and 3D.
//
// The loss is L = sum of random weights . s_{n+1} over every particle's x, v,
// F, C and plastic, so dL/ds_{n+1} = weights.  Finite differences use
// Richardson-extrapolated central differences (error O(h^4)), so a relative
// error <= 1e-6 is a real check, not a tolerance tuned to the step.  The scene
// puts small clusters of particles against each wall face (sticky, slip,
// separate with Coulomb friction, moving into the wall with enough tangential
// speed that the friction branch is active), in a corner where walls chain, and
// in the bulk; positions keep clear of the spline knots (half-integer grid
// coordinates) so the FD stencil stays in one smooth piece.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <random>

#include "engine/core/error.hpp"
#include "kernels/mpm/boundary.hpp"
#include "kernels/mpm/grid_update.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

using R = double;
constexpr double kTol = 1e-6;

/// Central difference of f at 0, Richardson-extrapolated from steps h and h/2
/// (error O(h^4)).  The substep is piecewise smooth (wall branches, plastic
/// clamps such as snow's singular-value box, yield surfaces): when D(h) and
/// D(h/2) disagree by more than a smooth function allows (their difference is
/// O(h^2), < 1e-8 of the field's typical derivative `scale` here), the step
/// straddles a kink and is retried 20x smaller.
double central_difference(const std::function<double(double)>& f, double h, double scale = 0) {
  double d1 = 0, d2 = 0;
  for (int attempt = 0; attempt < 4; ++attempt, h *= 0.05) {
    d1 = (f(h) - f(-h)) / (2 * h);
    d2 = (f(h / 2) - f(-h / 2)) / h;
    if (std::abs(d1 - d2) <= 1e-5 * std::max({std::abs(d1), std::abs(d2), scale})) break;
  }
  return (4 * d2 - d1) / 3;
}

/// Relative error of an adjoint value against its finite difference.  `floor`
/// bounds the denominator from below: a component far smaller than its
/// field's typical size (say 1e-5 of it) cannot be resolved by differences in
/// double to 1e-6 of itself, so it is checked relative to that floor instead.
double relative_error(double ad, double fd, double floor = 1e-13) {
  return std::abs(ad - fd) / std::max({std::abs(ad), std::abs(fd), floor});
}

#define EXPECT_GRAD_FLOOR(what, ad, fd, floor)                                                        \
  do {                                                                                                \
    const double ad_ = (ad), fd_ = (fd);                                                              \
    EXPECT_LE(relative_error(ad_, fd_, floor), kTol) << (what) << ": adjoint " << ad_ << ", fd " << fd_; \
  } while (0)
#define EXPECT_GRAD(what, ad, fd) EXPECT_GRAD_FLOOR(what, ad, fd, 1e-13)

// ---- walls (kernel level) ------------------------------------------------------------

template <int D>
Vec<R, D> random_vec(std::mt19937& rng, double scale) {
  std::normal_distribution<double> n(0.0, scale);
  Vec<R, D> v;
  for (int a = 0; a < D; ++a) v[a] = n(rng);
  return v;
}

struct WallCase {
  const char* name;
  WallType type;
  double friction;
  Vec<R, 3> v;  // velocity before the wall; the normal is +y (a floor)
};

TEST(AdjointWalls, EveryTypeAndBranchMatchesFiniteDifferences) {
  const Vec<R, 3> n{{0, 1, 0}};
  const WallCase cases[] = {
      {"sticky", WallType::Sticky, 0.0, {{0.3, -0.7, 0.2}}},
      {"slip, moving in", WallType::Slip, 0.0, {{0.3, -0.7, 0.2}}},
      {"slip, moving out", WallType::Slip, 0.0, {{0.3, 0.7, 0.2}}},
      {"separate, leaving", WallType::Separate, 0.5, {{0.3, 0.7, 0.2}}},
      {"separate, sliding with friction", WallType::Separate, 0.5, {{0.9, -0.7, 0.4}}},
      {"separate, stuck by friction", WallType::Separate, 2.0, {{0.3, -0.7, 0.2}}},
  };
  std::mt19937 rng(7);
  for (const auto& c : cases) {
    const Vec<R, 3> a = random_vec<3>(rng, 1.0);
    Vec<R, 3> adj_v = Vec<R, 3>::zero();
    R adj_mu = 0;
    adj_apply_wall(c.type, c.friction, n, c.v, a, adj_v, adj_mu);
    for (int k = 0; k < 3; ++k) {
      const double fd = central_difference(
          [&](double h) {
            Vec<R, 3> v = c.v;
            v[k] += h;
            return dot(a, apply_wall(c.type, R(c.friction), n, v));
          },
          1e-4);
      EXPECT_GRAD(std::string(c.name) + " dv" + std::to_string(k), adj_v[k], fd);
    }
    const double fd_mu = central_difference(
        [&](double h) { return dot(a, apply_wall(c.type, R(c.friction + h), n, c.v)); }, 1e-4);
    EXPECT_GRAD(std::string(c.name) + " dmu", adj_mu, fd_mu);
    if (std::string(c.name) == "separate, sliding with friction") EXPECT_NE(adj_mu, 0.0);
  }
}

TEST(AdjointWalls, SeparateWithZeroTangentialSpeedIsStuckWithFrictionAndSlipsWithout) {
  // |v_t| = 0 exactly, pressing straight in: every floor node under a body
  // that starts at rest.  With mu > 0 all nearby v_t are stuck (out = 0 in a
  // neighbourhood), so the derivative is 0; with mu = 0 the wall is a slip.
  // Checked against finite differences (this case once took the slip branch
  // for any mu and made gradcheck of sand_pile_3d fail).
  const Vec<R, 2> n{{0, 1}}, v{{0, -1}}, a{{0.3, -0.8}};
  for (double mu : {0.5, 0.0}) {
    Vec<R, 2> adj_v = Vec<R, 2>::zero();
    R adj_mu = 0;
    adj_apply_wall(WallType::Separate, R(mu), n, v, a, adj_v, adj_mu);
    for (int k = 0; k < 2; ++k) {
      const double fd = central_difference(
          [&](double h) {
            Vec<R, 2> w = v;
            w[k] += h;
            return dot(a, apply_wall(WallType::Separate, R(mu), n, w));
          },
          1e-4);
      EXPECT_GRAD_FLOOR("mu " + std::to_string(mu) + " dv" + std::to_string(k), adj_v[k], fd, 1e-12);
    }
    EXPECT_DOUBLE_EQ(adj_v[0], mu > 0 ? 0.0 : 0.3);
    EXPECT_DOUBLE_EQ(adj_v[1], 0.0);
    EXPECT_EQ(adj_mu, 0.0);
  }
}

TEST(AdjointWalls, CornerNodesChainTheWallsAndAccumulate) {
  WallConditions<R, 3> walls;
  walls.bound = 2;
  walls.type[0][0] = WallType::Sticky, walls.friction[0][0] = 0;
  walls.type[0][1] = WallType::Separate, walls.friction[0][1] = 0.25;
  walls.type[1][0] = WallType::Separate, walls.friction[1][0] = 0.3;
  walls.type[1][1] = WallType::Separate, walls.friction[1][1] = 0.3;
  walls.type[2][0] = WallType::Separate, walls.friction[2][0] = 0.2;
  walls.type[2][1] = WallType::Sticky, walls.friction[2][1] = 0;
  const int res[3] = {10, 10, 10};
  // x-high, y-low and z-low walls, all separate: friction slides on x-high and
  // on the floor, and the z-low wall sees the material leave (identity branch).
  const int corner[3] = {9, 0, 1};
  const Vec<R, 3> v{{0.8, -0.3, 0.9}}, a{{0.7, -0.2, 0.5}};
  Vec<R, 3> adj_v = Vec<R, 3>::zero();
  R adj_mu[3][2] = {};
  adj_apply_walls(walls, corner, res, v, a, adj_v, adj_mu);
  for (int k = 0; k < 3; ++k) {
    const double fd = central_difference(
        [&](double h) {
          Vec<R, 3> u = v;
          u[k] += h;
          return dot(a, apply_walls(walls, corner, res, u));
        },
        1e-4);
    EXPECT_GRAD("corner dv" + std::to_string(k), adj_v[k], fd);
  }
  for (int ax = 0; ax < 3; ++ax)
    for (int s = 0; s < 2; ++s) {
      const double fd = central_difference(
          [&](double h) {
            WallConditions<R, 3> w = walls;
            w.friction[ax][s] += h;
            return dot(a, apply_walls(w, corner, res, v));
          },
          1e-4);
      EXPECT_GRAD("corner dmu[" + std::to_string(ax) + "][" + std::to_string(s) + "]", adj_mu[ax][s], fd);
    }
  EXPECT_NE(adj_mu[0][1], 0.0);  // both friction branches are active at this node
  EXPECT_NE(adj_mu[1][0], 0.0);
  EXPECT_EQ(adj_mu[2][0], 0.0);
  // Accumulates: a second call adds the same amounts again.
  const Vec<R, 3> once = adj_v;
  const R mu_once = adj_mu[1][0];
  adj_apply_walls(walls, corner, res, v, a, adj_v, adj_mu);
  for (int k = 0; k < 3; ++k) EXPECT_DOUBLE_EQ(adj_v[k], 2 * once[k]);
  EXPECT_DOUBLE_EQ(adj_mu[1][0], 2 * mu_once);
}

// ---- grid update (kernel level): zero-mass nodes --------------------------------------

TEST(AdjointGridUpdate, ZeroMassNodesContributeNothingAndMassiveNodesMatchFiniteDifferences) {
  constexpr int D = 2;
  const int res = 8;
  const std::size_t nodes = res * res;
  std::vector<Vec<R, D>> momentum(nodes, Vec<R, D>{{0.2, -0.1}}), velocity(nodes), adj_v(nodes, Vec<R, D>{{1.0, -2.0}}),
      adj_momentum(nodes, Vec<R, D>::zero());
  std::vector<R> mass(nodes, 0.5), adj_mass(nodes, 0.0);
  const std::size_t empty = 3 * res + 4, full = 4 * res + 4;
  mass[empty] = 0;
  momentum[empty] = Vec<R, D>::zero();
  adj_v[empty] = Vec<R, D>{{std::numeric_limits<R>::quiet_NaN(), 1.0}};  // never read
  GridView<R, D> grid{momentum.data(), mass.data(), velocity.data(), {res, res}, Vec<R, D>::zero(), 0.1, 10.0};
  GridAdjointView<R, D> adj_grid{adj_v.data(), adj_momentum.data(), adj_mass.data()};
  WallConditions<R, D> walls;
  walls.bound = 2;
  for (int a = 0; a < D; ++a)
    for (int s = 0; s < 2; ++s) walls.type[a][s] = WallType::Separate, walls.friction[a][s] = 0.3;
  R friction[2 * D] = {};
  std::uint64_t fault = kNoFault;
  const Vec<R, D> gravity{{0, -9.8}};
  const AdjGridUpdate<R, D, PlainAccumulate> adjoint{grid, adj_grid, walls, gravity, 1e-3, 0.99, friction, &fault};
  for (std::size_t i = 0; i < nodes; ++i) adjoint(i);
  EXPECT_EQ(fault, kNoFault);
  EXPECT_EQ(adj_momentum[empty][0], 0.0);
  EXPECT_EQ(adj_momentum[empty][1], 0.0);
  EXPECT_EQ(adj_mass[empty], 0.0);
  // A node with mass: d(adj_v . v)/dm by finite differences of the forward.
  auto forward = [&](double dm, int dk, double dM) {
    std::vector<Vec<R, D>> mom = momentum, vel(nodes);
    std::vector<R> m = mass;
    m[full] += dm;
    if (dk >= 0) mom[full][dk] += dM;
    GridView<R, D> g = grid;
    g.momentum = mom.data(), g.mass = m.data(), g.velocity = vel.data();
    GridUpdate<R, D>{g, walls, gravity, 1e-3, 0.99}(full);
    return dot(adj_v[full], vel[full]);
  };
  EXPECT_GRAD("grid mass", adj_mass[full], central_difference([&](double h) { return forward(h, -1, 0); }, 1e-5));
  for (int k = 0; k < D; ++k)
    EXPECT_GRAD("grid momentum", adj_momentum[full][k],
                central_difference([&](double h) { return forward(0, k, h); }, 1e-5));
}

// ---- one substep through the backend ---------------------------------------------------

template <int D>
struct AdjointScene {
  std::unique_ptr<MpmWorld<R, D>> world;
  MpmBackend<R, D>* backend = nullptr;
  ParticleSet<R, D> base;
  std::vector<MaterialSlot<R>> slots;
  SubstepParams<R, D> params;
  ParticleAdjoint<R, D> weights;  // dL/ds_{n+1}
  std::vector<std::size_t> probes;  // one particle per wall-face cluster, the corner and the bulk
  std::vector<std::string> probe_names;
  std::size_t tagged = 0;  // the one particle of material 1 (per-particle parameter check)
  int num_params = 0;
  double dx = 0;

  double loss_of(const ParticleSet<R, D>& ps, const std::vector<MaterialSlot<R>>& sl,
                 const SubstepParams<R, D>& pr) const {
    backend->upload(ps, sl);
    const std::uint64_t fault = backend->substep(pr);
    EXPECT_EQ(fault, kNoFault);
    ParticleSet<R, D> out;
    backend->download(out);
    long double L = 0;
    for (std::size_t p = 0; p < out.size(); ++p) {
      L += dot(weights.x[p], out.x[p]) + dot(weights.v[p], out.v[p]) + ddot(weights.F[p], out.F[p]) +
           ddot(weights.C[p], out.C[p]) + weights.plastic[p] * out.plastic[p];
    }
    return double(L);
  }
  double loss(const ParticleSet<R, D>& ps) const { return loss_of(ps, slots, params); }

  struct Gradients {
    ParticleAdjoint<R, D> state;
    ParameterGradients<R, D> params;
    std::vector<Vec<R, D>> force;
    std::uint64_t fault = kNoFault;
  };
  Gradients adjoint(const ParticleAdjoint<R, D>& seed) const {
    backend->upload(base, slots);
    backend->zero_adjoint();
    backend->add_state_adjoint(seed);
    Gradients g;
    g.fault = backend->adjoint_substep(params);
    backend->download_state_adjoint(g.state);
    backend->download_parameter_gradients(g.params);
    backend->download_force_adjoint(g.force);
    return g;
  }
  Gradients adjoint() const { return adjoint(weights); }
};

template <int D>
AdjointScene<D> make_scene(const std::string& model, unsigned seed, int per_cluster = 5) {
  const int cells = D == 2 ? 16 : 12;
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, cells);
  s.dt = 1e-4;
  s.gravity[1] = -9.8;
  s.damping = 10.0;  // velocity_scale = exp(-1e-3): exercised, not negligible
  s.allow_unstable_dt = true;
  // Every wall type: x sticky | slip, y separate (mu 0.4) | separate (mu 0.2), z separate (0.3) | sticky.
  s.walls[0][0] = {WallType::Sticky, 0.0};
  s.walls[0][1] = {WallType::Slip, 0.0};
  s.walls[1][0] = {WallType::Separate, 0.4};
  s.walls[1][1] = {WallType::Separate, 0.2};
  if constexpr (D == 3) {
    s.walls[2][0] = {WallType::Separate, 0.3};
    s.walls[2][1] = {WallType::Sticky, 0.0};
  }
  std::map<std::string, double> params;
  if (model == "weakly_compressible_fluid") params = {{"bulk_modulus", 1e4}, {"gamma", 7.0}, {"viscosity", 1.0}};
  AdjointScene<D> sc;
  sc.dx = s.dx;
  sc.world = std::make_unique<MpmWorld<R, D>>(
      s, std::vector<materials::MaterialDesc>{material(model, params, 1000, "bulk"),
                                              material(model, params, 1000, "tagged")});
  materials::visit_model(sc.world->materials()[0].model_id,
                         [&](auto m) { sc.num_params = int(decltype(m)::kNumParams); });

  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::normal_distribution<double> gauss(0.0, 1.0);
  const double lo = s.bound_cells, hi = cells - s.bound_cells, mid = 0.5 * cells;
  // A grid coordinate near c, at least 0.03 cells from a spline knot (half-integer).
  auto away_from_knots = [&](double c, double spread, double min, double max) {
    while (true) {
      const double g = c + spread * (2 * uni(rng) - 1);
      const double frac = g - std::floor(g);
      if (g >= min && g <= max && std::abs(frac - 0.5) > 0.03) return g;
    }
  };
  struct Cluster {
    std::string name;
    std::array<double, D> center;
    std::array<double, D> velocity;
  };
  std::vector<Cluster> clusters;
  const char* side_name[2] = {"low", "high"};
  for (int a = 0; a < D; ++a)
    for (int side = 0; side < 2; ++side) {
      Cluster c;
      c.name = std::string("axis ") + std::to_string(a) + " " + side_name[side] + " wall";
      for (int b = 0; b < D; ++b) c.center[b] = mid + 0.6 * (b - a) + (side ? 0.4 : -0.4), c.velocity[b] = 0.0;
      c.center[a] = side == 0 ? lo + 0.25 : hi - 0.25;  // stencil reaches the first layer node
      c.velocity[a] = side == 0 ? -0.5 : 0.5;           // moving into the wall
      c.velocity[(a + 1) % D] = 0.9;                    // tangential: friction slides, not sticks
      if (D == 3) c.velocity[(a + 2) % D] = -0.3;
      clusters.push_back(c);
    }
  {
    Cluster c{"corner", {}, {}};
    c.center.fill(lo + 0.25);
    c.center[0] = hi - 0.25;
    c.velocity.fill(-0.5);
    c.velocity[0] = 0.6;
    if (D == 3) c.velocity[2] = -0.9;
    clusters.push_back(c);
    Cluster b{"bulk", {}, {}};
    b.center.fill(mid + 0.2);
    b.velocity.fill(0.2);
    clusters.push_back(b);
  }
  std::vector<std::array<double, D>> positions;
  std::vector<std::array<double, D>> velocities;
  for (const auto& c : clusters) {
    for (int k = 0; k < per_cluster; ++k) {
      std::array<double, D> g{};
      for (int a = 0; a < D; ++a) {
        const bool wall_axis = c.center[a] < lo + 0.5 || c.center[a] > hi - 0.5;
        g[a] = away_from_knots(c.center[a], wall_axis ? 0.2 : 0.45, lo + 0.02, hi - 0.02);
      }
      if (k == 0) {
        sc.probes.push_back(positions.size());
        sc.probe_names.push_back(c.name);
      }
      std::array<double, D> x{};
      for (int a = 0; a < D; ++a) x[a] = g[a] * s.dx;
      positions.push_back(x);
      velocities.push_back(c.velocity);
    }
  }
  const double volume = std::pow(s.dx / 2, D);
  sc.world->add_body("probe", positions, 0, filled<D>(0.0), volume);

  ParticleSet<R, D> p = sc.world->particles();
  const std::size_t n = p.size();
  p.force.assign(n, Vec<R, D>::zero());
  for (std::size_t i = 0; i < n; ++i) {
    for (int a = 0; a < D; ++a) {
      p.v[i][a] = velocities[i][a] + 0.1 * gauss(rng);
      p.force[i][a] = 5.0 * p.mass[i] * gauss(rng);
      for (int b = 0; b < D; ++b) {
        p.F[i](a, b) = (a == b ? 1.0 : 0.0) + 0.03 * gauss(rng);
        p.C[i](a, b) = 2.0 * gauss(rng);
      }
    }
    p.plastic[i] += 0.01 * gauss(rng);
  }
  sc.tagged = sc.probes.back() + 1;  // a bulk particle gets the second material
  p.material[sc.tagged] = 1;
  sc.world->set_particles(p);
  sc.backend = &sc.world->mpm_backend();
  sc.base = p;

  for (const auto& m : sc.world->materials()) {
    MaterialSlot<R> slot;
    slot.model_id = m.model_id;
    for (int k = 0; k < materials::kMaxParams; ++k) slot.params[k] = R(m.params[k]);
    sc.slots.push_back(slot);
  }
  sc.params.dt = R(s.dt);
  sc.params.velocity_scale = R(std::exp(-s.damping * s.dt));
  sc.params.walls.bound = s.bound_cells;
  for (int a = 0; a < D; ++a) {
    sc.params.gravity[a] = R(s.gravity[a]);
    for (int side = 0; side < 2; ++side) {
      sc.params.walls.type[a][side] = s.walls[a][side].type;
      sc.params.walls.friction[a][side] = R(s.walls[a][side].friction);
    }
  }
  sc.weights.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (int a = 0; a < D; ++a) {
      sc.weights.x[i][a] = gauss(rng);
      sc.weights.v[i][a] = gauss(rng);
      for (int b = 0; b < D; ++b) {
        sc.weights.F[i](a, b) = gauss(rng);
        sc.weights.C[i](a, b) = gauss(rng);
      }
    }
    sc.weights.plastic[i] = gauss(rng);
  }
  return sc;
}

template <int D>
double dot_adjoint(const ParticleAdjoint<R, D>& a, const ParticleAdjoint<R, D>& b) {
  long double s = 0;
  for (std::size_t p = 0; p < a.size(); ++p)
    s += dot(a.x[p], b.x[p]) + dot(a.v[p], b.v[p]) + ddot(a.F[p], b.F[p]) + ddot(a.C[p], b.C[p]) +
         a.plastic[p] * b.plastic[p];
  return double(s);
}

template <int D>
ParticleSet<R, D> perturbed(const ParticleSet<R, D>& base, const ParticleAdjoint<R, D>& dir, double h) {
  ParticleSet<R, D> p = base;
  for (std::size_t i = 0; i < p.size(); ++i) {
    p.x[i] += h * dir.x[i];
    p.v[i] += h * dir.v[i];
    p.F[i] += h * dir.F[i];
    p.C[i] += h * dir.C[i];
    p.plastic[i] += h * dir.plastic[i];
  }
  return p;
}

enum class Field { X, V, F, C, Plastic };
const char* field_name(Field f) {
  switch (f) {
    case Field::X: return "x";
    case Field::V: return "v";
    case Field::F: return "F";
    case Field::C: return "C";
    case Field::Plastic: return "plastic";
  }
  return "?";
}

/// A direction in one field: all particles (particle = npos) or one entry of one particle.
template <int D>
ParticleAdjoint<R, D> direction(std::size_t n, Field f, std::mt19937& rng, double scale,
                                std::size_t particle = std::size_t(-1), int entry = -1) {
  std::normal_distribution<double> gauss(0.0, 1.0);
  ParticleAdjoint<R, D> d;
  d.resize(n);
  for (std::size_t p = 0; p < n; ++p) {
    if (particle != std::size_t(-1) && p != particle) continue;
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) {
        const int k = a * D + b;
        const double value = particle == std::size_t(-1) ? scale * gauss(rng) : (k == entry ? scale : 0.0);
        if (f == Field::F) d.F[p](a, b) = value;
        if (f == Field::C) d.C[p](a, b) = value;
        if (b == 0 && (f == Field::X || f == Field::V)) {
          const double vv = particle == std::size_t(-1) ? scale * gauss(rng) : (a == entry ? scale : 0.0);
          (f == Field::X ? d.x : d.v)[p][a] = vv;
        }
      }
    if (f == Field::Plastic) d.plastic[p] = particle == std::size_t(-1) ? scale * gauss(rng) : scale;
  }
  return d;
}

int field_entries(Field f, int D) {
  return f == Field::Plastic ? 1 : (f == Field::X || f == Field::V ? D : D * D);
}

template <int D>
void check_substep_gradients(const std::string& model) {
  SCOPED_TRACE(model + " " + std::to_string(D) + "D");
  AdjointScene<D> sc = make_scene<D>(model, 11 + D);
  const auto g = sc.adjoint();
  ASSERT_EQ(g.fault, kNoFault);
  const std::size_t n = sc.base.size();
  std::mt19937 rng(3);
  // Directions are scaled so that a unit step changes the output state by
  // O(1) (per cell, per m/s): with the FD step h = 1e-4 the perturbations are
  // large enough that the rounding of s_{n+1} (~1e-16 |s|) stays far below the
  // change (~1e-4 |s|), and small enough to stay on one smooth piece (spline
  // knots are >= 0.03 cells away, wall branches far from switching).
  const double h = 1e-4;
  const Field fields[] = {Field::X, Field::V, Field::F, Field::C, Field::Plastic};
  auto scale_of = [&](Field f) {
    switch (f) {
      case Field::X: return sc.dx;
      case Field::V: return 1.0;
      case Field::F: return 1.0;
      case Field::C: return 10.0;
      case Field::Plastic: return 1.0;
    }
    return 1.0;
  };
  double worst = 0;
  // Checks are relative; `floor` (1e-4 of the quantity's typical size) bounds
  // the denominator so components far below that size are held to an
  // absolute 1e-10 of it, which is what differences in double can resolve.
  auto check = [&](const std::string& what, double ad, double fd, double floor = 1e-13) {
    worst = std::max(worst, relative_error(ad, fd, floor));
    EXPECT_GRAD_FLOOR(what, ad, fd, floor);
  };
  // RMS of one field's scaled gradient components: the floor for per-entry checks.
  auto rms = [&](Field f) {
    double sum = 0;
    const double sc2 = scale_of(f) * scale_of(f);
    for (std::size_t p = 0; p < n; ++p) {
      for (int a = 0; a < D; ++a) {
        if (f == Field::X) sum += sc2 * g.state.x[p][a] * g.state.x[p][a];
        if (f == Field::V) sum += sc2 * g.state.v[p][a] * g.state.v[p][a];
        for (int b = 0; b < D; ++b) {
          if (f == Field::F) sum += sc2 * g.state.F[p](a, b) * g.state.F[p](a, b);
          if (f == Field::C) sum += sc2 * g.state.C[p](a, b) * g.state.C[p](a, b);
        }
      }
      if (f == Field::Plastic) sum += sc2 * g.state.plastic[p] * g.state.plastic[p];
    }
    return std::sqrt(sum / double(n * field_entries(f, D)));
  };

  // dL/ds_n: random directions through every particle, then entry by entry
  // for one particle of each wall cluster, the corner and the bulk.
  for (Field f : fields) {
    const auto dir = direction<D>(n, f, rng, scale_of(f));
    check(std::string("dL/d") + field_name(f) + " (all particles)", dot_adjoint(g.state, dir),
          central_difference([&](double t) { return sc.loss(perturbed(sc.base, dir, t)); }, h));
  }
  for (std::size_t k = 0; k < sc.probes.size(); ++k)
    for (Field f : fields)
      for (int e = 0; e < field_entries(f, D); ++e) {
        const auto dir = direction<D>(n, f, rng, scale_of(f), sc.probes[k], e);
        check(std::string("dL/d") + field_name(f) + "[" + std::to_string(e) + "] of the " + sc.probe_names[k] +
                  " particle",
              dot_adjoint(g.state, dir),
              central_difference([&](double t) { return sc.loss(perturbed(sc.base, dir, t)); }, h, rms(f)),
              1e-4 * rms(f));
      }

  // dL/dmass and dL/dforce: all particles, then each probe.
  std::normal_distribution<double> gauss(0.0, 1.0);
  for (std::size_t only = 0; only <= sc.probes.size(); ++only) {
    const bool all = only == sc.probes.size();
    std::vector<double> dm(n, 0.0);
    std::vector<Vec<R, D>> df(n, Vec<R, D>::zero());
    for (std::size_t p = 0; p < n; ++p) {
      if (!all && p != sc.probes[only]) continue;
      dm[p] = sc.base.mass[p] * gauss(rng);                                  // relative change h
      for (int a = 0; a < D; ++a) df[p][a] = sc.base.mass[p] / sc.params.dt * gauss(rng);  // dv ~ h m/s
    }
    double ad_m = 0, ad_f = 0;
    for (std::size_t p = 0; p < n; ++p) ad_m += g.params.mass[p] * dm[p], ad_f += dot(g.force[p], df[p]);
    const std::string where = all ? "all particles" : sc.probe_names[only] + " particle";
    check("dL/dmass (" + where + ")", ad_m, central_difference([&](double t) {
            ParticleSet<R, D> p = sc.base;
            for (std::size_t i = 0; i < n; ++i) p.mass[i] += t * dm[i];
            return sc.loss(p);
          }, h));
    check("dL/dforce (" + where + ")", ad_f, central_difference([&](double t) {
            ParticleSet<R, D> p = sc.base;
            for (std::size_t i = 0; i < n; ++i) p.force[i] += t * df[i];
            return sc.loss(p);
          }, h));
  }

  // Material parameters: per material (material 1 is the single tagged
  // particle, so it also checks that particle's per-particle row).
  // Each parameter is stepped relative to its value (its unit when it is 0);
  // the typical size is the RMS over the material's parameters of |g_k| s_k.
  for (int m = 0; m < 2; ++m) {
    auto step_scale = [&](int k) {
      const double value = sc.slots[m].params[k];
      return value != 0 ? std::abs(value) : 1.0;
    };
    double typical = 0;
    for (int k = 0; k < sc.num_params; ++k)
      typical += std::pow(g.params.per_material[m][k] * step_scale(k), 2) / sc.num_params;
    typical = std::sqrt(typical);
    for (int k = 0; k < sc.num_params; ++k) {
      const double scale = typical / step_scale(k);
      check("dL/dparam[" + std::to_string(k) + "] of material " + std::to_string(m), g.params.per_material[m][k],
            central_difference([&](double t) {
              auto slots = sc.slots;
              slots[m].params[k] += t;
              return sc.loss_of(sc.base, slots, sc.params);
            }, 1e-3 * step_scale(k), scale),
            1e-4 * scale);
    }
  }
  for (int k = 0; k < materials::kMaxParams; ++k) {
    EXPECT_EQ(g.params.per_material[1][k], g.params.per_particle[sc.tagged][k]);
    double sum = 0;
    for (std::size_t p = 0; p < n; ++p)
      if (sc.base.material[p] == 0) sum += g.params.per_particle[p][k];
    EXPECT_EQ(g.params.per_material[0][k], sum);
  }

  // Wall friction of every face; the separate faces must be in sliding contact.
  ASSERT_EQ(g.params.wall_friction.size(), 1u);
  for (int a = 0; a < D; ++a)
    for (int side = 0; side < 2; ++side) {
      const double ad = g.params.wall_friction[0][a][side];
      check("dL/dfriction[" + std::to_string(a) + "][" + std::to_string(side) + "]", ad,
            central_difference([&](double t) {
              SubstepParams<R, D> pr = sc.params;
              pr.walls.friction[a][side] += t;
              return sc.loss_of(sc.base, sc.slots, pr);
            }, 1e-4));
      if (sc.params.walls.type[a][side] == WallType::Separate)
        EXPECT_NE(ad, 0.0) << "face [" << a << "][" << side << "] is not in sliding contact: the scene tests nothing";
      else
        EXPECT_EQ(ad, 0.0);
    }
  std::cout << "[ adjoint ] " << model << " " << D << "D: worst relative error vs finite differences " << worst
            << "\n";
}

/// Every model with adjoints (kHasAdjoint), in 2D and 3D.
template <int D>
void check_all_models() {
  int checked = 0;
  materials::for_each_model([&](auto m) {
    using M = decltype(m);
    if constexpr (M::kHasAdjoint) {
      check_substep_gradients<D>(M::kName);
      ++checked;
    }
  });
  EXPECT_GE(checked, 1);
}

TEST(AdjointSubstep, MatchesFiniteDifferencesForEveryModelWithAdjoints2D) { check_all_models<2>(); }
TEST(AdjointSubstep, MatchesFiniteDifferencesForEveryModelWithAdjoints3D) { check_all_models<3>(); }

TEST(AdjointSubstep, StateAndParameterGradientsAccumulateAndForceGradientIsPerSubstep) {
  auto sc = make_scene<2>("weakly_compressible_fluid", 5);
  const auto once = sc.adjoint();
  ASSERT_EQ(once.fault, kNoFault);

  // add_state_adjoint accumulates: seeding twice doubles dL/ds_n (the map is linear).
  sc.backend->upload(sc.base, sc.slots);
  sc.backend->zero_adjoint();
  sc.backend->add_state_adjoint(sc.weights);
  sc.backend->add_state_adjoint(sc.weights);
  ParticleAdjoint<R, 2> seeded;
  sc.backend->download_state_adjoint(seeded);
  EXPECT_EQ(seeded.x[3][0], 2 * sc.weights.x[3][0]);
  ASSERT_EQ(sc.backend->adjoint_substep(sc.params), kNoFault);
  ParticleAdjoint<R, 2> twice;
  sc.backend->download_state_adjoint(twice);
  for (std::size_t p = 0; p < twice.size(); ++p) {
    EXPECT_NEAR(twice.x[p][0], 2 * once.state.x[p][0], 1e-12 * (1 + std::abs(once.state.x[p][0])));
    EXPECT_NEAR(twice.F[p](0, 1), 2 * once.state.F[p](0, 1), 1e-12 * (1 + std::abs(once.state.F[p](0, 1))));
  }

  // Two substeps back to back: parameter, mass and friction gradients are the
  // sums of the two calls; the force gradient is that of the second call only.
  sc.backend->upload(sc.base, sc.slots);
  sc.backend->zero_adjoint();
  sc.backend->add_state_adjoint(sc.weights);
  ASSERT_EQ(sc.backend->adjoint_substep(sc.params), kNoFault);
  ASSERT_EQ(sc.backend->adjoint_substep(sc.params), kNoFault);
  ParameterGradients<R, 2> both;
  std::vector<Vec<R, 2>> force_both;
  sc.backend->download_parameter_gradients(both);
  sc.backend->download_force_adjoint(force_both);
  const auto second = sc.adjoint(once.state);  // the second call alone, seeded with its input
  for (std::size_t p = 0; p < sc.base.size(); ++p) {
    for (int k = 0; k < sc.num_params; ++k)
      EXPECT_NEAR(both.per_particle[p][k], once.params.per_particle[p][k] + second.params.per_particle[p][k],
                  1e-10 * (std::abs(once.params.per_particle[p][k]) + std::abs(second.params.per_particle[p][k])));
    EXPECT_NEAR(both.mass[p], once.params.mass[p] + second.params.mass[p],
                1e-10 * (std::abs(once.params.mass[p]) + std::abs(second.params.mass[p])));
    for (int a = 0; a < 2; ++a) EXPECT_DOUBLE_EQ(force_both[p][a], second.force[p][a]);
  }
  for (int a = 0; a < 2; ++a)
    for (int s = 0; s < 2; ++s)
      EXPECT_NEAR(both.wall_friction[0][a][s], once.params.wall_friction[0][a][s] + second.params.wall_friction[0][a][s],
                  1e-10 * (std::abs(once.params.wall_friction[0][a][s]) + std::abs(second.params.wall_friction[0][a][s])));

  // zero_adjoint clears everything.
  sc.backend->zero_adjoint();
  ParameterGradients<R, 2> cleared;
  sc.backend->download_parameter_gradients(cleared);
  EXPECT_EQ(cleared.mass[0], 0.0);
  EXPECT_EQ(cleared.per_material[0][0], 0.0);
  EXPECT_EQ(cleared.wall_friction[0][1][0], 0.0);
}

TEST(AdjointSubstep, DoesNotChangeTheCurrentState) {
  auto sc = make_scene<3>("weakly_compressible_fluid", 2);
  const auto g = sc.adjoint();
  ASSERT_EQ(g.fault, kNoFault);
  ParticleSet<R, 3> after = sc.base;
  sc.backend->download(after);
  for (std::size_t p = 0; p < after.size(); ++p) {
    EXPECT_EQ(std::memcmp(&after.x[p], &sc.base.x[p], sizeof(after.x[p])), 0);
    EXPECT_EQ(std::memcmp(&after.F[p], &sc.base.F[p], sizeof(after.F[p])), 0);
    EXPECT_EQ(std::memcmp(&after.C[p], &sc.base.C[p], sizeof(after.C[p])), 0);
  }
}

// The backward pass recomputes the forward grid with its own kernel
// (P2GRecordStress, which also keeps each particle's stress and SVD for AdjP2G);
// the adjoint is only the adjoint of the forward that ran if that grid is the
// forward's bit for bit.  Models with and without a factored stress, 1 and 2 threads.
TEST(AdjointSubstep, RecomputedGridIsBitIdenticalToTheForwardGrid) {
  const int saved = omp_get_max_threads();
  for (const char* model : {"fixed_corotated", "snow", "drucker_prager", "stable_neo_hookean"}) {
    auto sc = make_scene<3>(model, 31, /*per_cluster=*/20);
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      std::vector<R> mass_fwd, mass_adj;
      std::vector<Vec<R, 3>> vel_fwd, vel_adj;
      sc.backend->upload(sc.base, sc.slots);
      ASSERT_EQ(sc.backend->substep(sc.params), kNoFault);
      sc.backend->download_grid(mass_fwd, vel_fwd);
      ASSERT_EQ(sc.adjoint().fault, kNoFault);
      sc.backend->download_grid(mass_adj, vel_adj);
      ASSERT_FALSE(mass_fwd.empty());
      EXPECT_EQ(std::memcmp(mass_fwd.data(), mass_adj.data(), mass_fwd.size() * sizeof(R)), 0) << model << ", " << threads;
      EXPECT_EQ(std::memcmp(vel_fwd.data(), vel_adj.data(), vel_fwd.size() * sizeof(vel_fwd[0])), 0)
          << model << ", " << threads << " threads";
    }
  }
  omp_set_num_threads(saved);
}

TEST(AdjointSubstep, NonFiniteAdjointIsReportedWithKernelParticleAndQuantity) {
  auto sc = make_scene<2>("weakly_compressible_fluid", 9);
  ParticleAdjoint<R, 2> seed = sc.weights;
  seed.plastic[12] = std::numeric_limits<R>::infinity();
  seed.F[7](1, 0) = std::numeric_limits<R>::quiet_NaN();
  const auto g = sc.adjoint(seed);
  ASSERT_NE(g.fault, kNoFault);
  EXPECT_TRUE(is_adjoint_fault(g.fault));
  EXPECT_EQ(adjoint_key_kernel(g.fault), kAdjKernelG2P);
  EXPECT_EQ(adjoint_key_index(g.fault), 7u);  // the lowest bad particle wins
  EXPECT_EQ(adjoint_key_quantity(g.fault), kAdjQuantityF);
  EXPECT_NE(std::string(adjoint_quantity_name(adjoint_key_quantity(g.fault))).find("dL/dF"), std::string::npos);
  EXPECT_NE(std::string(adjoint_kernel_name(adjoint_key_kernel(g.fault))).find("AdjG2P"), std::string::npos);
  // Forward fault keys are never mistaken for adjoint ones.
  EXPECT_FALSE(is_adjoint_fault(fault_key(7, kFaultPositionNotFinite)));
  EXPECT_FALSE(is_adjoint_fault(kNoFault));
}

TEST(AdjointSubstep, RefusesModelsWithoutAdjointsNamingThem) {
  // A registered model without adjoints if one exists; always a slot whose
  // model id is unknown (no adjoint either), which must be refused too.
  std::string without;
  materials::for_each_model([&](auto m) {
    if (!decltype(m)::kHasAdjoint && without.empty()) without = decltype(m)::kName;
  });
  auto sc = make_scene<2>("weakly_compressible_fluid", 6);
  std::vector<std::pair<int, std::string>> cases = {{9999, "model id 9999"}};
  if (!without.empty()) {
    materials::for_each_model([&](auto m) {
      if (decltype(m)::kName == without) cases.push_back({materials::model_id<decltype(m)>(), without});
    });
  }
  for (const auto& [id, name] : cases) {
    auto slots = sc.slots;
    slots[1].model_id = id;  // the tagged particle's material
    sc.backend->upload(sc.base, slots);
    sc.backend->zero_adjoint();
    try {
      sc.backend->adjoint_substep(sc.params);
      ADD_FAILURE() << "expected InputError for " << name;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  // An unused material without adjoints is fine: only the particles' models count.
  auto slots = sc.slots;
  slots.push_back(slots[0]);
  slots.back().model_id = 9999;
  sc.backend->upload(sc.base, slots);
  sc.backend->zero_adjoint();
  sc.backend->add_state_adjoint(sc.weights);
  EXPECT_EQ(sc.backend->adjoint_substep(sc.params), kNoFault);
}

TEST(AdjointSubstep, SavedStatesRoundTrip) {
  auto sc = make_scene<2>("weakly_compressible_fluid", 4);
  auto& b = *sc.backend;
  b.upload(sc.base, sc.slots);
  b.free_states();
  EXPECT_EQ(b.state_bytes(), sc.base.size() * (2 * sizeof(Vec<R, 2>) + 2 * sizeof(Mat<R, 2>) + sizeof(R)));
  const int s0 = b.save_state();
  ASSERT_EQ(b.substep(sc.params), kNoFault);
  const int s1 = b.save_state();
  EXPECT_EQ(s0, 0);
  EXPECT_EQ(s1, 1);
  b.load_state(s0);
  ParticleSet<R, 2> p = sc.base;
  b.download(p);
  EXPECT_EQ(std::memcmp(p.x.data(), sc.base.x.data(), p.x.size() * sizeof(p.x[0])), 0);
  EXPECT_EQ(std::memcmp(p.C.data(), sc.base.C.data(), p.C.size() * sizeof(p.C[0])), 0);
  b.save_state(s1);  // overwrite slot 1 with s_0
  b.load_state(s1);
  b.download(p);
  EXPECT_EQ(std::memcmp(p.F.data(), sc.base.F.data(), p.F.size() * sizeof(p.F[0])), 0);
  EXPECT_THROW(b.load_state(2), std::out_of_range);
  b.free_states();
  EXPECT_THROW(b.load_state(0), std::out_of_range);
}

// ---- determinism ---------------------------------------------------------------------------

template <class T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

TEST(AdjointSubstep, CpuGradientsAreBitIdenticalRunToRunAndAgreeAcrossThreadCounts) {
  auto sc = make_scene<2>("weakly_compressible_fluid", 21, /*per_cluster=*/80);
  const int saved = omp_get_max_threads();
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    auto g = sc.adjoint();
    // A second substep, so the scattered grid adjoint of one feeds the next.
    sc.backend->adjoint_substep(sc.params);
    sc.backend->download_state_adjoint(g.state);
    sc.backend->download_parameter_gradients(g.params);
    return g;
  };
  const auto one = run(1), two = run(2), again = run(2);
  omp_set_num_threads(saved);
  ASSERT_EQ(one.fault, kNoFault);
  EXPECT_TRUE(bitwise_equal(two.state.x, again.state.x));
  EXPECT_TRUE(bitwise_equal(two.state.v, again.state.v));
  EXPECT_TRUE(bitwise_equal(two.state.F, again.state.F));
  EXPECT_TRUE(bitwise_equal(two.state.C, again.state.C));
  EXPECT_TRUE(bitwise_equal(two.state.plastic, again.state.plastic));
  EXPECT_TRUE(bitwise_equal(two.params.per_particle, again.params.per_particle));
  EXPECT_TRUE(bitwise_equal(two.params.mass, again.params.mass));
  EXPECT_TRUE(bitwise_equal(two.params.wall_friction, again.params.wall_friction));
  EXPECT_TRUE(bitwise_equal(two.force, again.force));
  double worst = 0;
  auto cmp = [&](double a, double b) {
    worst = std::max(worst, std::abs(a - b) / std::max(1e-300, std::max(std::abs(a), std::abs(b))));
  };
  for (std::size_t p = 0; p < one.state.size(); ++p) {
    for (int a = 0; a < 2; ++a) {
      cmp(one.state.x[p][a], two.state.x[p][a]);
      cmp(one.state.v[p][a], two.state.v[p][a]);
      for (int b = 0; b < 2; ++b) cmp(one.state.F[p](a, b), two.state.F[p](a, b));
    }
    cmp(one.params.mass[p], two.params.mass[p]);
  }
  for (int a = 0; a < 2; ++a)
    for (int s = 0; s < 2; ++s) cmp(one.params.wall_friction[0][a][s], two.params.wall_friction[0][a][s]);
  EXPECT_LT(worst, 1e-9);  // round-off: only the order of the sums differs
}

}  // namespace
}  // namespace pl::test
