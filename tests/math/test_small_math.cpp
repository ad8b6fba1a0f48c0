// Tests for kernels/math/{vec,mat,bspline}.hpp.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/math/bspline.hpp"
#include "kernels/math/mat.hpp"
#include "kernels/math/vec.hpp"

namespace {

using pl::Mat;
using pl::Vec;

template <class R, int Dim>
struct Cfg {
  using Real = R;
  static constexpr int D = Dim;
};

template <class C>
class SmallMathTest : public ::testing::Test {
 protected:
  using Real = typename C::Real;
  static constexpr int D = C::D;
  using M = Mat<Real, D>;
  using V = Vec<Real, D>;

  static double tol() { return std::is_same<Real, float>::value ? 1e-5 : 1e-13; }

  std::mt19937 rng{2024};
  Real uniform(double lo, double hi) { return Real(std::uniform_real_distribution<double>(lo, hi)(rng)); }
  M random_matrix() {
    M m;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) m(i, j) = uniform(-1, 1);
    return m;
  }
  V random_vec(double lo = -1, double hi = 1) {
    V v;
    for (int i = 0; i < D; ++i) v[i] = uniform(lo, hi);
    return v;
  }
  static double dist(const M& a, const M& b) { return double(frobenius_norm(a - b)); }
  static double dist(const V& a, const V& b) { return double(norm(a - b)); }
};

using Configs = ::testing::Types<Cfg<float, 2>, Cfg<float, 3>, Cfg<double, 2>, Cfg<double, 3>>;
TYPED_TEST_SUITE(SmallMathTest, Configs);

TYPED_TEST(SmallMathTest, DeterminantOfKnownMatrices) {
  using M = typename TestFixture::M;
  constexpr int D = TestFixture::D;
  EXPECT_EQ(determinant(M::identity()), 1);
  EXPECT_EQ(determinant(M::diagonal(2)), D == 2 ? 4 : 8);
  // Swapping two rows flips the sign; a row of zeros gives 0.
  M P = M::zero();
  for (int i = 0; i < D; ++i) P((i + 1) % D, i) = 1;  // cyclic permutation
  EXPECT_EQ(determinant(P), D == 2 ? -1 : 1);
  if constexpr (D == 2) {
    const M A = {{{1, 2}, {3, 4}}};
    EXPECT_EQ(determinant(A), -2);
  } else {
    const M A = {{{2, -3, 1}, {2, 0, -1}, {1, 4, 5}}};
    EXPECT_EQ(determinant(A), 49);
  }
}

TYPED_TEST(SmallMathTest, DeterminantIsMultiplicativeAndTransposeInvariant) {
  for (int k = 0; k < 200; ++k) {
    const auto A = this->random_matrix(), B = this->random_matrix();
    EXPECT_NEAR(double(determinant(A * B)), double(determinant(A) * determinant(B)), this->tol());
    EXPECT_NEAR(double(determinant(transpose(A))), double(determinant(A)), this->tol());
  }
}

TYPED_TEST(SmallMathTest, CofactorIdentities) {
  using M = typename TestFixture::M;
  using Real = typename TestFixture::Real;
  for (int k = 0; k < 200; ++k) {
    const M A = this->random_matrix();
    const M C = cofactor(A);
    // A cof(A)^T = det(A) I holds for every A, singular or not.
    EXPECT_LE(this->dist(A * transpose(C), M::diagonal(determinant(A))), 10 * this->tol());
    // cof(A) = det(A) A^{-T}.
    if (std::fabs(determinant(A)) > Real(0.1)) {
      EXPECT_LE(this->dist(C, transpose(inverse(A)) * determinant(A)), 100 * this->tol());
    }
    // cof(A B) = cof(A) cof(B).
    const M B = this->random_matrix();
    EXPECT_LE(this->dist(cofactor(A * B), C * cofactor(B)), 10 * this->tol());
  }
  // On a singular matrix the cofactor stays finite and A cof(A)^T = 0.
  M S = this->random_matrix();
  for (int j = 0; j < TestFixture::D; ++j) S(1, j) = S(0, j) * Real(2);
  EXPECT_TRUE(pl::all_finite(cofactor(S)));
  EXPECT_LE(this->dist(S * transpose(cofactor(S)), M::zero()), 10 * this->tol());
}

TYPED_TEST(SmallMathTest, InverseIdentities) {
  using M = typename TestFixture::M;
  int tested = 0;
  for (int k = 0; k < 200; ++k) {
    const M A = this->random_matrix();
    if (std::fabs(determinant(A)) < 0.1) continue;
    ++tested;
    EXPECT_LE(this->dist(A * inverse(A), M::identity()), 100 * this->tol());
    EXPECT_LE(this->dist(inverse(A) * A, M::identity()), 100 * this->tol());
    EXPECT_NEAR(double(determinant(inverse(A)) * determinant(A)), 1.0, 100 * this->tol());
  }
  EXPECT_GT(tested, 50);
}

TYPED_TEST(SmallMathTest, TransposeAndProducts) {
  using M = typename TestFixture::M;
  constexpr int D = TestFixture::D;
  for (int k = 0; k < 100; ++k) {
    const M A = this->random_matrix(), B = this->random_matrix();
    EXPECT_EQ(this->dist(transpose(transpose(A)), A), 0.0);
    EXPECT_LE(this->dist(transpose(A * B), transpose(B) * transpose(A)), this->tol());
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) EXPECT_EQ(transpose(A)(i, j), A(j, i));
    EXPECT_NEAR(double(trace(A * B)), double(ddot(transpose(A), B)), this->tol());
    EXPECT_NEAR(double(trace(A + B)), double(trace(A) + trace(B)), this->tol());
  }
}

TYPED_TEST(SmallMathTest, MatVec) {
  using M = typename TestFixture::M;
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  for (int k = 0; k < 100; ++k) {
    const M A = this->random_matrix(), B = this->random_matrix();
    const V x = this->random_vec(), y = this->random_vec();
    EXPECT_LE(this->dist((A * B) * x, A * (B * x)), this->tol());
    // Row i of A x is the dot of row i with x; unit vectors pick out columns.
    const V Ax = A * x;
    for (int i = 0; i < D; ++i) {
      typename TestFixture::Real s = 0;
      for (int j = 0; j < D; ++j) s += A(i, j) * x[j];
      EXPECT_NEAR(double(Ax[i]), double(s), this->tol());
      const V col = A * V::unit(i);
      for (int r = 0; r < D; ++r) EXPECT_EQ(col[r], A(r, i));
    }
    // y^T A x = (A^T y) . x and outer(x, y) z = x (y . z).
    EXPECT_NEAR(double(dot(y, A * x)), double(dot(transpose(A) * y, x)), this->tol());
    EXPECT_LE(this->dist(outer(x, y) * x, x * dot(y, x)), this->tol());
  }
  if constexpr (D == 2) {
    const M A = {{{1, 2}, {3, 4}}};
    const V r = A * V{{5, 6}};
    EXPECT_EQ(r[0], 17);
    EXPECT_EQ(r[1], 39);
  } else {
    const M A = {{{1, 2, 3}, {4, 5, 6}, {7, 8, 10}}};
    const V r = A * V{{1, -1, 2}};
    EXPECT_EQ(r[0], 5);
    EXPECT_EQ(r[1], 11);
    EXPECT_EQ(r[2], 19);
  }
}

TYPED_TEST(SmallMathTest, QuadraticStencilPartitionOfUnityAndFirstMoment) {
  using Real = typename TestFixture::Real;
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  for (int k = 0; k < 500; ++k) {
    const Real inv_dx = this->uniform(1, 64);
    const V x = this->random_vec(-3, 3);
    const auto st = pl::QuadraticStencil<Real, D>::at(x, inv_dx);
    double wsum = 0;
    V moment = V::zero();
    bool nonnegative = true;
    pl::for_each_stencil_offset<D>([&](const int(&off)[D]) {
      const Real w = st.weight(off);
      nonnegative = nonnegative && w >= 0;
      wsum += double(w);
      moment += st.node_offset_cells(off) * w;
    });
    EXPECT_TRUE(nonnegative);
    EXPECT_NEAR(wsum, 1.0, 10 * this->tol());
    for (int a = 0; a < D; ++a) {
      EXPECT_NEAR(double(moment[a]), 0.0, 10 * this->tol()) << "first moment, axis " << a;
      EXPECT_GE(st.fx[a], Real(0.5));
      EXPECT_LT(st.fx[a], Real(1.5));
      // base + fx is the particle position in grid units.
      EXPECT_NEAR(double(st.base[a]) + double(st.fx[a]), double(x[a] * inv_dx), 1e-4 * std::fabs(double(x[a] * inv_dx)) + 1e-6);
    }
    if (this->HasFailure()) FAIL() << "sample " << k;
  }
}

TYPED_TEST(SmallMathTest, QuadraticStencilBaseUsesFloor) {
  using Real = typename TestFixture::Real;
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  // xg - 0.5 = -0.8: floor gives -1 where truncation would give 0.
  const auto st = pl::QuadraticStencil<Real, D>::at(V::constant(Real(-0.3)), Real(1));
  for (int a = 0; a < D; ++a) {
    EXPECT_EQ(st.base[a], -1);
    EXPECT_NEAR(double(st.fx[a]), 0.7, 1e-6);
  }
  // Deep in the negative range, and a positive reference point.
  const auto neg = pl::QuadraticStencil<Real, D>::at(V::constant(Real(-2.25)), Real(2));  // xg = -4.5
  for (int a = 0; a < D; ++a) EXPECT_EQ(neg.base[a], -5);
  const auto pos = pl::QuadraticStencil<Real, D>::at(V::constant(Real(1.2)), Real(1));  // xg - 0.5 = 0.7
  for (int a = 0; a < D; ++a) EXPECT_EQ(pos.base[a], 0);
}

TYPED_TEST(SmallMathTest, QuadraticStencilKnownWeights) {
  using Real = typename TestFixture::Real;
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  // Particle exactly on node 3 (xg = 3): base = 2, fx = 1, weights (1/8, 3/4, 1/8).
  const auto st = pl::QuadraticStencil<Real, D>::at(V::constant(Real(0.75)), Real(4));
  for (int a = 0; a < D; ++a) {
    EXPECT_EQ(st.base[a], 2);
    EXPECT_NEAR(double(st.w[0][a]), 0.125, 1e-7);
    EXPECT_NEAR(double(st.w[1][a]), 0.75, 1e-7);
    EXPECT_NEAR(double(st.w[2][a]), 0.125, 1e-7);
  }
}

TEST(SmallMath, CrossProduct) {
  using V3 = Vec<double, 3>;
  const V3 c = cross(V3::unit(0), V3::unit(1));
  EXPECT_EQ(c[0], 0);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[2], 1);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int k = 0; k < 100; ++k) {
    const V3 a{{u(rng), u(rng), u(rng)}}, b{{u(rng), u(rng), u(rng)}};
    const V3 axb = cross(a, b);
    EXPECT_NEAR(dot(axb, a), 0.0, 1e-14);
    EXPECT_NEAR(dot(axb, b), 0.0, 1e-14);
    // |a x b|^2 = |a|^2 |b|^2 - (a.b)^2; det[a; b; a x b] = |a x b|^2.
    EXPECT_NEAR(squared_norm(axb), squared_norm(a) * squared_norm(b) - dot(a, b) * dot(a, b), 1e-14);
    const Mat<double, 3> M{{{a[0], a[1], a[2]}, {b[0], b[1], b[2]}, {axb[0], axb[1], axb[2]}}};
    EXPECT_NEAR(determinant(M), squared_norm(axb), 1e-14);
  }
}

}  // namespace
