// The stability guard, run-time fault reports, input validation and backend
// equivalence (1 vs 2 OpenMP threads; CUDA is compared where a GPU exists).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/core/error.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

MpmWorld<float, 2> jelly_world(double dt, bool allow_unstable = false, double E = 1e4) {
  MpmSettings<2> s = MpmSettings<2>::cube(1.0, 32);
  s.dt = dt;
  s.gravity[1] = -9.8;
  s.allow_unstable_dt = allow_unstable;
  MpmWorld<float, 2> world(s, {material("fixed_corotated", {{"E", E}, {"nu", 0.3}}, 1000, "rubber")});
  world.add_body("jelly", lattice_box<2>({0.4, 0.4}, {0.6, 0.6}, s.dx, 2), 0, {0.0, 0.0}, std::pow(s.dx / 2, 2));
  return world;
}

TEST(MpmStability, TooLargeDtIsRejectedBeforeRunningWithTheLimitingMaterialNamed) {
  // c = sqrt((lambda + 2 mu) / rho) ~ 3.7 m/s for E = 1e4; dx / c ~ 8.5e-3 s.
  auto world = jelly_world(5e-2);
  try {
    world.step(1);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("rubber"), std::string::npos) << msg;
    EXPECT_NE(msg.find("allow_unstable_dt"), std::string::npos) << msg;
  }
  EXPECT_EQ(world.step_count(), 0);
}

TEST(MpmStability, StableDtPassesAndTheOverrideRunsAnUnstableOne) {
  auto ok = jelly_world(1e-3);
  EXPECT_TRUE(ok.check_stability().ok());
  auto forced = jelly_world(2e-2, /*allow_unstable=*/true);
  EXPECT_FALSE(forced.check_stability().ok());  // reported, not thrown
}

TEST(MpmFaults, NanStopsTheRunNamingStepBodyAndQuantity) {
  auto world = jelly_world(1e-3);
  world.step(3);
  auto p = world.particles();
  p.v[5][0] = std::numeric_limits<float>::quiet_NaN();
  world.set_particles(p);
  try {
    world.step(10);
    FAIL() << "expected SimulationError";
  } catch (const SimulationError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("step 4"), std::string::npos) << msg;
    EXPECT_NE(msg.find("body 'jelly'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not finite"), std::string::npos) << msg;
  }
  // Stepping a failed world is refused with a clear message, not garbage.
  EXPECT_THROW(world.step(1), SimulationError);
}

TEST(MpmFaults, ParticleLeavingTheDomainIsReported) {
  MpmSettings<2> s = MpmSettings<2>::cube(1.0, 32);
  s.dt = 1e-3;
  s.allow_unstable_dt = true;  // the speed below violates the CFL limit on purpose
  MpmWorld<double, 2> world(s, {material("fixed_corotated", {{"E", 1e3}, {"nu", 0.3}})});
  world.add_body("bullet", lattice_box<2>({0.8, 0.5}, {0.85, 0.55}, s.dx, 2), 0, {400.0, 0.0}, std::pow(s.dx / 2, 2));
  try {
    world.step(5);
    FAIL() << "expected SimulationError";
  } catch (const SimulationError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bullet"), std::string::npos) << msg;
    EXPECT_NE(msg.find("left the simulation domain"), std::string::npos) << msg;
  }
}

TEST(MpmInput, BadSettingsAndBodiesAreRejectedWithTheKeyNamed) {
  MpmSettings<2> s = MpmSettings<2>::cube(1.0, 32);
  s.dt = -1;
  auto mat = material("fixed_corotated", {});
  try {
    MpmWorld<float, 2> w(s, {mat});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'dt'"), std::string::npos) << e.what();
  }
  s.dt = 1e-4;
  MpmWorld<float, 2> world(s, {mat});
  EXPECT_THROW(world.add_body("b", {{0.5, 0.5}}, 3, {0, 0}, 1e-4), InputError);      // material index
  EXPECT_THROW(world.add_body("b", {{0.01, 0.5}}, 0, {0, 0}, 1e-4), InputError);     // inside the wall layer
  EXPECT_THROW(world.add_body("b", {{0.5, 0.5}}, 0, {0, NAN}, 1e-4), InputError);    // velocity
  EXPECT_THROW(world.add_body("b", {}, 0, {0, 0}, 1e-4), InputError);                // empty
  EXPECT_EQ(world.num_particles(), 0u);
}

TEST(MpmBackend, CudaWithoutAGpuIsAClearErrorAndAutoFallsBackToCpu) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present; this test covers machines without one";
  try {
    resolve_backend("cuda", "scene.yaml: simulation.backend");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("simulation.backend"), std::string::npos) << e.what();
  }
  EXPECT_EQ(resolve_backend("auto"), Backend::Cpu);
  EXPECT_THROW(resolve_backend("gpu"), InputError);
}

// The same substeps through the CPU policy with 1 and with 2 threads agree to
// float tolerance (only the order of atomic additions differs).
TEST(MpmBackend, OneAndTwoThreadsAgree) {
  auto run = [](int threads) {
    set_cpu_threads(threads);
    MpmSettings<3> s = MpmSettings<3>::cube(1.0, 24);
    s.dt = 2e-4;
    s.gravity[1] = -9.8;
    MpmWorld<float, 3> world(
        s, {material("fixed_corotated", {{"E", 2e4}, {"nu", 0.3}}),
            material("weakly_compressible_fluid", {{"bulk_modulus", 1e4}, {"gamma", 7}, {"viscosity", 0.1}})});
    world.add_body("jelly", lattice_box<3>({0.2, 0.2, 0.2}, {0.45, 0.45, 0.45}, s.dx, 2), 0, {1, 0, 0},
                   std::pow(s.dx / 2, 3));
    world.add_body("water", lattice_box<3>({0.5, 0.2, 0.2}, {0.8, 0.5, 0.8}, s.dx, 2), 1, {-1, 0, 0},
                   std::pow(s.dx / 2, 3));
    world.step(100);
    return world.particles().x;
  };
  const auto a = run(1), b = run(2);
  set_cpu_threads(0);
  ASSERT_EQ(a.size(), b.size());
  double max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, double(norm(a[i] - b[i])));
  EXPECT_LT(max_diff, 1e-5) << "positions after 100 substeps differ beyond float round-off";
}

TEST(MpmInput, SetParticlesRejectsBadIndicesAndMassesNamingTheParticle) {
  auto world = jelly_world(1e-3);
  const auto good = world.particles();
  auto expect_rejected = [&](auto mutate, const char* expected) {
    auto p = good;
    mutate(p);
    try {
      world.set_particles(p);
      FAIL() << "expected InputError containing '" << expected << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  expect_rejected([](auto& p) { p.body[4] = 7; }, "particle 4: body index 7");
  expect_rejected([](auto& p) { p.material[2] = -1; }, "particle 2: material index -1");
  expect_rejected([](auto& p) { p.mass[1] = 0; }, "particle 1: mass");
  expect_rejected([](auto& p) { p.volume[3] = NAN; }, "particle 3: volume");
  expect_rejected([](auto& p) { p.x.pop_back(); }, "'x' has");
  world.step(1);  // the world is untouched by rejected calls
  EXPECT_EQ(world.step_count(), 1);
}

TEST(MpmInput, WallLayerMustBeAtLeastOneCell) {
  MpmSettings<2> s = MpmSettings<2>::cube(1.0, 32);
  s.bound_cells = 0;
  EXPECT_THROW((MpmWorld<float, 2>(s, {material("fixed_corotated", {})})), InputError);
}

// Step from inside an OpenMP team that limits nesting: the CPU P2G must size
// its private grids from the team it actually gets (a thread-count mismatch
// used to drop particles and read unfilled buffers).
TEST(MpmBackend, StepInsideAParallelRegionStillConservesMass) {
  auto world = jelly_world(1e-3);
  double total = 0;
  for (float m : world.particles().mass) total += m;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    world.step(2);
  }
  std::vector<float> grid_mass;
  std::vector<Vec<float, 2>> grid_velocity;
  world.grid_state(grid_mass, grid_velocity);
  double grid_total = 0;
  for (float m : grid_mass) grid_total += m;
  EXPECT_NEAR(grid_total, total, 1e-5 * total);
}

}  // namespace
}  // namespace pl::test
