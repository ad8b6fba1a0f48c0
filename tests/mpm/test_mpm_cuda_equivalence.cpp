// CPU vs CUDA: the same world stepped on the CPU and on both CUDA paths
// (reference and fast, engine/mpm/cuda_paths.cuh) agrees to float tolerance.
// Those run only where a GPU is visible; elsewhere they skip and say so.
//
// What runs everywhere: the block / tile index arithmetic the fast path's
// kernels rely on (kernels/mpm/block_layout.hpp), and the comparison that
// pliant_gpu_check applies (tools/pliant_gpu_check_compare.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <set>

#include "engine/core/error.hpp"
#include "kernels/math/bspline.hpp"
#include "kernels/mpm/block_layout.hpp"
#include "tests/mpm/mpm_test_world.hpp"
#include "tools/pliant_gpu_check_compare.hpp"

namespace pl::test {
namespace {

/// Sets PLIANT_CUDA_PATH for one scope and restores the previous value.
class ScopedCudaPath {
 public:
  explicit ScopedCudaPath(const char* value) {
    if (const char* old = std::getenv("PLIANT_CUDA_PATH")) old_ = old, had_ = true;
    setenv("PLIANT_CUDA_PATH", value, 1);
  }
  ~ScopedCudaPath() {
    if (had_) setenv("PLIANT_CUDA_PATH", old_.c_str(), 1);
    else unsetenv("PLIANT_CUDA_PATH");
  }

 private:
  std::string old_;
  bool had_ = false;
};

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
double max_distance(const std::vector<Vec<float, D>>& a, const std::vector<Vec<float, D>>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, double(norm(a[i] - b[i])));
  return d;
}

template <int D>
void expect_backends_agree() {
  if (cuda_device_count() == 0)
    GTEST_SKIP() << "no CUDA device visible (" << cuda_unavailable_reason()
                 << "): CPU/CUDA equivalence is checked only on a machine with a GPU";
  const auto cpu = run_on<D>(Backend::Cpu);
  std::vector<Vec<float, D>> reference, fast;
  {
    ScopedCudaPath path("reference");
    reference = run_on<D>(Backend::Cuda);
  }
  {
    ScopedCudaPath path("fast");
    fast = run_on<D>(Backend::Cuda);
  }
  EXPECT_LT(max_distance(cpu, reference), 1e-4);
  EXPECT_LT(max_distance(cpu, fast), 1e-4);
  EXPECT_LT(max_distance(reference, fast), 1e-4);
}

TEST(MpmCudaEquivalence, CpuAndCudaAgree2D) { expect_backends_agree<2>(); }
TEST(MpmCudaEquivalence, CpuAndCudaAgree3D) { expect_backends_agree<3>(); }

// The fast path hands differentiation to the reference path: a short rollout's
// gradient through it equals the reference path's.
TEST(MpmCudaEquivalence, FastPathHandsTheBackwardPassToTheReference) {
  if (cuda_device_count() == 0)
    GTEST_SKIP() << "no CUDA device visible (" << cuda_unavailable_reason() << ")";
  auto gradient = [](const char* path) {
    ScopedCudaPath scoped(path);
    MpmSettings<2> s = MpmSettings<2>::cube(1.0, 32);
    s.dt = 2e-4;
    s.gravity[1] = -9.8;
    MpmWorld<float, 2> world(s, {material("fixed_corotated", {{"E", 2e4}, {"nu", 0.3}})}, Backend::Cuda);
    world.add_body("jelly", lattice_box<2>(filled<2>(0.3), filled<2>(0.5), s.dx, 2), 0, filled<2>(0.3),
                   std::pow(s.dx / 2, 2));
    world.step(3);  // forward on the path under test
    auto& backend = world.mpm_backend();
    const int slot = backend.save_state();
    backend.substep(world.substep_params());
    backend.zero_adjoint();
    ParticleAdjoint<float, 2> seed;
    seed.resize(world.num_particles());
    for (auto& g : seed.x) g[0] = 1.0f;
    backend.add_state_adjoint(seed);
    backend.load_state(slot);
    EXPECT_EQ(backend.adjoint_substep(world.substep_params()), kNoFault);
    ParticleAdjoint<float, 2> out;
    backend.download_state_adjoint(out);
    return out.v;
  };
  const auto reference = gradient("reference"), fast = gradient("fast");
  ASSERT_EQ(reference.size(), fast.size());
  double d = 0, scale = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    d = std::max(d, double(norm(fast[i] - reference[i])));
    scale = std::max(scale, double(norm(reference[i])));
  }
  EXPECT_GT(scale, 0.0);
  EXPECT_LT(d, 1e-4 * scale);
}

TEST(MpmCudaPath, UnknownPathNamesTheVariable) {
  if (!cuda_compiled()) GTEST_SKIP() << "built without CUDA: PLIANT_CUDA_PATH is never read";
  ScopedCudaPath path("fastest");
  MpmSettings<2> s = MpmSettings<2>::cube(1.0, 16);
  try {
    MpmWorld<float, 2> world(s, {material("fixed_corotated", {})}, Backend::Cuda);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("PLIANT_CUDA_PATH='fastest'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'reference' or 'fast'"), std::string::npos) << e.what();
  }
}

// ---- Block layout (CPU): the invariants the CUDA kernels depend on ----------------------

template <int D>
GridView<float, D> test_grid(int res0) {
  GridView<float, D> g{};
  for (int a = 0; a < D; ++a) g.res[a] = res0 + 3 * a;  // not multiples of the block edge
  g.origin = Vec<float, D>::zero();
  g.origin[0] = -0.25f;
  g.dx = 0.05f;
  g.inv_dx = 1.0f / g.dx;
  return g;
}

/// Every particle's G2P stencil lies in the inner tile of its block, the
/// stencil after a move of less than one cell per axis lies in the tile, and
/// tile indices map back to the same grid nodes as GridView::node_index.
template <int D>
void check_block_layout() {
  const GridView<float, D> grid = test_grid<D>(D == 3 ? 21 : 37);
  const BlockLayout<D> layout = BlockLayout<D>::of(grid);
  EXPECT_GT(1u << layout.key_bits(), layout.invalid_key());
  EXPECT_LE(1u << (layout.key_bits() - 1), layout.invalid_key());
  std::mt19937 rng(7);
  std::set<std::uint32_t> keys;
  int moved_outside = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    Vec<float, D> xg;
    for (int a = 0; a < D; ++a)
      xg[a] = std::uniform_real_distribution<float>(0.5f, float(grid.res[a] - 2) + 0.49f)(rng);
    const Vec<float, D> x = xg * grid.dx + grid.origin;
    const Vec<float, D> xgrid = grid.to_grid(x);
    if (!grid.stencil_inside(xgrid)) continue;
    const std::uint32_t key = layout.key_of(grid, xgrid);
    ASSERT_LT(key, layout.invalid_key());
    keys.insert(key);
    const BlockTile<D> tile = BlockTile<D>::around(layout, key);
    const auto stencil = QuadraticStencil<float, D>::at(xgrid, 1.0f);
    for_each_stencil_offset<D>([&](const int(&off)[D]) {
      int t = -1;
      ASSERT_TRUE(tile.index(stencil.base, off, t));
      int ijk[D];
      tile.node_of(t, ijk);
      for (int a = 0; a < D; ++a) {
        EXPECT_EQ(ijk[a], stencil.base[a] + off[a]);
        const int local = ijk[a] - tile.lo[a];
        EXPECT_GE(local, 1);  // the velocity tile the G2P kernel loads
        EXPECT_LE(local, BlockLayout<D>::kEdge + 2);
      }
      std::size_t node = 0;
      ASSERT_TRUE(tile.grid_index(grid, t, node));
      EXPECT_EQ(node, grid.node_index(stencil.base, off));
    });
    // A move of less than one cell per axis (the CFL bound) stays in the tile.
    Vec<float, D> moved = xgrid;
    for (int a = 0; a < D; ++a) moved[a] += std::uniform_real_distribution<float>(-0.99f, 0.99f)(rng);
    if (grid.stencil_inside(moved)) {
      const auto after = QuadraticStencil<float, D>::at(moved, 1.0f);
      for_each_stencil_offset<D>([&](const int(&off)[D]) {
        int t = -1;
        EXPECT_TRUE(tile.index(after.base, off, t));
      });
    }
    // A move of two cells leaves it (then the kernel adds to the global grid).
    Vec<float, D> far = xgrid;
    far[0] += 2.0f * BlockLayout<D>::kEdge;
    if (grid.stencil_inside(far)) {
      const auto after = QuadraticStencil<float, D>::at(far, 1.0f);
      int t = -1;
      const int zero[D] = {};
      if (!tile.index(after.base, zero, t)) ++moved_outside;
    }
  }
  EXPECT_GT(keys.size(), std::size_t(layout.num_blocks() / 2));  // the sample covers the grid
  EXPECT_GT(moved_outside, 0);
  // Stencils outside the grid and non-finite positions sort last.
  Vec<float, D> bad = Vec<float, D>::constant(3.0f);
  bad[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(layout.key_of(grid, bad), layout.invalid_key());
  bad[0] = 0.2f;  // base would be -1
  EXPECT_EQ(layout.key_of(grid, bad), layout.invalid_key());
  bad[0] = 1e30f;
  EXPECT_EQ(layout.key_of(grid, bad), layout.invalid_key());
}

TEST(MpmBlockLayout, StencilsStayInTheirTile2D) { check_block_layout<2>(); }
TEST(MpmBlockLayout, StencilsStayInTheirTile3D) { check_block_layout<3>(); }

TEST(MpmBlockLayout, KeysOrderBlocksRowMajor) {
  GridView<float, 3> grid = test_grid<3>(20);  // res 20, 23, 26 -> 5 x 6 x 7 blocks of 4
  const BlockLayout<3> layout = BlockLayout<3>::of(grid);
  EXPECT_EQ(layout.blocks[0], 5);
  EXPECT_EQ(layout.blocks[1], 6);
  EXPECT_EQ(layout.blocks[2], 7);
  int origin[3];
  layout.block_origin(layout.num_blocks() - 1, origin);
  EXPECT_EQ(origin[0], 16);
  EXPECT_EQ(origin[1], 20);
  EXPECT_EQ(origin[2], 24);
  const Vec<float, 3> xg{{9.7f, 4.6f, 13.2f}};  // bases 9, 4, 12 -> blocks 2, 1, 3
  EXPECT_EQ(layout.key_of(grid, xg), (2u * 6u + 1u) * 7u + 3u);
}

// ---- pliant_gpu_check's comparison (CPU) ----------------------------------------------

gpu_check::RunResult sample_run() {
  gpu_check::RunResult r;
  r.dim = 2;
  r.dx = 0.01;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 200; ++i) {
    r.x.push_back(0.2 + 0.6 * u(rng)), r.x.push_back(0.2 + 0.6 * u(rng));
    r.v.push_back(u(rng) - 0.5), r.v.push_back(u(rng) - 0.5);
  }
  return r;
}

TEST(GpuCheckCompare, RoundOffPassesAndRealDifferencesFail) {
  const gpu_check::Tolerance tol;
  const gpu_check::RunResult a = sample_run();
  gpu_check::RunResult b = a;
  for (double& x : b.x) x *= 1 + 1e-7;  // float round-off
  for (double& v : b.v) v *= 1 + 1e-6;
  EXPECT_TRUE(gpu_check::compare_runs(a, b, tol).pass);

  gpu_check::RunResult moved = a;
  moved.x[17] += 0.05 * a.dx;  // one particle off by 5 % of a cell
  const auto c = gpu_check::compare_runs(a, moved, tol);
  EXPECT_FALSE(c.pass);
  EXPECT_NEAR(c.max_position_cells, 0.05, 1e-9);
  EXPECT_NE(c.why.find("positions"), std::string::npos);

  gpu_check::RunResult slower = a;
  for (double& v : slower.v) v *= 0.99;
  EXPECT_FALSE(gpu_check::compare_runs(a, slower, tol).pass);

  gpu_check::RunResult nan = a;
  nan.x[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(gpu_check::compare_runs(a, nan, tol).pass);

  gpu_check::RunResult shorter = a;
  shorter.x.resize(shorter.x.size() - 2);
  shorter.v.resize(shorter.v.size() - 2);
  EXPECT_FALSE(gpu_check::compare_runs(a, shorter, tol).pass);
}

}  // namespace
}  // namespace pl::test
