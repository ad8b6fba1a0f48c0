// Conservation and kinematics of the MPM step, in 2D and 3D, float and double:
// mass is exact, momentum of a free body is conserved, free fall follows the
// discrete (symplectic Euler) and analytic trajectories.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

template <class RealT, int DimT>
struct Config {
  using Real = RealT;
  static constexpr int D = DimT;
  // Tolerance relative to the quantity's scale.
  static constexpr double tol = std::is_same_v<RealT, float> ? 2e-5 : 1e-11;
};

template <class C>
class MpmConservation : public ::testing::Test {};
using Configs = ::testing::Types<Config<float, 2>, Config<float, 3>, Config<double, 2>, Config<double, 3>>;
TYPED_TEST_SUITE(MpmConservation, Configs);

// A jelly block spinning and stretching in the middle of an empty box: stress
// is non-zero but the walls are never reached.
template <class Real, int D>
MpmWorld<Real, D> spinning_block(int cells, double dt) {
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, cells);
  s.dt = dt;
  MpmWorld<Real, D> world(s, {material("fixed_corotated", {{"E", 2e4}, {"nu", 0.3}})});
  const double dx = s.dx;
  world.add_body("jelly", lattice_box<D>(filled<D>(0.4), filled<D>(0.6), dx, 2), 0, filled<D>(0.0),
                 std::pow(dx / 2, D));
  ParticleSet<Real, D> p = world.particles();
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Real rx = p.x[i][0] - Real(0.5), ry = p.x[i][1] - Real(0.5);
    p.v[i][0] = Real(0.3) - Real(2.0) * ry + Real(0.5) * rx;  // drift + spin + stretch
    p.v[i][1] = Real(-0.1) + Real(2.0) * rx;
  }
  world.set_particles(p);
  return world;
}

TYPED_TEST(MpmConservation, MassIsConservedExactlyAndMatchesTheGrid) {
  using Real = typename TypeParam::Real;
  constexpr int D = TypeParam::D;
  auto world = spinning_block<Real, D>(D == 2 ? 48 : 20, 2e-4);
  const std::vector<Real> mass0 = world.particles().mass;
  double total = 0;
  for (Real m : mass0) total += m;
  world.step(20);
  EXPECT_EQ(world.particles().mass, mass0);  // bit-for-bit: particle masses never change
  std::vector<Real> grid_mass;
  std::vector<Vec<Real, D>> grid_velocity;
  world.grid_state(grid_mass, grid_velocity);
  double grid_total = 0;
  for (Real m : grid_mass) grid_total += m;
  EXPECT_NEAR(grid_total, total, TypeParam::tol * total * 10);  // B-spline weights sum to one
}

TYPED_TEST(MpmConservation, MomentumOfAFreeBodyIsConserved) {
  using Real = typename TypeParam::Real;
  constexpr int D = TypeParam::D;
  auto world = spinning_block<Real, D>(D == 2 ? 48 : 20, 2e-4);
  const auto p0 = total_momentum(world);
  double scale = 0, mass = 0;
  for (Real m : world.particles().mass) mass += m;
  scale = mass * 1.0;  // speeds are O(1 m/s)
  world.step(50);
  ASSERT_GT(elastic_energy(world), 0.0) << "the test needs internal stress to mean anything";
  const auto p1 = total_momentum(world);
  for (int a = 0; a < D; ++a) EXPECT_NEAR(p1[a], p0[a], TypeParam::tol * scale * 20) << "axis " << a;
}

TYPED_TEST(MpmConservation, FreeFallFollowsTheBallisticTrajectory) {
  using Real = typename TypeParam::Real;
  constexpr int D = TypeParam::D;
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, D == 2 ? 64 : 24);
  s.dt = 1e-3;
  s.gravity[1] = -9.8;
  MpmWorld<Real, D> world(s, {material("fixed_corotated", {{"E", 1e4}, {"nu", 0.2}})});
  std::array<double, D> v0 = filled<D>(0.0);
  v0[0] = 0.5;
  v0[1] = 1.0;
  world.add_body("ball", lattice_box<D>(filled<D>(0.3), filled<D>(0.4), s.dx, 2), 0, v0, std::pow(s.dx / 2, D));
  const auto x0 = world.particles().x;
  const int n = 200;
  world.step(n);
  const double t = n * s.dt;
  const auto& x = world.particles().x;
  for (std::size_t i = 0; i < x.size(); i += 7) {
    for (int a = 0; a < D; ++a) {
      const double g = s.gravity[a];
      // Symplectic Euler on the grid: v_k = v0 + k dt g, x_n = x0 + sum_k dt v_k.
      const double discrete = x0[i][a] + v0[a] * t + g * s.dt * s.dt * n * (n + 1) / 2.0;
      const double analytic = x0[i][a] + v0[a] * t + 0.5 * g * t * t;
      EXPECT_NEAR(x[i][a], discrete, (std::is_same_v<Real, float> ? 2e-5 : 1e-10)) << "particle " << i;
      // First-order in dt: |discrete - analytic| = |g| dt t / 2.
      EXPECT_NEAR(x[i][a], analytic, std::abs(g) * s.dt * t / 2 + 2e-5) << "particle " << i;
    }
  }
}

// A constant external force f on every particle of a free body accelerates its
// centre of mass at sum f / sum m (P2G adds dt f_p to the particle momentum).
TYPED_TEST(MpmConservation, ExternalForcesAccelerateTheCentreOfMass) {
  using Real = typename TypeParam::Real;
  constexpr int D = TypeParam::D;
  auto world = spinning_block<Real, D>(D == 2 ? 48 : 20, 2e-4);
  const auto p0 = total_momentum(world);
  std::vector<Vec<Real, D>> f(world.num_particles(), Vec<Real, D>::zero());
  double total_force_y = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    f[i][1] = Real(1e-3 * (1 + i % 3));  // uneven: also exercises stress
    total_force_y += f[i][1];
  }
  world.set_external_forces(f);
  const int n = 50;
  world.step(n);
  const auto p1 = total_momentum(world);
  const double expected = p0[1] + total_force_y * n * world.settings().dt;
  EXPECT_NEAR(p1[1], expected, std::abs(expected) * TypeParam::tol * 50 + 1e-12);
  EXPECT_NEAR(p1[0], p0[0], std::abs(p0[0]) * TypeParam::tol * 50 + 1e-9);
}

}  // namespace
}  // namespace pl::test
