// Tests for kernels/math/polar.hpp and polar_adjoint.hpp: the fast polar
// rotation (2D closed form, 3D Newton) agrees with U V^T of the SVD, takes the
// fast path where it should and the SVD where it must (inverted, near-singular,
// non-finite F), and its SVD-free VJP matches central finite differences in
// double (and the SVD-based VJP it replaces).
#include "kernels/math/polar_adjoint.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace {

using pl::Mat;
using pl::PolarFactors;
using pl::Svd;

double uniform(std::mt19937& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

template <class Real, int D>
Mat<Real, D> near_identity(std::mt19937& rng, double amplitude) {
  Mat<Real, D> m = Mat<Real, D>::identity();
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) m(i, j) += Real(uniform(rng, -amplitude, amplitude));
  return m;
}

template <class Real, int D>
double max_diff(const Mat<Real, D>& a, const Mat<Real, D>& b) {
  double m = 0;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) m = std::fmax(m, std::fabs(double(a(i, j)) - double(b(i, j))));
  return m;
}

template <class Real, int D>
void check_matches_svd() {
  std::mt19937 rng(31 + D);
  const double tol = std::is_same<Real, float>::value ? 2e-5 : 1e-12;
  int fast = 0;
  for (int k = 0; k < 500; ++k) {
    // Moderate to strong deformations: singular values roughly in [0.2, 2].
    const Mat<Real, D> F = near_identity<Real, D>(rng, k < 250 ? 0.3 : 0.6);
    Svd<Real, D> s;
    const PolarFactors<Real, D> f = pl::polar_factors(F, s);
    const Svd<Real, D> ref = pl::svd_rotation_variant(F);
    const Mat<Real, D> R_ref = ref.U * transpose(ref.V);
    fast += f.fast;
    if (double(ref.sigma[D - 1]) <= 0) EXPECT_FALSE(f.fast) << "inverted F must take the SVD path, sample " << k;
    EXPECT_LE(max_diff(f.R, R_ref), tol * std::fabs(double(ref.sigma[0] / ref.sigma[D - 1]))) << "sample " << k;
    EXPECT_LE(max_diff(pl::polar_rotation(F), f.R), 0.0) << "polar_rotation is polar_factors(F).R";
  }
  EXPECT_GT(fast, 400) << "the fast path should cover almost all of these F";
}

TEST(PolarFast, MatchesSvdFloat2D) { check_matches_svd<float, 2>(); }
TEST(PolarFast, MatchesSvdFloat3D) { check_matches_svd<float, 3>(); }
TEST(PolarFast, MatchesSvdDouble2D) { check_matches_svd<double, 2>(); }
TEST(PolarFast, MatchesSvdDouble3D) { check_matches_svd<double, 3>(); }

template <int D>
void check_domain() {
  using M = Mat<double, D>;
  Svd<double, D> s;
  EXPECT_TRUE(pl::polar_factors(M::identity(), s).fast);
  EXPECT_TRUE(pl::polar_factors(M(1e-20 * M::identity()), s).fast) << "scale-free domain";
  EXPECT_EQ(max_diff(pl::polar_rotation(M::identity()), M::identity()), 0.0);
  M reflected = M::identity();
  reflected(0, 0) = -1;  // det < 0: the rotation variant keeps det R = +1 through the SVD
  const PolarFactors<double, D> f = pl::polar_factors(reflected, s);
  EXPECT_FALSE(f.fast);
  EXPECT_NEAR(determinant(f.R), 1.0, 1e-12);
  M thin = M::identity();
  thin(D - 1, D - 1) = 1e-5;  // s_min / s_max below the fast domain
  EXPECT_FALSE(pl::polar_factors(thin, s).fast);
  EXPECT_FALSE(pl::polar_factors(M::zero(), s).fast);
  M bad = M::identity();
  bad(0, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(pl::polar_factors(bad, s).fast);
  EXPECT_FALSE(pl::all_finite(pl::polar_rotation(bad)));
}

TEST(PolarFast, DomainAndFallbacks2D) { check_domain<2>(); }
TEST(PolarFast, DomainAndFallbacks3D) { check_domain<3>(); }

// svd_rotation_variant_fast (2D closed form through the polar factor; 3D and
// the rest of 2D: the general SVD): a valid rotation-variant SVD with the
// general one's singular values, and exact at F = I.
template <class Real, int D>
void check_fast_svd() {
  using M = Mat<Real, D>;
  std::mt19937 rng(51 + D);
  const double tol = std::is_same<Real, float>::value ? 1e-5 : 1e-13;
  for (int k = 0; k < 500; ++k) {
    const M F = near_identity<Real, D>(rng, k < 250 ? 0.3 : 0.6);
    const Svd<Real, D> s = pl::svd_rotation_variant_fast(F);
    const Svd<Real, D> ref = pl::svd_rotation_variant(F);
    for (int i = 0; i < D; ++i)
      EXPECT_NEAR(double(s.sigma[i]), double(ref.sigma[i]), tol * double(ref.sigma[0])) << "sample " << k;
    for (int i = 0; i + 1 < D; ++i) EXPECT_GE(s.sigma[i], s.sigma[i + 1]) << "sorted, sample " << k;
    EXPECT_LE(max_diff(M(s.U * M::diagonal(s.sigma) * transpose(s.V)), F), 4 * tol) << "sample " << k;
    EXPECT_LE(max_diff(M(transpose(s.U) * s.U), M::identity()), tol) << "sample " << k;
    EXPECT_LE(max_diff(M(transpose(s.V) * s.V), M::identity()), tol) << "sample " << k;
    EXPECT_NEAR(double(determinant(s.U)), 1.0, tol);
    EXPECT_NEAR(double(determinant(s.V)), 1.0, tol);
  }
  const Svd<Real, D> id = pl::svd_rotation_variant_fast(M::identity());
  EXPECT_EQ(max_diff(id.U, M::identity()), 0.0);
  EXPECT_EQ(max_diff(id.V, M::identity()), 0.0);
}

TEST(PolarFast, SvdThroughThePolarFactorFloat2D) { check_fast_svd<float, 2>(); }
TEST(PolarFast, SvdThroughThePolarFactorDouble2D) { check_fast_svd<double, 2>(); }
TEST(PolarFast, SvdThroughThePolarFactorFloat3D) { check_fast_svd<float, 3>(); }

template <int D>
Mat<double, D> adj_fast(const Mat<double, D>& F, const Mat<double, D>& adj_R) {
  Svd<double, D> s;
  const PolarFactors<double, D> f = pl::polar_factors(F, s);
  EXPECT_TRUE(f.fast);
  Mat<double, D> adj_F = Mat<double, D>::zero();
  pl::adj_polar_rotation_factored(F, f, s, adj_R, adj_F);
  return adj_F;
}

// Central differences, h = 1e-6 on O(1) entries; relative Frobenius error <= 1e-6
// (as tests/math/test_svd_adjoint.cpp).
template <int D>
void check_adjoint() {
  using M = Mat<double, D>;
  std::mt19937 rng(77 + D);
  for (int k = 0; k < 40; ++k) {
    M F = near_identity<double, D>(rng, 0.4);
    if (k % 4 == 3) F = 3.0 * F;  // scale: R is scale-free, its VJP scales as 1 / |F|
    Svd<double, D> probe;
    if (!pl::polar_factors(F, probe).fast) continue;
    const M adj_R = near_identity<double, D>(rng, 1.0);
    const M adj = adj_fast<D>(F, adj_R);
    M fd;
    const double h = 1e-6;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) {
        M a = F, b = F;
        a(i, j) += h;
        b(i, j) -= h;
        fd(i, j) = (ddot(pl::polar_rotation(a), adj_R) - ddot(pl::polar_rotation(b), adj_R)) / (2 * h);
      }
    EXPECT_LE(frobenius_norm(M(adj - fd)), 1e-6 * frobenius_norm(fd)) << "sample " << k;
    // The SVD-based VJP it replaces gives the same numbers.
    M via_svd = M::zero();
    pl::adj_polar_rotation(F, adj_R, via_svd);
    EXPECT_LE(frobenius_norm(M(adj - via_svd)), 1e-10 * frobenius_norm(via_svd)) << "sample " << k;
  }
  // F = I (repeated singular values: smooth for R, K = (D - 1) I) and a rotation.
  const M adj_R = near_identity<double, D>(rng, 1.0);
  M via_svd = M::zero();
  pl::adj_polar_rotation(M::identity(), adj_R, via_svd);
  EXPECT_LE(frobenius_norm(M(adj_fast<D>(M::identity(), adj_R) - via_svd)), 1e-12);
}

TEST(PolarFast, AdjointMatchesFiniteDifferences2D) { check_adjoint<2>(); }
TEST(PolarFast, AdjointMatchesFiniteDifferences3D) { check_adjoint<3>(); }

}  // namespace
