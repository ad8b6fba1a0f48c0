// Model-specific checks of the plastic return mappings (project()): the state
// ends on or inside the yield surface, exactly as each header states, and
// states inside are left alone.  double, D = 2 and 3.
#include <gtest/gtest.h>

#include "material_test_util.hpp"

namespace pl::materials {
namespace {

using namespace testing;

template <int D>
Vec<double, D> singular_values(const Matd<D>& F) {
  return svd_rotation_variant(F).sigma;
}

/// Random F whose Hencky strain has mean `mean` (tr eps = D mean) and
/// deviatoric norm `dev_norm`, in a random direction.
template <int D>
Matd<D> f_with_hencky_strain(std::mt19937& rng, double mean, double dev_norm) {
  Vec<double, D> dir;
  double m = 0;
  do {
    for (int i = 0; i < D; ++i) dir[i] = uniform(rng, -1, 1);
    m = 0;
    for (int i = 0; i < D; ++i) m += dir[i] / D;
    for (int i = 0; i < D; ++i) dir[i] -= m;
  } while (norm(dir) < 0.1);
  dir = dir * (1.0 / norm(dir));
  Vec<double, D> s;
  for (int i = 0; i < D; ++i) s[i] = std::exp(mean + dev_norm * dir[i]);
  return f_from_singular_values<D>(rng, s);
}

// ---------------------------------------------------------------- von Mises

template <int D>
void von_mises_checks() {
  using M = VonMises;
  auto p = default_params<M>();
  p[M::kYieldStress] = 300.0;
  std::mt19937 rng(101 + D);
  const double bound = std::sqrt(2.0 / 3.0) * p[M::kYieldStress];
  const double mu = lame_mu(p[M::kE], p[M::kNu]);
  for (int trial = 0; trial < 20; ++trial) {
    // Outside: deviatoric Hencky strain beyond the radius bound / (2 mu).
    const double radius = bound / (2 * mu);
    Matd<D> F =
        f_with_hencky_strain<D>(rng, uniform(rng, -0.1, 0.1), radius * uniform(rng, 1.1, 20.0));
    const double dev_trial = deviatoric_norm(kirchhoff<M, D>(p.data(), F, 0.0));
    ASSERT_GT(dev_trial, bound * 1.01) << "test setup: trial must be outside";
    const double J0 = determinant(F);
    double plastic = 0;
    M::project<double, D>(p.data(), F, plastic, 1e-3);
    EXPECT_NEAR(deviatoric_norm(kirchhoff<M, D>(p.data(), F, 0.0)), bound, 1e-9 * bound)
        << "D=" << D << " trial " << trial;
    EXPECT_NEAR(determinant(F), J0, 1e-12 * J0) << "plastic flow must be isochoric";
    EXPECT_EQ(plastic, 0.0);

    // Inside: a small strain stays untouched, bit for bit.
    Matd<D> G =
        f_with_hencky_strain<D>(rng, uniform(rng, -0.1, 0.1), radius * uniform(rng, 0.0, 0.95));
    const Matd<D> G0 = G;
    M::project<double, D>(p.data(), G, plastic, 1e-3);
    EXPECT_EQ(max_abs_diff(G, G0), 0.0);
  }
}

TEST(VonMises, ReturnMapping2D) { von_mises_checks<2>(); }
TEST(VonMises, ReturnMapping3D) { von_mises_checks<3>(); }

// ---------------------------------------------------------- Drucker-Prager

/// f(tau) = ||dev tau|| + alpha tr tau - k_c (drucker_prager.hpp).
template <int D>
double dp_yield(const double* p, const Matd<D>& F) {
  using M = DruckerPrager;
  double alpha, k_c;
  M::cone(p, alpha, k_c);
  const Matd<D> tau = kirchhoff<M, D>(p, F, 0.0);
  return deviatoric_norm(tau) + alpha * trace(tau) - k_c;
}

template <int D>
void drucker_prager_checks(double cohesion) {
  using M = DruckerPrager;
  auto p = default_params<M>();
  p[M::kCohesion] = cohesion;
  std::mt19937 rng(201 + D);
  const double scale = modulus<M>(p.data());
  const double mu = lame_mu(p[M::kE], p[M::kNu]), lambda = lame_lambda(p[M::kE], p[M::kNu]);
  double alpha, k_c;
  M::cone(p.data(), alpha, k_c);
  const double tr_apex = k_c / (alpha * (D * lambda + 2 * mu));
  double plastic = 0;
  for (int trial = 0; trial < 20; ++trial) {
    // Expansion past the apex -> F^T F = exp(2 tr_apex / D) I (a rotation when c = 0).
    {
      Vec<double, D> s;
      for (int i = 0; i < D; ++i) s[i] = std::exp(tr_apex / D + uniform(rng, 0.0, 0.05));
      Matd<D> F = f_from_singular_values<D>(rng, s);
      M::project<double, D>(p.data(), F, plastic, 1e-3);
      const Matd<D> expected = Matd<D>::diagonal(std::exp(2 * tr_apex / D));
      EXPECT_LE(max_abs_diff(transpose(F) * F, expected), 1e-12) << "apex, trial " << trial;
      EXPECT_GT(determinant(F), 0.0);
      EXPECT_LE(std::fabs(dp_yield<D>(p.data(), F)), 1e-9 * scale);
    }
    // Compression with large shear -> exactly on the cone, volume kept.
    {
      const double mean = uniform(rng, -0.05, 0.0) + tr_apex / D;
      // On the cone: 2 mu ||dev eps|| = k_c - alpha (D lambda + 2 mu) D mean.
      const double on_cone = (k_c - alpha * (D * lambda + 2 * mu) * D * mean) / (2 * mu);
      Matd<D> F = f_with_hencky_strain<D>(rng, mean, on_cone * uniform(rng, 1.1, 5.0));
      ASSERT_GT(dp_yield<D>(p.data(), F), 0.0) << "test setup: trial must be outside";
      const double J0 = determinant(F);
      M::project<double, D>(p.data(), F, plastic, 1e-3);
      EXPECT_LE(std::fabs(dp_yield<D>(p.data(), F)), 1e-9 * scale) << "cone, trial " << trial;
      EXPECT_NEAR(determinant(F), J0, 1e-12 * J0);
    }
    // Compression with small shear -> inside, unchanged.
    {
      const double mean = uniform(rng, -0.05, 0.0) + tr_apex / D;
      const double on_cone = (k_c - alpha * (D * lambda + 2 * mu) * D * mean) / (2 * mu);
      Matd<D> F = f_with_hencky_strain<D>(rng, mean, on_cone * uniform(rng, 0.0, 0.95));
      ASSERT_LT(dp_yield<D>(p.data(), F), 0.0) << "test setup: trial must be inside";
      const Matd<D> F0 = F;
      M::project<double, D>(p.data(), F, plastic, 1e-3);
      EXPECT_EQ(max_abs_diff(F, F0), 0.0);
    }
  }
  EXPECT_EQ(plastic, 0.0);
}

TEST(DruckerPrager, ReturnMapping2D) { drucker_prager_checks<2>(0.0); }
TEST(DruckerPrager, ReturnMapping3D) { drucker_prager_checks<3>(0.0); }
TEST(DruckerPrager, ReturnMappingWithCohesion2D) { drucker_prager_checks<2>(500.0); }
TEST(DruckerPrager, ReturnMappingWithCohesion3D) { drucker_prager_checks<3>(500.0); }

TEST(DruckerPrager, ApexIsIdentityWithoutCohesion) {
  using M = DruckerPrager;
  const auto p = default_params<M>();
  std::mt19937 rng(5);
  Matd<3> F = f_from_singular_values<3>(rng, Vec<double, 3>{{1.1, 1.05, 0.99}});
  const Matd<3> R = polar_rotation(F);
  double plastic = 0;
  M::project<double, 3>(p.data(), F, plastic, 1e-3);
  EXPECT_LE(max_abs_diff(F, R), 1e-12) << "expansion must project F to its rotation";
}

// -------------------------------------------------------------------- snow

template <int D>
void snow_checks() {
  using M = Snow;
  const auto p = default_params<M>();
  const double lo = 1 - p[M::kCriticalCompression], hi = 1 + p[M::kCriticalStretch];
  std::mt19937 rng(301 + D);
  for (int trial = 0; trial < 20; ++trial) {
    Matd<D> F = random_f_near_identity<D>(rng, 0.1);
    double J_p = uniform(rng, 0.8, 1.2);
    const double total = J_p * determinant(F);
    M::project<double, D>(p.data(), F, J_p, 1e-3);
    const Vec<double, D> s = singular_values(F);
    for (int i = 0; i < D; ++i) {
      EXPECT_GE(s[i], lo - 1e-12) << "trial " << trial;
      EXPECT_LE(s[i], hi + 1e-12) << "trial " << trial;
    }
    EXPECT_NEAR(J_p * determinant(F), total, 1e-12 * std::fabs(total)) << "J_P det F changed";

    // Inside the bounds: unchanged, J_P unchanged.
    Vec<double, D> inside;
    for (int i = 0; i < D; ++i) inside[i] = uniform(rng, lo + 1e-4, hi - 1e-4);
    Matd<D> G = f_from_singular_values<D>(rng, inside);
    const Matd<D> G0 = G;
    const double J_p0 = J_p;
    M::project<double, D>(p.data(), G, J_p, 1e-3);
    EXPECT_EQ(max_abs_diff(G, G0), 0.0);
    EXPECT_EQ(J_p, J_p0);
  }
  // Hardening: compressed snow (J_P < 1) is stiffer.
  const Matd<D> F = Matd<D>::diagonal(0.99);
  const double P_soft = frobenius_norm(M::first_piola<double, D>(p.data(), F, 1.0));
  const double P_hard = frobenius_norm(M::first_piola<double, D>(p.data(), F, 0.9));
  EXPECT_NEAR(P_hard / P_soft, std::exp(p[M::kHardening] * 0.1), 1e-12);
}

TEST(Snow, ReturnMapping2D) { snow_checks<2>(); }
TEST(Snow, ReturnMapping3D) { snow_checks<3>(); }

// ------------------------------------------------------------------- fluid

template <int D>
void fluid_checks() {
  using M = WeaklyCompressibleFluid;
  const auto p = default_params<M>();
  std::mt19937 rng(401 + D);
  for (int trial = 0; trial < 20; ++trial) {
    Matd<D> F = random_f_near_identity<D>(rng);
    const double J = determinant(F);
    double plastic = 0;
    M::project<double, D>(p.data(), F, plastic, 1e-3);
    EXPECT_LE(max_abs_diff(F, Matd<D>::diagonal(std::pow(J, 1.0 / D))), 1e-14);
    EXPECT_NEAR(determinant(F), J, 1e-13 * J);
    // Stress is pure pressure: tau = -p(J) J I.
    const Matd<D> tau = kirchhoff<M, D>(p.data(), random_f_near_identity<D>(rng), 0.0);
    EXPECT_LE(deviatoric_norm(tau), 1e-12 * (frobenius_norm(tau) + 1));
  }
  // EOS: p = B (J^-gamma - 1); the bulk modulus at rest is -dp/dJ(1) = gamma B.
  const double h = 1e-6, B = p[M::kBulkModulus], gamma = p[M::kGamma];
  EXPECT_NEAR(M::pressure(p.data(), 0.9), B * (std::pow(0.9, -gamma) - 1), 1e-12 * B);
  EXPECT_NEAR((M::pressure(p.data(), 1 + h) - M::pressure(p.data(), 1 - h)) / (2 * h), -gamma * B,
              1e-6 * gamma * B);
  EXPECT_NEAR(M::wave_speed(p.data(), 1000.0), std::sqrt(gamma * B / 1000.0), 1e-12);
  // Viscosity: deviatoric, J 2 eta sym(grad v) for a trace-free gradient.
  Matd<D> grad_v = Matd<D>::zero();
  grad_v(0, 1) = 3.0;
  const Matd<D> F = Matd<D>::diagonal(1.1);
  const Matd<D> tau_v = M::viscous_kirchhoff<double, D>(p.data(), F, grad_v);
  const double J = determinant(F), eta = p[M::kViscosity];
  EXPECT_NEAR(tau_v(0, 1), J * eta * 3.0, 1e-15);
  EXPECT_NEAR(tau_v(1, 0), J * eta * 3.0, 1e-15);
  EXPECT_NEAR(trace(M::viscous_kirchhoff<double, D>(p.data(), F, Matd<D>::identity())), 0.0, 1e-15)
      << "no bulk viscosity (Stokes' hypothesis)";
}

TEST(WeaklyCompressibleFluid, ProjectAndStress2D) { fluid_checks<2>(); }
TEST(WeaklyCompressibleFluid, ProjectAndStress3D) { fluid_checks<3>(); }

TEST(WeaklyCompressibleFluid, GammaOneIsContinuous) {
  using M = WeaklyCompressibleFluid;
  auto p = default_params<M>();
  const Matd<3> F = Matd<3>::diagonal(0.97);
  p[M::kGamma] = 1.0;
  const double at_one = M::energy_density<double, 3>(p.data(), F, 0.0);
  p[M::kGamma] = 1.0 + 1e-9;
  const double near_one = M::energy_density<double, 3>(p.data(), F, 0.0);
  EXPECT_NEAR(near_one, at_one, 1e-6 * at_one);
  EXPECT_GT(at_one, 0.0);
}

// -------------------------------------------------------- Herschel-Bulkley

TEST(HerschelBulkley, ScalarSolveMatchesBinghamClosedForm) {
  std::mt19937 rng(501);
  for (int trial = 0; trial < 50; ++trial) {
    const double k = uniform(rng, 0, 100), s_tr = k + uniform(rng, 1e-3, 1e3);
    const double c = uniform(rng, 1e-2, 1e3), eta = uniform(rng, 1e-2, 1e3);
    const double closed = (eta * s_tr + c * k) / (eta + c);
    EXPECT_NEAR(herschel_bulkley_return_norm(s_tr, k, c, eta, 1.0), closed, 1e-12 * closed);
    const double x = herschel_bulkley_flow_rate_iterative(s_tr - k, c, eta, 1.0);
    EXPECT_NEAR(s_tr - c * x, closed, 1e-10 * closed) << "iterative path, n = 1";
  }
}

TEST(HerschelBulkley, ScalarSolveGeneralFlowIndex) {
  std::mt19937 rng(502);
  for (double n : {0.2, 0.5, 0.8, 1.5, 3.0}) {
    for (int trial = 0; trial < 30; ++trial) {
      const double excess = std::pow(10.0, uniform(rng, -3, 3));
      const double c = std::pow(10.0, uniform(rng, -3, 3));
      const double eta = std::pow(10.0, uniform(rng, -3, 3));
      const double x = herschel_bulkley_flow_rate_iterative(excess, c, eta, n);
      EXPECT_GE(x, 0.0);
      EXPECT_NEAR(eta * std::pow(x, n) + c * x, excess, 1e-10 * excess) << "n=" << n;
    }
  }
}

template <int D>
Matd<D> sheared_f(std::mt19937& rng, double amount) {
  Vec<double, D> s;
  for (int i = 0; i < D; ++i) s[i] = std::exp(uniform(rng, -amount, amount));
  return f_from_singular_values<D>(rng, s);
}

template <int D>
void herschel_bulkley_checks() {
  using M = HerschelBulkley;
  auto p = default_params<M>();
  std::mt19937 rng(601 + D);
  const double mu = lame_mu(p[M::kE], p[M::kNu]);
  const double k = std::sqrt(2.0 / 3.0) * p[M::kYieldStress];
  const double dt = 1e-3;
  for (int trial = 0; trial < 20; ++trial) {
    const Matd<D> F0 = sheared_f<D>(rng, 0.3);
    const double J0 = determinant(F0);
    const double s_tr = deviatoric_norm(kirchhoff<M, D>(p.data(), F0, 0.0));
    ASSERT_GT(s_tr, 1.01 * k) << "test setup: trial must be outside";
    double plastic = 0;

    // n = 1: the new ||dev tau|| is the Bingham closed form, volume kept.
    p[M::kFlowIndex] = 1.0;
    Matd<D> F = F0;
    M::project<double, D>(p.data(), F, plastic, dt);
    const Matd<D> C = F0 * transpose(F0);
    const double mean_b_bar = trace(C) * std::pow(J0, -2.0 / D) / D;
    const double c = 2 * mu * mean_b_bar * dt, eta = p[M::kViscosity];
    const double closed = (eta * s_tr + c * k) / (eta + c);
    EXPECT_NEAR(deviatoric_norm(kirchhoff<M, D>(p.data(), F, 0.0)), closed, 1e-9 * closed)
        << "D=" << D << " trial " << trial;
    EXPECT_NEAR(determinant(F), J0, 1e-12 * J0);
    // The flow keeps the principal directions: F F^T commutes with the trial's.
    const Matd<D> B = F * transpose(F);
    EXPECT_LE(max_abs_diff(B * C, C * B), 1e-10 * frobenius_norm(C) * frobenius_norm(C));

    // General n: ||dev tau|| in (k, s_tr), on the flow curve.
    for (double n : {0.4, 2.0}) {
      p[M::kFlowIndex] = n;
      Matd<D> Fn = F0;
      M::project<double, D>(p.data(), Fn, plastic, dt);
      const double r = deviatoric_norm(kirchhoff<M, D>(p.data(), Fn, 0.0));
      EXPECT_GT(r, k);
      EXPECT_LT(r, s_tr);
      const double x = (s_tr - r) / c;  // the flow rate gamma_dot
      EXPECT_NEAR(r, k + eta * std::pow(x, n), 1e-8 * r) << "n=" << n;
      EXPECT_NEAR(determinant(Fn), J0, 1e-12 * J0);
    }
    p[M::kFlowIndex] = 1.0;

    // Yield stress respected in the limits: eta = 0, or a huge time step.
    auto p0 = p;
    p0[M::kViscosity] = 0.0;
    Matd<D> F_rate_free = F0;
    M::project<double, D>(p0.data(), F_rate_free, plastic, dt);
    EXPECT_NEAR(deviatoric_norm(kirchhoff<M, D>(p0.data(), F_rate_free, 0.0)), k, 1e-9 * k);
    for (double n : {0.5, 1.0, 2.0}) {
      p[M::kFlowIndex] = n;
      Matd<D> F_long = F0;
      M::project<double, D>(p.data(), F_long, plastic, 1e9);
      EXPECT_NEAR(deviatoric_norm(kirchhoff<M, D>(p.data(), F_long, 0.0)), k, 1e-3 * k)
          << "n=" << n;
    }
    p[M::kFlowIndex] = 1.0;

    // dt = 0: no time to flow.
    Matd<D> F_zero = F0;
    M::project<double, D>(p.data(), F_zero, plastic, 0.0);
    EXPECT_EQ(max_abs_diff(F_zero, F0), 0.0);

    // Inside the yield surface: unchanged.
    Matd<D> G = sheared_f<D>(rng, 0.05 * k / mu / D);
    ASSERT_LT(deviatoric_norm(kirchhoff<M, D>(p.data(), G, 0.0)), k);
    const Matd<D> G0 = G;
    M::project<double, D>(p.data(), G, plastic, dt);
    EXPECT_EQ(max_abs_diff(G, G0), 0.0);
    EXPECT_EQ(plastic, 0.0);
  }
}

TEST(HerschelBulkley, ReturnMapping2D) { herschel_bulkley_checks<2>(); }
TEST(HerschelBulkley, ReturnMapping3D) { herschel_bulkley_checks<3>(); }

// ------------------------------------------------------- stable Neo-Hookean

TEST(StableNeoHookean, LinearizationMatchesLinearElasticity) {
  // Small uniaxial strain e: P ~ (lambda_L tr(e) I + 2 mu_L e) for E, nu.
  using M = StableNeoHookean;
  const auto p = default_params<M>();
  const double mu = lame_mu(p[M::kE], p[M::kNu]), lambda = lame_lambda(p[M::kE], p[M::kNu]);
  const double e = 1e-7;
  Matd<3> F = Matd<3>::identity();
  F(0, 0) += e;
  F(0, 1) += 0.5 * e;
  const Matd<3> P = M::first_piola<double, 3>(p.data(), F, 0.0);
  EXPECT_NEAR(P(0, 0) / e, lambda + 2 * mu, 1e-5 * (lambda + 2 * mu));
  EXPECT_NEAR(P(1, 1) / e, lambda, 1e-5 * (lambda + 2 * mu));
  // H(0,1) = e/2, H(1,0) = 0: P = mu (H + H^T) + lambda tr(H) I.
  EXPECT_NEAR(P(0, 1) / e, 0.5 * mu, 1e-5 * (lambda + 2 * mu));
  EXPECT_NEAR(P(1, 0) / e, 0.5 * mu, 1e-5 * (lambda + 2 * mu));
  Matd<2> F2 = Matd<2>::identity();
  F2(0, 0) += e;
  const Matd<2> P2 = M::first_piola<double, 2>(p.data(), F2, 0.0);
  EXPECT_NEAR(P2(0, 0) / e, lambda + 2 * mu, 1e-5 * (lambda + 2 * mu));
  EXPECT_NEAR(P2(1, 1) / e, lambda, 1e-5 * (lambda + 2 * mu));
}

}  // namespace
}  // namespace pl::materials
