// Tests for kernels/math/svd.hpp: rotation-variant SVD and polar rotation.
#include "kernels/math/svd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace {

using pl::Mat;
using pl::Vec;

template <class R, int Dim>
struct Cfg {
  using Real = R;
  static constexpr int D = Dim;
};

template <class C>
class SvdTest : public ::testing::Test {
 protected:
  using Real = typename C::Real;
  static constexpr int D = C::D;
  using M = Mat<Real, D>;
  using V = Vec<Real, D>;

  // Relative tolerance on reconstruction / orthogonality (~50 eps).
  static Real tol() { return std::is_same<Real, float>::value ? Real(1e-5) : Real(1e-12); }

  std::mt19937 rng{12345};

  Real uniform(double lo, double hi) { return Real(std::uniform_real_distribution<double>(lo, hi)(rng)); }

  M random_matrix(double lo = -1, double hi = 1) {
    M m;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) m(i, j) = uniform(lo, hi);
    return m;
  }

  // Random proper rotation, built in double (angle in 2D, unit quaternion in 3D).
  M random_rotation() {
    Mat<double, D> r;
    std::normal_distribution<double> n(0.0, 1.0);
    if constexpr (D == 2) {
      const double a = std::uniform_real_distribution<double>(-M_PI, M_PI)(rng);
      r = {{{std::cos(a), -std::sin(a)}, {std::sin(a), std::cos(a)}}};
    } else {
      double q[4], len = 0;
      for (double& x : q) {
        x = n(rng);
        len += x * x;
      }
      len = std::sqrt(len);
      const double w = q[0] / len, x = q[1] / len, y = q[2] / len, z = q[3] / len;
      r = {{{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
            {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
            {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}}};
    }
    return r.template cast<Real>();
  }

  static M reconstruct(const pl::Svd<Real, D>& s) { return s.U * M::diagonal(s.sigma) * transpose(s.V); }

  static double dist(const M& a, const M& b) { return double(frobenius_norm(a - b)); }

  // Every property the API promises, for any F.
  void expect_valid_svd(const M& F, const pl::Svd<Real, D>& s, double tol_scale = 1) {
    const double t = tol() * tol_scale;
    const double fn = double(frobenius_norm(F));
    ASSERT_TRUE(pl::all_finite(s.U) && pl::all_finite(s.V) && pl::all_finite(s.sigma));
    EXPECT_LE(dist(reconstruct(s), F), t * fn) << "reconstruction";
    EXPECT_LE(dist(transpose(s.U) * s.U, M::identity()), t) << "U orthonormal";
    EXPECT_LE(dist(transpose(s.V) * s.V, M::identity()), t) << "V orthonormal";
    EXPECT_NEAR(double(determinant(s.U)), 1.0, t) << "det U";
    EXPECT_NEAR(double(determinant(s.V)), 1.0, t) << "det V";
    for (int j = 0; j + 1 < D; ++j) {
      EXPECT_GE(s.sigma[j], Real(0)) << "only the last singular value may be negative";
      EXPECT_GE(s.sigma[j], std::fabs(s.sigma[j + 1])) << "sorted by decreasing magnitude";
    }
    // The sign of the last one follows det(F), whenever det(F) is clearly nonzero.
    const double det = double(determinant(F)), det_scale = std::pow(fn, D);
    if (det < -100 * t * det_scale) {
      EXPECT_LT(s.sigma[D - 1], Real(0)) << "inverted F";
    }
    if (det > 100 * t * det_scale) {
      EXPECT_GT(s.sigma[D - 1], Real(0)) << "non-inverted F";
    }
  }

  // F = R1 diag(sig) R2^T with known singular values.
  M with_singular_values(const V& sig) { return random_rotation() * M::diagonal(sig) * transpose(random_rotation()); }
};

using Configs = ::testing::Types<Cfg<float, 2>, Cfg<float, 3>, Cfg<double, 2>, Cfg<double, 3>>;
TYPED_TEST_SUITE(SvdTest, Configs);

TYPED_TEST(SvdTest, IdentityIsExact) {
  using M = typename TestFixture::M;
  const auto s = pl::svd_rotation_variant(M::identity());
  this->expect_valid_svd(M::identity(), s);
  for (int i = 0; i < TestFixture::D; ++i) EXPECT_EQ(s.sigma[i], 1);
  EXPECT_EQ(this->dist(s.U, M::identity()), 0.0);
  EXPECT_EQ(this->dist(s.V, M::identity()), 0.0);
}

TYPED_TEST(SvdTest, ZeroMatrix) {
  using M = typename TestFixture::M;
  const auto s = pl::svd_rotation_variant(M::zero());
  this->expect_valid_svd(M::zero(), s);
  for (int i = 0; i < TestFixture::D; ++i) EXPECT_EQ(s.sigma[i], 0);
  EXPECT_EQ(this->dist(s.U, M::identity()), 0.0);
  EXPECT_EQ(this->dist(s.V, M::identity()), 0.0);
}

TYPED_TEST(SvdTest, RandomMatrices) {
  int inverted = 0;
  for (int k = 0; k < 2000; ++k) {
    const auto F = this->random_matrix();
    if (determinant(F) < 0) ++inverted;
    this->expect_valid_svd(F, pl::svd_rotation_variant(F));
    if (this->HasFailure()) FAIL() << "sample " << k;
  }
  EXPECT_GT(inverted, 500);  // both signs of det were exercised
}

TYPED_TEST(SvdTest, KnownSingularValuesIncludingInverted) {
  using Real = typename TestFixture::Real;
  constexpr int D = TestFixture::D;
  for (int k = 0; k < 500; ++k) {
    typename TestFixture::V sig;
    for (int i = 0; i < D; ++i) sig[i] = this->uniform(0.1, 3.0);
    if (k % 2) sig[this->rng() % D] *= Real(-1);  // odd k: an inverted element
    const auto F = this->with_singular_values(sig);
    const auto s = pl::svd_rotation_variant(F);
    this->expect_valid_svd(F, s);
    // Expected: magnitudes sorted decreasingly, the sign of det on the last one.
    Real mag[D];
    int negatives = 0;
    for (int i = 0; i < D; ++i) {
      mag[i] = std::fabs(sig[i]);
      negatives += sig[i] < 0;
    }
    std::sort(mag, mag + D, [](Real a, Real b) { return a > b; });
    if (negatives % 2) mag[D - 1] = -mag[D - 1];
    for (int i = 0; i < D; ++i) EXPECT_NEAR(double(s.sigma[i]), double(mag[i]), 10 * this->tol() * 3);
    if (this->HasFailure()) FAIL() << "sample " << k;
  }
}

TYPED_TEST(SvdTest, ReflectionGivesNegativeLastValue) {
  using M = typename TestFixture::M;
  constexpr int D = TestFixture::D;
  for (int axis = 0; axis < D; ++axis) {
    M F = M::identity();
    F(axis, axis) = -1;  // reflection across one axis; singular values (1, .., 1, -1)
    const auto s = pl::svd_rotation_variant(F);
    this->expect_valid_svd(F, s);
    for (int i = 0; i + 1 < D; ++i) EXPECT_NEAR(double(s.sigma[i]), 1.0, this->tol());
    EXPECT_NEAR(double(s.sigma[D - 1]), -1.0, this->tol());
  }
  // Point inversion -I in 2D is a rotation by pi (det +1): no negative value.
  if constexpr (D == 2) {
    const auto s = pl::svd_rotation_variant(M::diagonal(-1));
    EXPECT_NEAR(double(s.sigma[1]), 1.0, this->tol());
  }
}

TYPED_TEST(SvdTest, PureRotations) {
  using M = typename TestFixture::M;
  for (int k = 0; k < 200; ++k) {
    const M R = this->random_rotation();
    const auto s = pl::svd_rotation_variant(R);
    this->expect_valid_svd(R, s);
    for (int i = 0; i < TestFixture::D; ++i) EXPECT_NEAR(double(s.sigma[i]), 1.0, this->tol());
    EXPECT_LE(this->dist(pl::polar_rotation(R), R), this->tol());
  }
}

TYPED_TEST(SvdTest, RepeatedSingularValues) {
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  for (int k = 0; k < 200; ++k) {
    V sig = V::constant(this->uniform(0.5, 2.0));  // all equal
    if (D == 3 && k % 2) sig[k % 3] = this->uniform(0.5, 2.0);  // two equal
    if (k % 3 == 0) sig[0] = -sig[0];                           // inverted
    const auto F = this->with_singular_values(sig);
    const auto s = pl::svd_rotation_variant(F);
    this->expect_valid_svd(F, s);
    if (this->HasFailure()) FAIL() << "sample " << k;
  }
  // Uniform scaling: exact diagonal answer.
  const auto s = pl::svd_rotation_variant(TestFixture::M::diagonal(3));
  for (int i = 0; i < D; ++i) EXPECT_EQ(s.sigma[i], 3);
}

TYPED_TEST(SvdTest, RankDeficient) {
  using M = typename TestFixture::M;
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  for (int k = 0; k < 300; ++k) {
    for (int rank = 1; rank < D; ++rank) {
      V sig;
      for (int i = 0; i < D; ++i) sig[i] = i < rank ? this->uniform(0.2, 2.0) : 0;
      const M F = this->with_singular_values(sig);
      const auto s = pl::svd_rotation_variant(F);
      this->expect_valid_svd(F, s);
      for (int i = rank; i < D; ++i) EXPECT_LE(std::fabs(double(s.sigma[i])), 10 * this->tol());
    }
    // Exactly rank one, no rounding in F: u v^T.
    M F = outer(this->random_rotation() * V::unit(0), V::unit(k % D)) * this->uniform(0.1, 10.0);
    this->expect_valid_svd(F, pl::svd_rotation_variant(F));
    // A zero column / zero row in the middle.
    F = this->random_matrix();
    for (int i = 0; i < D; ++i) F(i, k % D) = 0;
    this->expect_valid_svd(F, pl::svd_rotation_variant(F));
    F = this->random_matrix();
    for (int j = 0; j < D; ++j) F(k % D, j) = 0;
    this->expect_valid_svd(F, pl::svd_rotation_variant(F));
    if (this->HasFailure()) FAIL() << "sample " << k;
  }
}

TYPED_TEST(SvdTest, ExtremeUniformScaling) {
  using Real = typename TestFixture::Real;
  // 1e-30 / 1e30 exercise the internal rescaling (squares would under/overflow in float).
  for (const double scale : {1e-30, 1e-6, 1e-3, 1e3, 1e6, 1e30}) {
    for (int k = 0; k < 200; ++k) {
      const auto F = this->random_matrix() * Real(scale);
      const auto s = pl::svd_rotation_variant(F);
      this->expect_valid_svd(F, s);
      if (this->HasFailure()) FAIL() << "scale " << scale << " sample " << k;
    }
  }
}

TYPED_TEST(SvdTest, IllConditioned) {
  using Real = typename TestFixture::Real;
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  const bool is_float = std::is_same<Real, float>::value;
  // Widely spread singular values, including two small ones close to each other
  // (forming F^T F explicitly would mix their singular vectors).
  const double small = is_float ? 1e-3 : 1e-6;
  for (int k = 0; k < 300; ++k) {
    V sig;
    sig[0] = Real(1);
    sig[1] = Real(small * (D == 3 ? 10 : 1));
    if constexpr (D == 3) sig[2] = Real(small * (k % 2 ? -1 : 1));
    const auto F = this->with_singular_values(sig);
    const auto s = pl::svd_rotation_variant(F);
    this->expect_valid_svd(F, s);
    for (int i = 0; i < D; ++i) EXPECT_NEAR(double(s.sigma[i]), double(sig[i]), 10 * this->tol());
    if (this->HasFailure()) FAIL() << "sample " << k;
  }
}

TYPED_TEST(SvdTest, NearlySingularAndNearlyInverted) {
  using Real = typename TestFixture::Real;
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  for (int k = 0; k < 300; ++k) {
    V sig;
    for (int i = 0; i < D; ++i) sig[i] = this->uniform(0.5, 2.0);
    sig[k % D] = Real((k % 2 ? -1 : 1) * std::pow(10.0, -double(k % 8)));  // crosses towards 0 from both sides
    const auto F = this->with_singular_values(sig);
    this->expect_valid_svd(F, pl::svd_rotation_variant(F));
    if (this->HasFailure()) FAIL() << "sample " << k;
  }
}

TYPED_TEST(SvdTest, PolarRotationOfRotationTimesSpd) {
  using M = typename TestFixture::M;
  using V = typename TestFixture::V;
  constexpr int D = TestFixture::D;
  for (int k = 0; k < 500; ++k) {
    const M R = this->random_rotation();
    const M Q = this->random_rotation();
    V d;
    for (int i = 0; i < D; ++i) d[i] = this->uniform(0.3, 3.0);
    const M S = Q * M::diagonal(d) * transpose(Q);
    const M P = pl::polar_rotation(R * S);
    EXPECT_LE(this->dist(P, R), 20 * this->tol()) << "sample " << k;
    EXPECT_NEAR(double(determinant(P)), 1.0, this->tol());
    // P^T F is the symmetric stretch S.
    EXPECT_LE(this->dist(transpose(P) * (R * S), S), 20 * this->tol() * double(frobenius_norm(S)));
    if (this->HasFailure()) FAIL() << "sample " << k;
  }
}

TYPED_TEST(SvdTest, PolarRotationIsProperForInvertedF) {
  using M = typename TestFixture::M;
  for (int k = 0; k < 300; ++k) {
    M F = this->random_matrix();
    if (determinant(F) > 0)
      for (int j = 0; j < TestFixture::D; ++j) F(0, j) = -F(0, j);
    const M P = pl::polar_rotation(F);
    EXPECT_LE(this->dist(transpose(P) * P, M::identity()), this->tol());
    EXPECT_NEAR(double(determinant(P)), 1.0, this->tol());
  }
}

TYPED_TEST(SvdTest, NonFiniteInputTerminates) {
  using M = typename TestFixture::M;
  using Real = typename TestFixture::Real;
  M F = M::identity();
  F(0, 0) = std::numeric_limits<Real>::quiet_NaN();
  const auto s = pl::svd_rotation_variant(F);
  EXPECT_FALSE(pl::all_finite(this->reconstruct(s)));
  // NaN surrounded by zeros must not be mistaken for the zero matrix.
  M G = M::zero();
  G(TestFixture::D - 1, 0) = std::numeric_limits<Real>::quiet_NaN();
  EXPECT_FALSE(pl::all_finite(pl::svd_rotation_variant(G).sigma));
  G(TestFixture::D - 1, 0) = std::numeric_limits<Real>::infinity();
  EXPECT_FALSE(pl::all_finite(this->reconstruct(pl::svd_rotation_variant(G))));
}

}  // namespace
