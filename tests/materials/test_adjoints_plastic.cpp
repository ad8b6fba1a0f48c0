// Finite-difference checks (double) of the hand-written adjoints of the Hencky
// family (stvk_hencky, von_mises, drucker_prager) and of herschel_bulkley, with
// a test for each degenerate case their headers document: repeated singular
// values (F a rotation), the Hencky log's linear continuation, inverted F, the
// Drucker-Prager apex (F_out = U V^T) and inside-cone identity, von Mises on
// and off the yield surface, Herschel-Bulkley n = 1 (closed form) and n != 1
// (implicit function theorem on the converged Newton solve), rate-independent
// eta = 0, and the J floor.  The generic test over every model with
// kHasAdjoint is tests/materials/test_adjoints.cpp.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "material_test_util.hpp"

namespace pl::materials {
namespace {

using namespace testing;
using Params = std::array<double, kMaxParams>;

constexpr double kTol = 1e-6;

template <int D>
Matd<D> random_matrix(std::mt19937& rng) {
  Matd<D> A;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) A(i, j) = uniform(rng, -1, 1);
  return A;
}

/// A forward map F -> G (first_piola, or project) at parameters p.
template <int D>
using Forward = std::function<Matd<D>(const Params&, const Matd<D>&)>;
/// Its adjoint: accumulates adj_F and adj_p for the cotangent adj_G.
template <int D>
using Adjoint = std::function<void(const Params&, const Matd<D>&, const Matd<D>&, Matd<D>&, double*)>;

template <class M, int D>
Forward<D> piola_fwd() {
  return [](const Params& p, const Matd<D>& F) { return M::template first_piola<double, D>(p.data(), F, 0.0); };
}
template <class M, int D>
Adjoint<D> piola_adj() {
  return [](const Params& p, const Matd<D>& F, const Matd<D>& adj_G, Matd<D>& adj_F, double* adj_p) {
    double adj_plastic = 0;
    M::template adj_first_piola<double, D>(p.data(), F, 0.0, adj_G, adj_F, adj_p, adj_plastic);
  };
}
template <class M, int D>
Forward<D> project_fwd(double dt) {
  return [dt](const Params& p, const Matd<D>& F) {
    Matd<D> G = F;
    double plastic = 0;
    M::template project<double, D>(p.data(), G, plastic, dt);
    return G;
  };
}
template <class M, int D>
Adjoint<D> project_adj(double dt) {
  return [dt](const Params& p, const Matd<D>& F, const Matd<D>& adj_G, Matd<D>& adj_F, double* adj_p) {
    double adj_plastic_in = 0;
    M::template adj_project<double, D>(p.data(), F, 0.0, dt, adj_G, 0.0, adj_F, adj_plastic_in, adj_p);
  };
}

/// Fourth-order central difference (-f(2h) + 8 f(h) - 8 f(-h) + f(-2h)) / (12 h):
/// the parameter sensitivities of a plastic return are ~1e-5 of F_out itself, so
/// the second-order stencil's rounding noise (eps |L| / h) would swamp 1e-6.
template <class Fn>
double fd4(const Fn& f, double h) {
  return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h);
}

/// Relative errors of the adjoint against finite differences of
/// L(F, p) = adj_G : G(F, p): one for the F gradient (norm-wise), one per
/// parameter (sensitivities s_k dL/dp_k, relative to their largest, with the
/// scale s_k = max(|p_k|, floor_k): floor 1e-3 E for a stress parameter [Pa],
/// 10 for an angle [deg], 1 otherwise, so that a parameter at 0 is stepped on its natural scale).
template <int D>
struct GradCheck {
  double err_F = 0;
  double err_p[kMaxParams] = {};
  Matd<D> adj_F, fd_F;
  double adj_p[kMaxParams] = {}, fd_p[kMaxParams] = {};
};

template <class M>
Params param_scales(const Params& p) {
  Params s{};
  for (int k = 0; k < M::kNumParams; ++k) {
    const std::string unit = M::kParams[k].unit;
    s[k] = std::fmax(std::fabs(p[k]), unit == "Pa" ? 1e-3 * p[0] : (unit == "deg" ? 10.0 : 1.0));
  }
  return s;
}

template <class M, int D>
GradCheck<D> check_gradient(const Forward<D>& fwd, const Adjoint<D>& adj, const Params& p, int num_params,
                            const Matd<D>& F, const Matd<D>& adj_G, double h_F = 1e-5, double h_p_rel = 1e-4) {
  const Params scale = param_scales<M>(p);
  GradCheck<D> r;
  r.adj_F = Matd<D>::zero();
  adj(p, F, adj_G, r.adj_F, r.adj_p);
  auto loss = [&](const Params& q, const Matd<D>& X) { return ddot(adj_G, fwd(q, X)); };
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j)
      r.fd_F(i, j) = fd4(
          [&](double t) {
            Matd<D> X = F;
            X(i, j) += t;
            return loss(p, X);
          },
          h_F);
  r.err_F = frobenius_norm(r.adj_F - r.fd_F) / std::fmax(frobenius_norm(r.fd_F), 1e-300);
  double sens_max = 0;
  for (int k = 0; k < num_params; ++k) {
    r.fd_p[k] = fd4(
        [&](double t) {
          Params q = p;
          q[k] += t;
          return loss(q, F);
        },
        h_p_rel * scale[k]);
    sens_max = std::fmax(sens_max, std::fabs(r.fd_p[k] * scale[k]));
  }
  for (int k = 0; k < num_params; ++k)
    r.err_p[k] = std::fabs(r.adj_p[k] - r.fd_p[k]) * scale[k] / std::fmax(sens_max, 1e-300);
  for (int k = num_params; k < kMaxParams; ++k) EXPECT_EQ(r.adj_p[k], 0.0) << "adj_p beyond kNumParams";
  return r;
}

/// Checks the F gradient and every parameter's but `skip` (-1: none).
template <int D>
void expect_ok(const GradCheck<D>& r, int num_params, const std::string& what, int skip = -1, double tol = kTol) {
  EXPECT_LE(r.err_F, tol) << what << ": F gradient";
  for (int k = 0; k < num_params; ++k) {
    if (k == skip) continue;
    EXPECT_LE(r.err_p[k], tol) << what << ": parameter " << k << " adj " << r.adj_p[k] << " fd " << r.fd_p[k];
  }
}

/// F whose Hencky strain has mean `mean` and deviatoric part dev_norm * dir.
template <int D>
Matd<D> f_with_strain(std::mt19937& rng, double mean, double dev_norm) {
  Vec<double, D> dir;
  double m = 0;
  do {
    for (int i = 0; i < D; ++i) dir[i] = uniform(rng, -1, 1);
    m = vec_sum(dir) / D;
    for (int i = 0; i < D; ++i) dir[i] -= m;
  } while (norm(dir) < 0.2);
  dir = dir * (1.0 / norm(dir));
  Vec<double, D> s;
  for (int i = 0; i < D; ++i) s[i] = std::exp(mean + dev_norm * dir[i]);
  return f_from_singular_values<D>(rng, s);
}

template <int D>
bool bit_equal(const Matd<D>& a, const Matd<D>& b) {
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j)
      if (a(i, j) != b(i, j)) return false;
  return true;
}

// ---------------------------------------------------------------- StVK-Hencky

template <int D>
void hencky_random() {
  using M = StvkHencky;
  std::mt19937 rng(11 + D);
  for (int trial = 0; trial < 20; ++trial) {
    Params p = default_params<M>();
    p[M::kE] = uniform(rng, 1e3, 1e5);
    p[M::kNu] = uniform(rng, 0.0, 0.45);
    const Matd<D> F = trial < 10 ? random_f_near_identity<D>(rng, 0.2) : random_f_near_identity<D>(rng, 0.6);
    const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), p, M::kNumParams, F, random_matrix<D>(rng));
    expect_ok(r, M::kNumParams, "stvk_hencky D=" + std::to_string(D) + " trial " + std::to_string(trial));
  }
}
TEST(AdjointsPlastic, HenckyRandom) {
  hencky_random<2>();
  hencky_random<3>();
}

// F = rotation (all singular values 1: U, V not unique, P = 0), a uniform
// scaling of a rotation, and a pair of repeated singular values.
template <int D>
void hencky_repeated() {
  using M = StvkHencky;
  const Params p = default_params<M>();
  std::mt19937 rng(21 + D);
  for (int trial = 0; trial < 6; ++trial) {
    Vec<double, D> s = Vec<double, D>::constant(trial < 2 ? 1.0 : (trial < 4 ? 1.15 : 0.9));
    if (trial >= 4) s[D - 1] = 1.2;  // 2D: (0.9, 1.2); 3D: (0.9, 0.9, 1.2)
    const Matd<D> F = trial == 0 ? random_rotation<D>(rng) : f_from_singular_values<D>(rng, s);
    const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), p, M::kNumParams, F, random_matrix<D>(rng));
    expect_ok(r, M::kNumParams, "hencky repeated sigma D=" + std::to_string(D) + " trial " + std::to_string(trial));
  }
  // At F = I exactly (SVD gives U = V = I, no rotation at all).
  const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), p, M::kNumParams, Matd<D>::identity(),
                                   random_matrix<D>(rng));
  expect_ok(r, M::kNumParams, "hencky F = I");
}
TEST(AdjointsPlastic, HenckyRepeatedSingularValues) {
  hencky_repeated<2>();
  hencky_repeated<3>();
}

// The linear continuation of the log below 1e-4 (J near zero) and inverted F.
template <int D>
void hencky_small_and_inverted() {
  using M = StvkHencky;
  const Params p = default_params<M>();
  std::mt19937 rng(31 + D);
  {  // smallest singular value 5e-5 < kHenckyMinStretch: l' = 1/s0, l'' = 0
    Vec<double, D> s = Vec<double, D>::constant(1.1);
    s[0] = 1.3;
    s[D - 1] = 5e-5;
    const Matd<D> F = f_from_singular_values<D>(rng, s);
    const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), p, M::kNumParams, F,
                                     random_matrix<D>(rng), 1e-8);
    expect_ok(r, M::kNumParams, "hencky sigma below the log floor D=" + std::to_string(D));
  }
  {  // just above the floor: log branch with l'' = -1/s^2
    Vec<double, D> s = Vec<double, D>::constant(0.9);
    s[0] = 1.2;
    s[D - 1] = 3e-4;
    const Matd<D> F = f_from_singular_values<D>(rng, s);
    const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), p, M::kNumParams, F,
                                     random_matrix<D>(rng), 1e-8);
    expect_ok(r, M::kNumParams, "hencky sigma near the log floor D=" + std::to_string(D));
  }
  for (int trial = 0; trial < 4; ++trial) {  // inverted: sigma_last < 0
    const Matd<D> F = random_inverted_f<D>(rng);
    const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), p, M::kNumParams, F,
                                     random_matrix<D>(rng), 1e-6);
    expect_ok(r, M::kNumParams, "hencky inverted D=" + std::to_string(D) + " trial " + std::to_string(trial));
  }
}
TEST(AdjointsPlastic, HenckyLogFloorAndInversion) {
  hencky_small_and_inverted<2>();
  hencky_small_and_inverted<3>();
}

// The von Mises and Drucker-Prager models inherit adj_first_piola; check it
// with their extra parameters, whose gradient must be exactly 0.
template <int D>
void inherited_piola() {
  std::mt19937 rng(41 + D);
  const Matd<D> F = random_f_near_identity<D>(rng, 0.4);
  {
    using M = VonMises;
    const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), default_params<M>(), M::kNumParams, F,
                                     random_matrix<D>(rng));
    expect_ok(r, M::kNumParams, "von_mises P");
    EXPECT_EQ(r.adj_p[M::kYieldStress], 0.0);
  }
  {
    using M = DruckerPrager;
    const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), default_params<M>(), M::kNumParams, F,
                                     random_matrix<D>(rng));
    expect_ok(r, M::kNumParams, "drucker_prager P");
    EXPECT_EQ(r.adj_p[M::kFrictionAngle], 0.0);
    EXPECT_EQ(r.adj_p[M::kCohesion], 0.0);
  }
}
TEST(AdjointsPlastic, InheritedFirstPiola) {
  inherited_piola<2>();
  inherited_piola<3>();
}

// ---------------------------------------------------------------- von Mises

template <int D>
void von_mises_cases() {
  using M = VonMises;
  std::mt19937 rng(51 + D);
  Params p = default_params<M>();
  const double mu = lame_mu(p[M::kE], p[M::kNu]);
  const double radius = std::sqrt(2.0 / 3.0) * p[M::kYieldStress] / (2 * mu);
  for (int trial = 0; trial < 20; ++trial) {
    const bool outside = trial % 2 == 0;
    const double dev = radius * (outside ? uniform(rng, 1.2, 20.0) : uniform(rng, 0.0, 0.9));
    const Matd<D> F = f_with_strain<D>(rng, uniform(rng, -0.15, 0.15), dev);
    const Matd<D> adj_G = random_matrix<D>(rng);
    const auto r = check_gradient<M, D>(project_fwd<M, D>(1e-3), project_adj<M, D>(1e-3), p, M::kNumParams, F, adj_G);
    const std::string what = "von_mises project D=" + std::to_string(D) + (outside ? " outside" : " inside");
    if (outside) {
      expect_ok(r, M::kNumParams, what);
      EXPECT_GT(std::fabs(r.adj_p[M::kYieldStress]), 0.0) << what;
    } else {
      EXPECT_TRUE(bit_equal(r.adj_F, adj_G)) << what << ": inside must be the identity";
      for (int k = 0; k < M::kNumParams; ++k) EXPECT_EQ(r.adj_p[k], 0.0) << what;
      EXPECT_LE(r.err_F, kTol) << what;
    }
  }
  // Zero yield stress: projects onto the hydrostatic axis (eps_new = mean 1).
  p[M::kYieldStress] = 0.0;
  const Matd<D> F = f_with_strain<D>(rng, 0.05, 0.1);
  // (The central difference in yield_stress straddles 0: the return is the
  // same smooth function of the radius for radius < 0.)
  const auto r = check_gradient<M, D>(project_fwd<M, D>(1e-3), project_adj<M, D>(1e-3), p, M::kNumParams, F,
                                   random_matrix<D>(rng));
  expect_ok(r, M::kNumParams, "von_mises yield_stress = 0");
}
TEST(AdjointsPlastic, VonMisesInsideAndOutside) {
  von_mises_cases<2>();
  von_mises_cases<3>();
}

// A trial state exactly on the surface takes the elastic branch: the adjoint is
// the identity, which is the one-sided derivative along directions that move
// the state inside.
template <int D>
void von_mises_on_surface() {
  using M = VonMises;
  std::mt19937 rng(61 + D);
  for (int trial = 0; trial < 5; ++trial) {
    Params p = default_params<M>();
    const Matd<D> F = f_with_strain<D>(rng, 0.03, 0.02);
    // Set yield_stress so that the radius is ||dev eps|| of F (to the ulp);
    // nudge until the forward leaves F bit for bit unchanged.
    const Svd<double, D> s = svd_rotation_variant(F);
    const Vec<double, D> eps = hencky_strain(s.sigma);
    Vec<double, D> dev;
    for (int i = 0; i < D; ++i) dev[i] = eps[i] - vec_sum(eps) / D;
    const double mu = lame_mu(p[M::kE], p[M::kNu]);
    p[M::kYieldStress] = norm(dev) * 2 * mu / std::sqrt(2.0 / 3.0);
    while (!bit_equal(project_fwd<M, D>(1e-3)(p, F), F))
      p[M::kYieldStress] = std::nextafter(p[M::kYieldStress], 1e300);
    const Matd<D> adj_G = random_matrix<D>(rng);
    Matd<D> adj_F = Matd<D>::zero();
    double adj_p[kMaxParams] = {};
    project_adj<M, D>(1e-3)(p, F, adj_G, adj_F, adj_p);
    EXPECT_TRUE(bit_equal(adj_F, adj_G)) << "on the surface: identity";
    // One-sided difference along an inward direction (halve the deviator).
    Vec<double, D> s_in;
    for (int i = 0; i < D; ++i) s_in[i] = std::exp(vec_sum(eps) / D + 0.5 * dev[i]);
    const Matd<D> dir = compose_usv(s.U, s_in, s.V) - F;
    const double h = 1e-7;
    const double fd = (ddot(adj_G, project_fwd<M, D>(1e-3)(p, F + h * dir)) - ddot(adj_G, F)) / h;
    EXPECT_NEAR(ddot(adj_F, dir), fd, 1e-6 * frobenius_norm(adj_G) * frobenius_norm(dir));
  }
}
TEST(AdjointsPlastic, VonMisesOnSurfaceIsOneSidedFromInside) {
  von_mises_on_surface<2>();
  von_mises_on_surface<3>();
}

// ---------------------------------------------------------------- Drucker-Prager

enum class DpCase { kInside, kCone, kApex };

template <int D>
DpCase dp_case(const Params& p, const Matd<D>& F) {
  using M = DruckerPrager;
  const double mu = lame_mu(p[M::kE], p[M::kNu]), lambda = lame_lambda(p[M::kE], p[M::kNu]);
  double alpha, k_c;
  M::cone(p.data(), alpha, k_c);
  const double bulk_tr = D * lambda + 2 * mu;
  const Vec<double, D> eps = hencky_strain(svd_rotation_variant(F).sigma);
  const double tr = vec_sum(eps);
  const bool has_apex = alpha > 0 || k_c == 0;
  const double tr_apex = alpha > 0 ? k_c / (alpha * bulk_tr) : 0.0;
  if (has_apex && tr > tr_apex) return DpCase::kApex;
  Vec<double, D> dev;
  for (int i = 0; i < D; ++i) dev[i] = eps[i] - tr / D;
  const double dgamma = norm(dev) + (bulk_tr * tr * alpha - k_c) / (2 * mu);
  return dgamma > 0 ? DpCase::kCone : DpCase::kInside;
}

template <int D>
void drucker_prager_cases(double cohesion) {
  using M = DruckerPrager;
  std::mt19937 rng(71 + D + int(cohesion));
  int seen[3] = {0, 0, 0};
  for (int trial = 0; trial < 60; ++trial) {
    Params p = default_params<M>();
    p[M::kFrictionAngle] = uniform(rng, 15.0, 45.0);
    p[M::kCohesion] = cohesion;
    // Compression (tr < 0) with a deviator of either size; some expansion.
    const double mean = uniform(rng, -0.05, 0.01);
    const Matd<D> F = f_with_strain<D>(rng, mean, uniform(rng, 0.0, 0.1));
    const DpCase c = dp_case<D>(p, F);
    ++seen[int(c)];
    const Matd<D> adj_G = random_matrix<D>(rng);
    const auto r = check_gradient<M, D>(project_fwd<M, D>(1e-3), project_adj<M, D>(1e-3), p, M::kNumParams, F, adj_G);
    const std::string what = "drucker_prager D=" + std::to_string(D) + " c=" + std::to_string(cohesion) +
                             " case " + std::to_string(int(c)) + " trial " + std::to_string(trial);
    if (c == DpCase::kInside) {
      EXPECT_TRUE(bit_equal(r.adj_F, adj_G)) << what << ": inside the cone must be the identity";
      for (int k = 0; k < M::kNumParams; ++k) EXPECT_EQ(r.adj_p[k], 0.0) << what;
    } else {
      // c = 0, apex: F_out = U V^T does not depend on any parameter except
      // cohesion (which moves the apex); the FD of the others is exactly 0.
      expect_ok(r, M::kNumParams, what);
    }
  }
  EXPECT_GT(seen[0], 3) << "inside cases";
  EXPECT_GT(seen[1], 3) << "cone cases";
  EXPECT_GT(seen[2], 3) << "apex cases";
}
TEST(AdjointsPlastic, DruckerPragerAllCases) {
  drucker_prager_cases<2>(0.0);
  drucker_prager_cases<3>(0.0);
  drucker_prager_cases<2>(50.0);
  drucker_prager_cases<3>(50.0);
}

// The apex with c = 0: F_out = U V^T, a rotation, whose derivative is that of
// the polar rotation; also at repeated singular values (a pure expansion
// F = a R, where U and V are not unique but U V^T = R is smooth).
template <int D>
void drucker_prager_apex() {
  using M = DruckerPrager;
  std::mt19937 rng(81 + D);
  const Params p = default_params<M>();
  for (int trial = 0; trial < 8; ++trial) {
    Matd<D> F;
    if (trial < 3) {
      F = uniform(rng, 1.01, 1.3) * random_rotation<D>(rng);  // all sigma equal
    } else if (trial < 5) {
      Vec<double, D> s = Vec<double, D>::constant(1.1);
      s[0] = 1.25;  // sigma = (1.25, 1.1[, 1.1])
      F = f_from_singular_values<D>(rng, s);
    } else {
      F = f_with_strain<D>(rng, 0.05, 0.03);
    }
    ASSERT_EQ(int(dp_case<D>(p, F)), int(DpCase::kApex));
    const Matd<D> Fo = project_fwd<M, D>(1e-3)(p, F);
    EXPECT_LE(max_abs_diff(transpose(Fo) * Fo, Matd<D>::identity()), 1e-12) << "apex: F_out is a rotation";
    EXPECT_NEAR(determinant(Fo), 1.0, 1e-12);
    const auto r = check_gradient<M, D>(project_fwd<M, D>(1e-3), project_adj<M, D>(1e-3), p, M::kNumParams, F,
                                     random_matrix<D>(rng));
    expect_ok(r, M::kNumParams, "apex D=" + std::to_string(D) + " trial " + std::to_string(trial));
    EXPECT_EQ(r.adj_p[M::kE], 0.0);
    EXPECT_EQ(r.adj_p[M::kNu], 0.0);
    EXPECT_EQ(r.adj_p[M::kFrictionAngle], 0.0);
    // adj_F is tangent to the rotations at F_out only through the skew part:
    // a pure scaling of F does not change U V^T.
    EXPECT_NEAR(ddot(r.adj_F, F), 0.0, 1e-10 * frobenius_norm(r.adj_F) * frobenius_norm(F));
  }
}
TEST(AdjointsPlastic, DruckerPragerApexIsPolarRotation) {
  drucker_prager_apex<2>();
  drucker_prager_apex<3>();
}

// phi = 0: with c = 0 Klar's rule (apex at 0), with c > 0 a cylinder (no apex).
template <int D>
void drucker_prager_zero_friction() {
  using M = DruckerPrager;
  std::mt19937 rng(91 + D);
  for (double cohesion : {0.0, 300.0}) {
    Params p = default_params<M>();
    p[M::kFrictionAngle] = 0.0;
    p[M::kCohesion] = cohesion;
    for (int trial = 0; trial < 6; ++trial) {
      const Matd<D> F = f_with_strain<D>(rng, uniform(rng, -0.05, -0.01), uniform(rng, 0.01, 0.1));
      const DpCase c = dp_case<D>(p, F);
      if (c == DpCase::kInside) continue;
      // The central difference in friction_angle straddles 0 (alpha < 0 on one
      // side): Case III is the same smooth function of alpha there.
      const auto r = check_gradient<M, D>(project_fwd<M, D>(1e-3), project_adj<M, D>(1e-3), p, M::kNumParams, F,
                                       random_matrix<D>(rng));
      expect_ok(r, M::kNumParams, "phi = 0, c = " + std::to_string(cohesion) + " case " + std::to_string(int(c)));
    }
  }
}
TEST(AdjointsPlastic, DruckerPragerZeroFriction) {
  drucker_prager_zero_friction<2>();
  drucker_prager_zero_friction<3>();
}

// ---------------------------------------------------------------- Herschel-Bulkley

template <int D>
void herschel_bulkley_piola() {
  using M = HerschelBulkley;
  std::mt19937 rng(101 + D);
  for (int trial = 0; trial < 20; ++trial) {
    Params p = default_params<M>();
    p[M::kE] = uniform(rng, 1e3, 1e5);
    p[M::kNu] = uniform(rng, 0.0, 0.45);
    const Matd<D> F = trial < 10 ? random_f_near_identity<D>(rng, 0.2) : random_f_near_identity<D>(rng, 0.6);
    const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), p, M::kNumParams, F, random_matrix<D>(rng));
    expect_ok(r, M::kNumParams, "herschel_bulkley P D=" + std::to_string(D) + " trial " + std::to_string(trial));
    for (int k = M::kYieldStress; k < M::kNumParams; ++k) EXPECT_EQ(r.adj_p[k], 0.0);
  }
  // Below the J floor (crushed: J = 5e-3 < kFoamMinJ) the J terms vanish.
  Vec<double, D> s = Vec<double, D>::constant(1.0);
  s[D - 1] = 5e-3;
  const Matd<D> F = f_from_singular_values<D>(rng, s);
  const auto r = check_gradient<M, D>(piola_fwd<M, D>(), piola_adj<M, D>(), default_params<M>(), M::kNumParams, F,
                                   random_matrix<D>(rng), 1e-7);
  expect_ok(r, M::kNumParams, "herschel_bulkley P below the J floor");
}
TEST(AdjointsPlastic, HerschelBulkleyFirstPiola) {
  herschel_bulkley_piola<2>();
  herschel_bulkley_piola<3>();
}

template <int D>
void herschel_bulkley_project(double flow_index, double viscosity) {
  using M = HerschelBulkley;
  std::mt19937 rng(111 + D + int(10 * flow_index));
  const double dt = 1e-3;
  int flowed = 0;
  for (int trial = 0; trial < 16; ++trial) {
    Params p = default_params<M>();
    p[M::kFlowIndex] = flow_index;
    p[M::kViscosity] = viscosity;
    p[M::kYieldStress] = uniform(rng, 20.0, 200.0);
    const Matd<D> F = trial % 4 == 3 ? random_f_near_identity<D>(rng, 0.01)  // inside
                                     : f_with_strain<D>(rng, uniform(rng, -0.1, 0.1), uniform(rng, 0.05, 0.4));
    const Matd<D> adj_G = random_matrix<D>(rng);
    const auto r = check_gradient<M, D>(project_fwd<M, D>(dt), project_adj<M, D>(dt), p, M::kNumParams, F, adj_G);
    const std::string what = "herschel_bulkley project D=" + std::to_string(D) + " n=" + std::to_string(flow_index) +
                             " eta=" + std::to_string(viscosity) + " trial " + std::to_string(trial);
    const bool flows = !bit_equal(project_fwd<M, D>(dt)(p, F), F);
    if (!flows) {
      EXPECT_TRUE(bit_equal(r.adj_F, adj_G)) << what << ": no flow must be the identity";
      continue;
    }
    ++flowed;
    // At eta = 0 the viscosity derivative is one-sided (right): check it so.
    expect_ok(r, M::kNumParams, what, viscosity == 0 ? M::kViscosity : -1);
    if (viscosity == 0) {
      const double h = 1e-6;
      Params pp = p;
      pp[M::kViscosity] = h;
      const double fd = (ddot(adj_G, project_fwd<M, D>(dt)(pp, F)) - ddot(adj_G, project_fwd<M, D>(dt)(p, F))) / h;
      EXPECT_NEAR(r.adj_p[M::kViscosity], fd, 1e-5 * std::fabs(fd) + 1e-9) << what << ": right derivative in eta";
      EXPECT_EQ(r.adj_p[M::kFlowIndex], 0.0) << what;
    } else {
      EXPECT_NE(r.adj_p[M::kFlowIndex], 0.0) << what;
    }
  }
  EXPECT_GE(flowed, 8);
}
TEST(AdjointsPlastic, HerschelBulkleyBinghamClosedForm) {
  // n = 1: the closed-form branch; its flow_index gradient is the general-n
  // one (the FD at n = 1 +- h runs the Newton path).
  herschel_bulkley_project<2>(1.0, 10.0);
  herschel_bulkley_project<3>(1.0, 10.0);
}
TEST(AdjointsPlastic, HerschelBulkleyGeneralIndexImplicit) {
  for (double n : {0.4, 0.8, 1.5, 3.0}) {
    herschel_bulkley_project<2>(n, 10.0);
    herschel_bulkley_project<3>(n, 10.0);
  }
}
TEST(AdjointsPlastic, HerschelBulkleyRateIndependent) {
  herschel_bulkley_project<2>(1.0, 0.0);
  herschel_bulkley_project<3>(0.5, 0.0);
}

// Repeated singular values (a pair) in the flowing regime, and an inverted F.
template <int D>
void herschel_bulkley_degenerate() {
  using M = HerschelBulkley;
  std::mt19937 rng(121 + D);
  for (double n : {1.0, 0.6}) {
    Params p = default_params<M>();
    p[M::kFlowIndex] = n;
    Vec<double, D> s = Vec<double, D>::constant(0.85);
    s[0] = 1.3;
    const auto r = check_gradient<M, D>(project_fwd<M, D>(1e-3), project_adj<M, D>(1e-3), p, M::kNumParams,
                                     f_from_singular_values<D>(rng, s), random_matrix<D>(rng));
    expect_ok(r, M::kNumParams, "herschel_bulkley repeated sigma, n=" + std::to_string(n));
    Vec<double, D> si = s;
    si[0] = 1.3;
    si[D - 1] = -0.7;
    const auto ri = check_gradient<M, D>(project_fwd<M, D>(1e-3), project_adj<M, D>(1e-3), p, M::kNumParams,
                                      f_from_singular_values<D>(rng, si), random_matrix<D>(rng));
    expect_ok(ri, M::kNumParams, "herschel_bulkley inverted, n=" + std::to_string(n));
  }
}
TEST(AdjointsPlastic, HerschelBulkleyDegenerate) {
  herschel_bulkley_degenerate<2>();
  herschel_bulkley_degenerate<3>();
}

// The adjoints accumulate (+=) into adj_F, adj_p and adj_plastic.
TEST(AdjointsPlastic, Accumulate) {
  std::mt19937 rng(131);
  const Matd<3> F = f_with_strain<3>(rng, 0.02, 0.3);
  const Matd<3> adj_G = random_matrix<3>(rng);
  auto check = [&](auto model) {
    using M = decltype(model);
    const Params p = default_params<M>();
    Matd<3> a1 = Matd<3>::zero(), a2 = Matd<3>::identity();
    double p1[kMaxParams] = {}, p2[kMaxParams] = {1, 1, 1, 1, 1, 1, 1, 1};
    double s1 = 0, s2 = 1;
    M::template adj_project<double, 3>(p.data(), F, 0.0, 1e-3, adj_G, 0.5, a1, s1, p1);
    M::template adj_project<double, 3>(p.data(), F, 0.0, 1e-3, adj_G, 0.5, a2, s2, p2);
    M::template adj_first_piola<double, 3>(p.data(), F, 0.0, adj_G, a1, p1, s1);
    M::template adj_first_piola<double, 3>(p.data(), F, 0.0, adj_G, a2, p2, s2);
    EXPECT_LE(max_abs_diff(a2 - Matd<3>::identity(), a1), 1e-12 * frobenius_norm(a1)) << M::kName;
    for (int k = 0; k < kMaxParams; ++k) EXPECT_NEAR(p2[k] - 1, p1[k], 1e-9 * (std::fabs(p1[k]) + 1)) << M::kName;
    EXPECT_EQ(s1, 0.5) << M::kName;
    EXPECT_EQ(s2, 1.5) << M::kName;
  };
  check(StvkHencky{});
  check(VonMises{});
  check(DruckerPrager{});
  check(HerschelBulkley{});
}

// float instantiation (what the GPU runs) agrees with double to float accuracy.
template <class M>
void float_matches_double() {
  std::mt19937 rng(141);
  const Matd<3> F = f_with_strain<3>(rng, -0.02, 0.3);
  const Matd<3> adj_G = random_matrix<3>(rng);
  const Params p = default_params<M>();
  float pf[kMaxParams];
  for (int k = 0; k < kMaxParams; ++k) pf[k] = float(p[k]);
  Matd<3> ad = Matd<3>::zero();
  Mat<float, 3> af = Mat<float, 3>::zero();
  double apd[kMaxParams] = {}, sd = 0;
  float apf[kMaxParams] = {}, sf = 0;
  M::template adj_project<double, 3>(p.data(), F, 0.0, 1e-3, adj_G, 0.0, ad, sd, apd);
  M::template adj_project<float, 3>(pf, F.cast<float>(), 0.0f, 1e-3f, adj_G.cast<float>(), 0.0f, af, sf, apf);
  EXPECT_LE(max_abs_diff(af.cast<double>(), ad), 1e-3 * frobenius_norm(ad)) << M::kName;
  Matd<3> bd = Matd<3>::zero();
  Mat<float, 3> bf = Mat<float, 3>::zero();
  M::template adj_first_piola<double, 3>(p.data(), F, 0.0, adj_G, bd, apd, sd);
  M::template adj_first_piola<float, 3>(pf, F.cast<float>(), 0.0f, adj_G.cast<float>(), bf, apf, sf);
  EXPECT_LE(max_abs_diff(bf.cast<double>(), bd), 1e-3 * frobenius_norm(bd)) << M::kName;
}
TEST(AdjointsPlastic, FloatMatchesDouble) {
  float_matches_double<StvkHencky>();
  float_matches_double<VonMises>();
  float_matches_double<DruckerPrager>();
  float_matches_double<HerschelBulkley>();
}

}  // namespace
}  // namespace pl::materials
