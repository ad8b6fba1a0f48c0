// Sand: StVK-Hencky elasticity + Drucker-Prager plasticity with a
// non-associative (volume-preserving) flow rule.
//
// Source: G. Klar, T. Gast, A. Pradhana, C. Fu, C. Schroeder, C. Jiang,
// J. Teran, "Drucker-Prager elastoplasticity for sand animation", ACM TOG
// 35(4), 2016: Hencky-strain elasticity and the projection of the trial
// elastic strain onto the yield cone (their Algorithm 2; equation numbers not
// re-checked here, so every formula is written out).  Elasticity:
// stvk_hencky.hpp.
//
// Yield condition, in principal Kirchhoff stresses (tension positive):
//   f(tau) = ||dev tau||_F + alpha tr(tau) - k_c <= 0
//   alpha = sqrt(2/3) * 2 sin(phi) / (3 - sin(phi))     (Klar et al.; phi = friction_angle)
//   k_c   = sqrt(2/3) * 6 c cos(phi) / (3 - sin(phi))   (c = cohesion)
// alpha and k_c are sqrt(2) times the standard Drucker-Prager constants fitted to
// the compression corners of Mohr-Coulomb (sqrt(J2) + A I1 <= k), since
// ||dev tau|| = sqrt(2 J2).  cohesion = 0 gives Klar's cone exactly; c > 0
// moves its apex into tension to tr(tau) = k_c / alpha (our extension).
// With Hencky elasticity dev tau = 2 mu dev(eps), tr tau = (D lambda + 2 mu) tr eps.
//
// project(), eps = log Sigma of the trial F, eps_hat = dev eps:
//   Case I  (expansion beyond the apex): tr eps > tr_apex = k_c / (alpha (D lambda + 2 mu)):
//           eps = (tr_apex / D) 1, i.e. Sigma = I when c = 0 (F becomes a rotation:
//           the grains separate and carry no stress).
//   dgamma = ||eps_hat|| + ((D lambda + 2 mu) tr(eps) alpha - k_c) / (2 mu)
//   Case II (inside the cone): dgamma <= 0: F unchanged.
//   Case III: eps <- eps - dgamma eps_hat / ||eps_hat|| (tr eps kept: no plastic
//           volume change), which puts the state exactly on the cone.
// phi = 0 with c > 0 is a cylinder (Tresca-like cohesive soil) without apex;
// phi = 0 with c = 0 keeps Klar's rule (expansion -> Sigma = I, else dev eps -> 0).
// The same alpha is used in 2D (Klar et al. do the same).
//
// Internal state: no hardening and no volume correction; `plastic` is unused
// (Klar's hardening of phi, or the log-volume correction of Tampubolon et al.
// 2017, would store their scalar there).
#pragma once

#include "materials/stvk_hencky.hpp"

namespace pl::materials {

struct DruckerPrager : HenckyElasticity {  // elasticity: StVK on Hencky strain
  static constexpr const char* kName = "drucker_prager";
  static constexpr bool kHasPlasticity = true;
  enum : int { kFrictionAngle = 2, kCohesion, kNumParams };
  static constexpr ParamSpec kParams[kNumParams] = {
      {"E", "Pa", 3.537e5, "Young's modulus (Klar et al. 2016 use 3.537e5)"},
      {"nu", "1", 0.3, "Poisson's ratio"},
      {"friction_angle", "deg", 30.0, "internal friction angle phi, in [0, 90)"},
      {"cohesion", "Pa", 0.0, "Mohr-Coulomb cohesion c (0 = dry sand)"},
  };

  static std::string validate(const double* p) {
    return first_error({check_positive("E", p[kE]), check_poisson("nu", p[kNu]),
                        check_range("friction_angle", p[kFrictionAngle], 0.0, 90.0, true, false),
                        check_non_negative("cohesion", p[kCohesion])});
  }
  /// alpha and k_c of the header, from friction angle [deg] and cohesion [Pa].
  template <class Real>
  PL_HD static void cone(const Real* p, Real& alpha, Real& k_c) {
    const Real phi = p[kFrictionAngle] * Real(3.14159265358979323846 / 180.0);
    const Real sin_phi = sin(phi), cos_phi = cos(phi);
    const Real sqrt_2_3 = sqrt(Real(2) / Real(3));
    alpha = sqrt_2_3 * Real(2) * sin_phi / (Real(3) - sin_phi);
    k_c = sqrt_2_3 * Real(6) * p[kCohesion] * cos_phi / (Real(3) - sin_phi);
  }

  template <class Real, int D>
  PL_HD static void project(const Real* p, Mat<Real, D>& F, Real& /*plastic*/, Real /*dt*/) {
    const Real mu = lame_mu(p[kE], p[kNu]), lambda = lame_lambda(p[kE], p[kNu]);
    Real alpha, k_c;
    cone(p, alpha, k_c);
    const Real bulk_tr = Real(D) * lambda + Real(2) * mu;  // tr tau = bulk_tr * tr eps

    const Svd<Real, D> s = svd_rotation_variant(F);
    const Vec<Real, D> eps = hencky_strain(s.sigma);
    const Real tr = vec_sum(eps);

    // Case I: expansion past the apex.
    const bool has_apex = alpha > Real(0) || k_c == Real(0);
    const Real tr_apex = alpha > Real(0) ? k_c / (alpha * bulk_tr) : Real(0);
    if (has_apex && tr > tr_apex) {
      F = hencky_compose(s, Vec<Real, D>::constant(tr_apex / Real(D)));
      return;
    }

    Vec<Real, D> dev;
    for (int i = 0; i < D; ++i) dev[i] = eps[i] - tr / Real(D);
    const Real dev_norm = norm(dev);
    const Real dgamma = dev_norm + (bulk_tr * tr * alpha - k_c) / (Real(2) * mu);
    if (!(dgamma > Real(0))) return;  // Case II: inside the cone

    // Case III: dgamma > 0 and tr <= tr_apex imply dev_norm >= dgamma > 0.
    const Real scale = Real(1) - dgamma / dev_norm;
    Vec<Real, D> eps_new;
    for (int i = 0; i < D; ++i) eps_new[i] = tr / Real(D) + scale * dev[i];
    F = hencky_compose(s, eps_new);
  }
};

}  // namespace pl::materials
