// Subnormal flushing in the CPU MPM kernels (engine/core/float_env.hpp,
// engine/mpm/cpu_parallel.hpp): set for the kernels on every thread of the
// team, never left set on the caller's thread.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <cfloat>
#include <vector>

#include "engine/core/float_env.hpp"
#include "engine/mpm/cpu_parallel.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

#if PL_HAVE_MXCSR
// The product of a subnormal-producing multiplication, computed where the
// compiler cannot fold it.
float tiny_product() {
  volatile float a = FLT_MIN, b = 0.25f;  // FLT_MIN * 0.25 is subnormal in IEEE
  return a * b;
}

TEST(FloatEnvironment, GuardFlushesInsideAndRestoresOutside) {
  ASSERT_FALSE(ScopedFlushDenormals::active()) << "the test process must start with IEEE subnormals";
  EXPECT_GT(tiny_product(), 0.0f);
  {
    const ScopedFlushDenormals flush;
    EXPECT_TRUE(ScopedFlushDenormals::active());
    EXPECT_EQ(tiny_product(), 0.0f);
    {
      const ScopedFlushDenormals nested;  // no-op, and must not clear the outer one on exit
    }
    EXPECT_TRUE(ScopedFlushDenormals::active());
  }
  EXPECT_FALSE(ScopedFlushDenormals::active());
  EXPECT_GT(tiny_product(), 0.0f);
}

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(FloatEnvironment, EveryThreadOfTheLoopFlushesAndTheCallerIsRestored) {
  const ThreadCount two(2);
  const std::size_t n = 100000;  // far above kCpuSerialBelow: a parallel region
  std::vector<unsigned char> flushed(n, 0);
  std::vector<float> product(n, -1.0f);
  std::atomic<int> max_thread{0};
  cpu_for_each_n(n, [&](std::size_t i) {
    flushed[i] = ScopedFlushDenormals::active();
    product[i] = tiny_product();
    int t = omp_get_thread_num(), seen = max_thread.load();
    while (t > seen && !max_thread.compare_exchange_weak(seen, t)) {
    }
  });
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(flushed[i]) << "element " << i;
    ASSERT_EQ(product[i], 0.0f) << "element " << i;
  }
  EXPECT_FALSE(ScopedFlushDenormals::active()) << "the caller's MXCSR must be restored";
  // Workers are left as found too: a plain OpenMP region afterwards sees IEEE subnormals.
  std::atomic<int> leaked{0};
#pragma omp parallel num_threads(2)
  if (ScopedFlushDenormals::active()) leaked++;
  EXPECT_EQ(leaked.load(), 0);
}

TEST(FloatEnvironment, WorldStepLeavesTheCallerAlone) {
  for (int threads : {1, 2}) {
    const ThreadCount count(threads);
    auto s = MpmSettings<2>::cube(1.0, 32);
    s.dt = 1e-4;
    s.gravity[1] = -9.8;
    MpmWorld<float, 2> world(s, {material("fixed_corotated", {{"E", 1e4}, {"nu", 0.3}})});
    world.add_body("block", lattice_box<2>({0.3, 0.3}, {0.6, 0.6}, s.dx, 2), 0, {0.0, 0.0}, s.dx * s.dx / 4);
    world.step(5);
    EXPECT_FALSE(ScopedFlushDenormals::active()) << threads << " thread(s)";
    EXPECT_GT(tiny_product(), 0.0f) << threads << " thread(s)";
  }
}
#else
TEST(FloatEnvironment, NoMxcsrOnThisHost) { GTEST_SKIP() << "subnormal flushing is x86-only (no MXCSR here)"; }
#endif

}  // namespace
}  // namespace pl::test
