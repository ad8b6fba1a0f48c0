// Equilibrium and energy behaviour against walls: a fluid column and an
// elastic block resting on the floor come to rest; a dropped elastic block
// never gains energy; floor friction behaves like Coulomb friction.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

template <class RealT, int DimT>
struct Config {
  using Real = RealT;
  static constexpr int D = DimT;
};

template <class C>
class MpmRest : public ::testing::Test {};
using Configs = ::testing::Types<Config<float, 2>, Config<float, 3>, Config<double, 2>, Config<double, 3>>;
TYPED_TEST_SUITE(MpmRest, Configs);

template <int D>
MpmSettings<D> box_with_floor(int cells, double dt, WallType floor) {
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, cells);
  s.dt = dt;
  s.gravity[1] = -9.8;
  for (int a = 0; a < D; ++a)
    for (int side = 0; side < 2; ++side) s.walls[a][side] = {WallType::Slip, 0.0};
  s.walls[1][0] = {floor, 0.0};
  return s;
}

// Lower corner of a body that sits on the floor: the wall layer is
// bound_cells thick, so the first free node row is at bound_cells * dx.
template <int D>
std::array<double, D> on_floor(const MpmSettings<D>& s, double x_lo) {
  std::array<double, D> lo = filled<D>(x_lo);
  lo[1] = s.bound_cells * s.dx;
  return lo;
}

TYPED_TEST(MpmRest, FluidColumnSettlesToRest) {
  using Real = typename TypeParam::Real;
  constexpr int D = TypeParam::D;
  const int cells = D == 2 ? 32 : 16;
  // Weakly compressible in the usual sense: sound speed c = sqrt(gamma B / rho)
  // = 35 m/s, over ten times the fastest flow speed this column could reach
  // (sqrt(2 g h) ~ 2.8 m/s), so it compresses by ~0.3% under its own weight.
  // Softer fluids compress more and show larger spurious currents (a known
  // property of weakly compressible MPM, not something a test should hide).
  // A closed tank (sticky walls).  With slip side walls the same column keeps
  // ~0.1 m/s of spurious circulation along the walls in 2D (measured; see the
  // foundation issue note), which this test would otherwise have to tolerate.
  auto s = box_with_floor<D>(cells, 0.3 / cells / 35.0, WallType::Sticky);
  for (int a = 0; a < D; ++a) s.walls[a][0].type = s.walls[a][1].type = WallType::Sticky;
  MpmWorld<Real, D> world(
      s, {material("weakly_compressible_fluid", {{"bulk_modulus", 1.75e5}, {"gamma", 7}, {"viscosity", 1e-3}})});
  std::array<double, D> hi = filled<D>(1.0 - s.bound_cells * s.dx);
  hi[1] = 0.4;
  world.add_body("water", lattice_box<D>(on_floor(s, s.bound_cells * s.dx), hi, s.dx, 2), 0, filled<D>(0.0),
                 std::pow(s.dx / 2, D));
  // Settle the initial pressure waves with grid damping, then switch damping
  // off: a column in hydrostatic equilibrium must then stay put on its own.
  world.set_damping(20.0);
  world.step(int(0.5 / s.dt));
  world.set_damping(0.0);
  const double settled = max_speed(world);
  world.step(int(0.5 / s.dt));
  // Free fall from the column height would reach sqrt(2 g h) ~ 2.4 m/s.
  EXPECT_LT(max_speed(world), 0.056) << "after settling (max speed then " << settled
                                    << " m/s) the column must stay at rest without damping";
}

TYPED_TEST(MpmRest, ElasticBlockOnTheFloorStaysAtRest) {
  using Real = typename TypeParam::Real;
  constexpr int D = TypeParam::D;
  const int cells = D == 2 ? 32 : 16;
  auto s = box_with_floor<D>(cells, 2e-4, WallType::Sticky);
  MpmWorld<Real, D> world(s, {material("fixed_corotated", {{"E", 2e5}, {"nu", 0.3}})});
  std::array<double, D> hi = filled<D>(0.65);
  hi[1] = 0.35;
  world.add_body("jelly", lattice_box<D>(on_floor(s, 0.35), hi, s.dx, 2), 0, filled<D>(0.0), std::pow(s.dx / 2, D));
  const auto x0 = world.particles().x;
  // Damp the vibration excited by switching gravity on, then check that the
  // sagged block stays at rest on the floor without damping.
  world.set_damping(20.0);
  world.step(int(0.5 / s.dt));
  world.set_damping(0.0);
  world.step(int(0.5 / s.dt));
  EXPECT_LT(max_speed(world), 0.02);
  // It sags by the elastic strain rho g h / E ~ 0.015 at the bottom of its 0.3 m height
  // (~2 mm at the top), no more.
  double max_disp = 0;
  const auto& x = world.particles().x;
  for (std::size_t i = 0; i < x.size(); ++i) max_disp = std::max(max_disp, double(norm(x[i] - x0[i])));
  EXPECT_LT(max_disp, 0.5 * s.dx);
}

TYPED_TEST(MpmRest, DroppedElasticBlockDoesNotGainEnergy) {
  using Real = typename TypeParam::Real;
  constexpr int D = TypeParam::D;
  const int cells = D == 2 ? 32 : 16;
  auto s = box_with_floor<D>(cells, 2e-4, WallType::Separate);
  MpmWorld<Real, D> world(s, {material("fixed_corotated", {{"E", 2e4}, {"nu", 0.3}})});
  std::array<double, D> lo = filled<D>(0.4), hi = filled<D>(0.6);
  lo[1] = 0.3;
  hi[1] = 0.5;
  world.add_body("jelly", lattice_box<D>(lo, hi, s.dx, 2), 0, filled<D>(0.0), std::pow(s.dx / 2, D));
  auto total = [&] { return kinetic_energy(world) + potential_energy(world) + elastic_energy(world); };
  const double e0 = total();
  const double scale = std::abs(potential_energy(world) - 0.0) + 1e-12;
  bool hit_floor = false;
  for (int k = 0; k < 40; ++k) {  // 0.4 s: falls ~0.2 m, hits the floor, bounces
    world.step(int(0.01 / s.dt));
    double lowest = 1;
    for (const auto& x : world.particles().x) lowest = std::min(lowest, double(x[1]));
    hit_floor |= lowest < (s.bound_cells + 0.6) * s.dx;
    EXPECT_LE(total(), e0 + 1e-4 * scale) << "energy grew at t = " << world.time();
  }
  EXPECT_TRUE(hit_floor) << "the block never reached the floor: the test is not testing the impact";
}

// Floor friction: a block sliding on a 'separate' floor with Coulomb friction
// mu decelerates at about mu g; without friction it keeps sliding.
TEST(MpmWalls, CoulombFloorFrictionStopsASlidingBlockButSlipDoesNot) {
  constexpr int D = 2;
  auto run = [](double mu) {
    auto s = box_with_floor<D>(64, 1e-4, WallType::Separate);
    s.walls[1][0].friction = mu;
    MpmWorld<double, D> world(s, {material("fixed_corotated", {{"E", 1e5}, {"nu", 0.3}})});
    world.add_body("slider", lattice_box<D>(on_floor(s, 0.2), {0.35, 0.15}, s.dx, 2), 0, {1.0, 0.0},
                   std::pow(s.dx / 2, D));
    world.step(int(0.3 / s.dt));
    double vx = 0, m = 0;
    const auto& p = world.particles();
    for (std::size_t i = 0; i < p.size(); ++i) {
      vx += p.mass[i] * p.v[i][0];
      m += p.mass[i];
    }
    return vx / m;
  };
  const double frictionless = run(0.0), rough = run(0.5);
  EXPECT_GT(frictionless, 0.9) << "without friction the block keeps most of its 1 m/s";
  // mu g t = 0.5 * 9.8 * 0.3 = 1.47 m/s > 1 m/s: it must have stopped.
  EXPECT_LT(std::abs(rough), 0.1) << "with mu = 0.5 the block should have stopped";
}

}  // namespace
}  // namespace pl::test
