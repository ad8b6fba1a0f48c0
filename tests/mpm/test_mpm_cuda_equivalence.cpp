// CPU vs CUDA: the same world stepped on both backends agrees to float
// tolerance.  Runs only where a GPU is visible; elsewhere it skips and says so.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

template <int D>
std::vector<Vec<float, D>> run_on(Backend backend) {
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, D == 2 ? 64 : 24);
  s.dt = 2e-4;
  s.gravity[1] = -9.8;
  MpmWorld<float, D> world(s,
                           {material("fixed_corotated", {{"E", 2e4}, {"nu", 0.3}}),
                            material("snow", {}), material("weakly_compressible_fluid", {})},
                           backend);
  std::array<double, D> lo = filled<D>(0.2), hi = filled<D>(0.4);
  world.add_body("jelly", lattice_box<D>(lo, hi, s.dx, 2), 0, filled<D>(0.5), std::pow(s.dx / 2, D));
  lo = filled<D>(0.5), hi = filled<D>(0.7);
  world.add_body("snow", lattice_box<D>(lo, hi, s.dx, 2), 1, filled<D>(-0.5), std::pow(s.dx / 2, D));
  lo[1] = 0.2, hi[1] = 0.4;
  world.add_body("water", lattice_box<D>(lo, hi, s.dx, 2), 2, filled<D>(0.0), std::pow(s.dx / 2, D));
  world.step(50);
  return world.particles().x;
}

template <int D>
void expect_backends_agree() {
  if (cuda_device_count() == 0)
    GTEST_SKIP() << "no CUDA device visible (" << cuda_unavailable_reason()
                 << "): CPU/CUDA equivalence is checked only on a machine with a GPU";
  const auto cpu = run_on<D>(Backend::Cpu), gpu = run_on<D>(Backend::Cuda);
  ASSERT_EQ(cpu.size(), gpu.size());
  double max_diff = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) max_diff = std::max(max_diff, double(norm(cpu[i] - gpu[i])));
  EXPECT_LT(max_diff, 1e-4);
}

TEST(MpmCudaEquivalence, CpuAndCudaAgree2D) { expect_backends_agree<2>(); }
TEST(MpmCudaEquivalence, CpuAndCudaAgree3D) { expect_backends_agree<3>(); }

}  // namespace
}  // namespace pl::test
