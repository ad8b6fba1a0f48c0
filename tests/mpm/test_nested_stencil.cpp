// NestedStencil and AffineAtNodes (kernels/mpm/nested_stencil.hpp) against the
// node-by-node formulas they regroup: weights, weight gradients, a + B dpos,
// sum_i y_i and sum_i y_i dpos_i^T, node order; and the float error of the
// regrouped outer-product sum when the gathered field is nearly uniform (the
// case that made the centred expansion necessary).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/mpm/nested_stencil.hpp"

namespace pl {
namespace {

template <class Real, int D>
struct Sample {
  QuadraticStencil<Real, D> stencil;
  Vec<Real, D> a;
  Mat<Real, D> B;
  std::vector<Vec<Real, D>> y;  // one per node, in visiting order
};

template <class Real, int D>
Sample<Real, D> sample(std::mt19937& rng, double uniform_part) {
  std::uniform_real_distribution<double> pos(3.0, 9.0), u(-1.0, 1.0);
  Sample<Real, D> s;
  Vec<Real, D> xg;
  for (int m = 0; m < D; ++m) xg[m] = Real(pos(rng));
  s.stencil = QuadraticStencil<Real, D>::at(xg, Real(1));
  Vec<Real, D> mean;
  for (int r = 0; r < D; ++r) {
    s.a[r] = Real(u(rng));
    mean[r] = Real(uniform_part * u(rng));
    for (int c = 0; c < D; ++c) s.B(r, c) = Real(50 * u(rng));
  }
  for_each_stencil_offset<D>([&](const int(&)[D]) {
    Vec<Real, D> yi;
    for (int r = 0; r < D; ++r) yi[r] = mean[r] + Real(u(rng));
    s.y.push_back(yi);
  });
  return s;
}

template <int D>
void check_against_direct_formulas() {
  std::mt19937 rng(7 + D);
  const double dx = 0.03;
  for (int trial = 0; trial < 200; ++trial) {
    const Sample<double, D> s = sample<double, D>(rng, 1.0);
    const AffineAtNodes<double, D> values = AffineAtNodes<double, D>::make(s.a, s.B, s.stencil.fx, dx);
    NestedStencil<double, D> nodes(s.stencil, values);
    int visited = 0;
    std::vector<std::array<int, D>> order;
    for_each_stencil_offset<D>([&](const int(&off)[D]) {
      std::array<int, D> o;
      for (int m = 0; m < D; ++m) o[m] = off[m];
      order.push_back(o);
    });
    Vec<double, D> direct_total = Vec<double, D>::zero();
    Mat<double, D> direct_outer = Mat<double, D>::zero();
    for (std::size_t i = 0; i < order.size(); ++i) {
      int off[D];
      for (int m = 0; m < D; ++m) off[m] = order[i][m];
      const Vec<double, D> dpos = s.stencil.node_offset_cells(off) * dx;
      const double w = s.stencil.weight(off);
      direct_total += w * s.y[i];
      direct_outer += w * outer(s.y[i], dpos);
    }
    auto leaf = [&](const int(&off)[D], double w, const Vec<double, D>& grad, const Vec<double, D>& value) {
      for (int m = 0; m < D; ++m) EXPECT_EQ(off[m], order[visited][m]) << "node " << visited;
      EXPECT_EQ(w, s.stencil.weight(off)) << "the weight is weight()'s product, bit for bit";
      const Vec<double, D> g = s.stencil.weight_gradient(off);
      for (int m = 0; m < D; ++m) EXPECT_NEAR(grad[m], g[m], 1e-15);
      const Vec<double, D> expected = s.a + s.B * (s.stencil.node_offset_cells(off) * dx);
      const Vec<double, D> at = values.at(off);
      for (int m = 0; m < D; ++m) {
        EXPECT_NEAR(value[m], expected[m], 1e-13);
        EXPECT_EQ(value[m], at[m]) << "AffineAtNodes::at must reproduce the nested visit bit for bit";
      }
      const Vec<double, D> y = s.y[visited];
      ++visited;
      return w * y;
    };
    const Vec<double, D> total = nodes.template visit<true>(leaf);
    EXPECT_EQ(visited, D == 2 ? 9 : 27);
    const Mat<double, D> outer_sum = nodes.outer_with_dpos(total, dx);
    for (int r = 0; r < D; ++r) {
      EXPECT_NEAR(total[r], direct_total[r], 1e-14);
      for (int c = 0; c < D; ++c) EXPECT_NEAR(outer_sum(r, c), direct_outer(r, c), 1e-15);
    }
  }
}

TEST(NestedStencil, MatchesTheNodeByNodeFormulas2D) { check_against_direct_formulas<2>(); }
TEST(NestedStencil, MatchesTheNodeByNodeFormulas3D) { check_against_direct_formulas<3>(); }

// A translating body: the gathered field is ~100x its variation across the
// stencil, so sum_i w_i y_i dpos_i^T is a small difference of large terms.  In
// float the regrouped sum must stay as accurate as the direct one (both
// against the double reference), to within a small factor.
template <int D>
void check_float_accuracy_on_a_nearly_uniform_field() {
  std::mt19937 rng(11 + D);
  const double dx = 0.01;
  double worst_nested = 0, worst_direct = 0, scale = 0;
  for (int trial = 0; trial < 500; ++trial) {
    const Sample<double, D> s = sample<double, D>(rng, 100.0);
    QuadraticStencil<float, D> sf;
    for (int m = 0; m < D; ++m) {
      sf.base[m] = s.stencil.base[m];
      sf.fx[m] = float(s.stencil.fx[m]);
      for (int k = 0; k < 3; ++k) sf.w[k][m] = float(s.stencil.w[k][m]);
    }
    Mat<double, D> reference = Mat<double, D>::zero();
    Mat<float, D> direct = Mat<float, D>::zero();
    int i = 0;
    for_each_stencil_offset<D>([&](const int(&off)[D]) {
      Vec<float, D> yf;
      for (int r = 0; r < D; ++r) yf[r] = float(s.y[i][r]);
      Vec<double, D> yd;
      for (int r = 0; r < D; ++r) yd[r] = double(yf[r]);
      int o[D];
      for (int m = 0; m < D; ++m) o[m] = off[m];
      Vec<double, D> dpos_d;
      for (int m = 0; m < D; ++m) dpos_d[m] = (double(o[m]) - double(sf.fx[m])) * dx;
      double wd = 1;
      for (int m = 0; m < D; ++m) wd *= double(sf.w[o[m]][m]);
      reference += wd * outer(yd, dpos_d);
      direct += sf.weight(off) * outer(yf, sf.node_offset_cells(off) * float(dx));
      ++i;
    });
    NestedStencil<float, D> nodes(sf);
    i = 0;
    auto leaf = [&](const int(&)[D], float w, const Vec<float, D>&, const Vec<float, D>&) {
      Vec<float, D> yf;
      for (int r = 0; r < D; ++r) yf[r] = float(s.y[i][r]);
      ++i;
      return w * yf;
    };
    const Vec<float, D> total = nodes.template visit<true>(leaf);
    const Mat<float, D> nested = nodes.outer_with_dpos(total, float(dx));
    for (int r = 0; r < D; ++r)
      for (int c = 0; c < D; ++c) {
        worst_nested = std::max(worst_nested, std::fabs(double(nested(r, c)) - reference(r, c)));
        worst_direct = std::max(worst_direct, std::fabs(double(direct(r, c)) - reference(r, c)));
        scale = std::max(scale, std::fabs(reference(r, c)));
      }
  }
  EXPECT_LE(worst_nested, 4 * worst_direct) << "regrouped sum lost digits (max |entry| " << scale << ")";
}

TEST(NestedStencil, FloatOuterSumAsAccurateAsTheDirectSum2D) { check_float_accuracy_on_a_nearly_uniform_field<2>(); }
TEST(NestedStencil, FloatOuterSumAsAccurateAsTheDirectSum3D) { check_float_accuracy_on_a_nearly_uniform_field<3>(); }

}  // namespace
}  // namespace pl
