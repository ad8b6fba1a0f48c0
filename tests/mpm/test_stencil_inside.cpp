// The stencil bounds test that guards every grid access of P2G and G2P.
// It is done on the grid-space position in floating point, before the
// stencil's floor-to-int conversion, which is undefined behaviour for NaN and
// out-of-range values (GPUs saturate to INT_MAX, where the old integer test
// base + 2 >= res overflowed and let the particle scatter out of bounds).
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <limits>

#include "engine/core/error.hpp"
#include "kernels/math/bspline.hpp"
#include "kernels/mpm/views.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

template <class Real>
GridView<Real, 2> grid_10x12() {
  GridView<Real, 2> g{};
  g.res[0] = 10;
  g.res[1] = 12;
  g.dx = Real(1);
  g.inv_dx = Real(1);
  return g;
}

template <class Real>
void expect_position_test_matches_integer_test() {
  const auto g = grid_10x12<Real>();
  for (int k = -40; k <= 520; ++k) {
    const Real xg0 = Real(k) / Real(40);  // -1 .. 13 in steps of 1/40, boundaries hit exactly
    for (const Real xg : {xg0, std::nextafter(xg0, Real(-1e9)), std::nextafter(xg0, Real(1e9))}) {
      const Vec<Real, 2> x{xg, Real(5)};
      const auto s = QuadraticStencil<Real, 2>::at(x, Real(1));
      EXPECT_EQ(g.stencil_inside(x), g.stencil_inside(s.base)) << "xg = " << xg;
    }
  }
  // First and last admissible positions on axis 0 (res 10): xg in [0.5, 8.5).
  EXPECT_TRUE(g.stencil_inside(Vec<Real, 2>{Real(0.5), Real(5)}));
  EXPECT_FALSE(g.stencil_inside(Vec<Real, 2>{std::nextafter(Real(0.5), Real(0)), Real(5)}));
  EXPECT_TRUE(g.stencil_inside(Vec<Real, 2>{std::nextafter(Real(8.5), Real(0)), Real(5)}));
  EXPECT_FALSE(g.stencil_inside(Vec<Real, 2>{Real(8.5), Real(5)}));
}

TEST(StencilInside, PositionTestAgreesWithTheStencilBaseFloat) { expect_position_test_matches_integer_test<float>(); }
TEST(StencilInside, PositionTestAgreesWithTheStencilBaseDouble) { expect_position_test_matches_integer_test<double>(); }

TEST(StencilInside, NonFiniteAndHugePositionsAreOutside) {
  const auto g = grid_10x12<float>();
  const float inf = std::numeric_limits<float>::infinity();
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), inf, -inf, 1e30f, -1e30f, 2147483648.0f}) {
    EXPECT_FALSE(g.stencil_inside(Vec<float, 2>{bad, 5.0f})) << bad;
    EXPECT_FALSE(g.stencil_inside(Vec<float, 2>{5.0f, bad})) << bad;
  }
}

TEST(StencilInside, IntegerTestDoesNotOverflowAtIntMax) {
  const auto g = grid_10x12<float>();
  const int base_max[2] = {INT_MAX, 3};
  const int base_near[2] = {INT_MAX - 1, 3};
  const int base_min[2] = {INT_MIN, 3};
  EXPECT_FALSE(g.stencil_inside(base_max));
  EXPECT_FALSE(g.stencil_inside(base_near));
  EXPECT_FALSE(g.stencil_inside(base_min));
  const int last[2] = {7, 9};  // base + 2 = res - 1
  const int past[2] = {8, 9};
  EXPECT_TRUE(g.stencil_inside(last));
  EXPECT_FALSE(g.stencil_inside(past));
}

// A particle put far outside (or at NaN) through set_particles stops the run
// ("left the domain" / "position is not finite") and scatters nothing.
TEST(StencilInside, ParticleSetOutsideTheGridIsReportedAndNotScattered) {
  MpmSettings<2> s = MpmSettings<2>::cube(1.0, 32);
  s.dt = 1e-4;
  MpmWorld<float, 2> world(s, {material("fixed_corotated", {{"E", 1e4}, {"nu", 0.3}}, 1000, "rubber")});
  world.add_body("jelly", lattice_box<2>({0.4, 0.4}, {0.6, 0.6}, s.dx, 2), 0, {0.0, 0.0}, std::pow(s.dx / 2, 2));
  const auto good = world.particles();
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), 1e30f, -1e30f, 3.0e9f}) {
    auto p = good;
    p.x[7][0] = bad;
    world.set_particles(p);
    try {
      world.step(1);
      FAIL() << "expected SimulationError for x = " << bad;
    } catch (const SimulationError& e) {
      const char* expected = std::isnan(bad) ? "position is not finite" : "left the simulation domain";
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    std::vector<float> mass;
    std::vector<Vec<float, 2>> velocity;
    world.grid_state(mass, velocity);
    double grid_mass = 0, particle_mass = 0;
    for (float m : mass) grid_mass += m;
    for (std::size_t i = 0; i < p.size(); ++i)
      if (i != 7) particle_mass += p.mass[i];
    EXPECT_NEAR(grid_mass, particle_mass, 1e-5 * particle_mass) << "x = " << bad;
  }
}

}  // namespace
}  // namespace pl::test
