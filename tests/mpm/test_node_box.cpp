// The substep's node box (kernels/mpm/node_box.hpp): grid passes run only over
// the box of the particles' stencils and the box of the last substep, and the
// grid stays zero outside the current box.  A block flying across the grid
// moves its box every few substeps; stale mass or velocity left behind would
// show up as grid mass away from the particles or a total that is not theirs.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "kernels/mpm/node_box.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {
namespace {

TEST(NodeBox, EnumeratesItsNodesInGridLayout) {
  const int res[3] = {7, 5, 6};
  NodeBox<3> box{{1, 2, 3}, {4, 5, 5}};
  ASSERT_EQ(box.count(), std::size_t(3 * 3 * 2));
  std::size_t b = 0;
  for (int i = 1; i < 4; ++i)
    for (int j = 2; j < 5; ++j)
      for (int k = 3; k < 5; ++k) EXPECT_EQ(box.node(b++, res), std::size_t((i * 5 + j) * 6 + k));
  EXPECT_EQ(NodeBox<3>::none().count(), 0u);
  const NodeBox<3> h = NodeBox<3>::hull(NodeBox<3>::none(), box);
  for (int a = 0; a < 3; ++a) {
    EXPECT_EQ(h.lo[a], box.lo[a]);
    EXPECT_EQ(h.hi[a], box.hi[a]);
  }
  EXPECT_EQ(NodeBox<3>::full(res).count(), std::size_t(7 * 5 * 6));
}

template <int D>
void fly_a_block_across(int threads) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  auto s = MpmSettings<D>::cube(1.0, 32);
  s.dt = 2e-4;
  for (int a = 0; a < D; ++a) s.gravity[a] = 0.0;
  MpmWorld<double, D> world(s, {material("fixed_corotated", {{"E", 1e4}, {"nu", 0.3}})});
  std::array<double, D> lo = filled<D>(0.2), hi = filled<D>(0.3), v = filled<D>(0.0);
  v[0] = 12.0;  // ~0.4 cells per substep: a new box every few substeps
  v[1] = -4.0;
  const auto positions = lattice_box<D>(lo, hi, s.dx, 2);
  world.add_body("block", positions, 0, v, std::pow(s.dx / 2, D));
  double particle_mass = 0;
  for (int step = 0; step < 60; ++step) {
    world.step(1);
    const auto& p = world.particles();
    if (step == 0)
      for (std::size_t i = 0; i < p.size(); ++i) particle_mass += p.mass[i];
    // The stencil box of the particles at the start of the last substep
    // contains every node with mass; positions moved by < 1 cell since.
    int box_lo[D], box_hi[D];
    for (int a = 0; a < D; ++a) box_lo[a] = 1 << 30, box_hi[a] = -(1 << 30);
    for (std::size_t i = 0; i < p.size(); ++i)
      for (int a = 0; a < D; ++a) {
        const int base = int(std::floor(p.x[i][a] / s.dx - 0.5));
        box_lo[a] = std::min(box_lo[a], base - 1);
        box_hi[a] = std::max(box_hi[a], base + 4);
      }
    std::vector<double> mass;
    std::vector<Vec<double, D>> velocity;
    world.grid_state(mass, velocity);
    double total = 0;
    std::size_t outside = 0;
    for (std::size_t node = 0; node < mass.size(); ++node) {
      total += mass[node];
      std::size_t rest = node;
      bool inside = true;
      for (int a = D - 1; a >= 0; --a) {
        const int c = int(rest % std::size_t(s.resolution[a]));
        rest /= std::size_t(s.resolution[a]);
        inside = inside && c >= box_lo[a] && c < box_hi[a];
      }
      if (!inside && (mass[node] != 0.0 || velocity[node][0] != 0.0 || velocity[node][1] != 0.0)) ++outside;
    }
    ASSERT_EQ(outside, 0u) << "substep " << step << ": grid values left away from the particles";
    ASSERT_NEAR(total, particle_mass, 1e-12 * particle_mass) << "substep " << step;
  }
  omp_set_num_threads(saved);
}

TEST(NodeBox, MovingBlockLeavesNoStaleGridValues2D) {
  fly_a_block_across<2>(1);
  fly_a_block_across<2>(2);
}
TEST(NodeBox, MovingBlockLeavesNoStaleGridValues3D) { fly_a_block_across<3>(2); }

}  // namespace
}  // namespace pl::test
