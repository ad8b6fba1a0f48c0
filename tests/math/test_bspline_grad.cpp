// QuadraticStencil::weight_gradient against central finite differences of the
// weights, inside a cell and across the cell boundaries where base jumps (the
// quadratic B-spline is C1, so the gradient is continuous there).
#include <gtest/gtest.h>

#include <random>

#include "kernels/math/bspline.hpp"

namespace pl {
namespace {

// Weight of a fixed grid node (not a stencil offset: base may change with xg).
template <int D>
double node_weight(const Vec<double, D>& xg, const int (&node)[D]) {
  const auto s = QuadraticStencil<double, D>::at(xg, 1.0);
  int off[D];
  for (int a = 0; a < D; ++a) {
    off[a] = node[a] - s.base[a];
    if (off[a] < 0 || off[a] > 2) return 0.0;  // outside the support
  }
  return s.weight(off);
}

template <int D>
void check_random_positions(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> pos(3.0, 9.0);
  const double h = 1e-6;
  double worst = 0;
  for (int trial = 0; trial < 200; ++trial) {
    Vec<double, D> xg;
    for (int a = 0; a < D; ++a) xg[a] = pos(rng);
    const auto s = QuadraticStencil<double, D>::at(xg, 1.0);
    for_each_stencil_offset<D>([&](const int(&off)[D]) {
      int node[D];
      for (int a = 0; a < D; ++a) node[a] = s.base[a] + off[a];
      const Vec<double, D> g = s.weight_gradient(off);
      for (int a = 0; a < D; ++a) {
        Vec<double, D> xp = xg, xm = xg;
        xp[a] += h;
        xm[a] -= h;
        const double fd = (node_weight<D>(xp, node) - node_weight<D>(xm, node)) / (2 * h);
        worst = std::max(worst, std::abs(fd - g[a]));
      }
    });
  }
  EXPECT_LT(worst, 1e-8);  // O(h^2) truncation; the weights are quadratic, so only round-off remains
}

TEST(BsplineGradient, MatchesFiniteDifferences2D) { check_random_positions<2>(1); }
TEST(BsplineGradient, MatchesFiniteDifferences3D) { check_random_positions<3>(2); }

TEST(BsplineGradient, OneDimensionalDerivativesAndPartitionOfUnity) {
  // Sum of weights is 1 and the first moment reproduces x: their derivatives
  // must be 0 and 1 for every fx in [0.5, 1.5).
  for (double f = 0.5; f < 1.5; f += 0.0625) {
    double sum = 0, moment = 0;
    for (int k = 0; k < 3; ++k) {
      const double d = QuadraticStencil<double, 1>::dweight_1d(k, f);
      sum += d;
      moment += d * (k - f);
    }
    // d/df sum_k w_k (k - f) = sum_k w_k' (k - f) - sum_k w_k = 0  =>  moment = 1
    EXPECT_NEAR(sum, 0.0, 1e-15) << f;
    EXPECT_NEAR(moment, 1.0, 1e-15) << f;
  }
}

TEST(BsplineGradient, ContinuousAcrossCellBoundaries) {
  // At xg = 4.5 base jumps from 3 to 4: nodes 4 and 5 stay in the stencil
  // (at a different offset) and their gradients must agree from both sides
  // (C1 spline); node 6 enters and node 3 leaves with zero weight and slope.
  const double eps = 1e-9;
  auto grad_at = [&](double x, int node) {
    Vec<double, 1> xg{{x}};
    const auto s = QuadraticStencil<double, 1>::at(xg, 1.0);
    const int off[1] = {node - s.base[0]};
    return s.weight_gradient(off)[0];
  };
  EXPECT_NEAR(grad_at(4.5 - eps, 4), grad_at(4.5 + eps, 4), 1e-8);
  EXPECT_NEAR(grad_at(4.5 - eps, 5), grad_at(4.5 + eps, 5), 1e-8);
  EXPECT_NEAR(grad_at(4.5 - eps, 4), -1.0, 1e-8);  // r = 0.5 from the node: 0.75 - r^2 has slope -2r
  EXPECT_NEAR(grad_at(4.5 + eps, 6), 0.0, 1e-8);
  EXPECT_NEAR(grad_at(4.5 - eps, 3), 0.0, 1e-8);
}

}  // namespace
}  // namespace pl
