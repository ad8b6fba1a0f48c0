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
//
// Adjoint of project(): one per case, see adj_project below.
#pragma once

#include "materials/stvk_hencky.hpp"

namespace pl::materials {

struct DruckerPrager : HenckyElasticity {  // elasticity: StVK on Hencky strain
  static constexpr const char* kName = "drucker_prager";
  static constexpr bool kHasPlasticity = true;
  static constexpr bool kHasAdjoint = true;  // adj_first_piola: HenckyElasticity
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
  /// Derivatives of cone(): with s = sin(phi), q = 3 - s, phi in radians,
  ///   dalpha/dphi = sqrt(2/3) 6 cos(phi) / q^2
  ///   dk_c/dphi   = sqrt(2/3) 6 c (1 - 3 s) / q^2
  ///   dk_c/dc     = sqrt(2/3) 6 cos(phi) / q
  /// accumulated into adj_p (friction_angle is in degrees: times pi/180).
  template <class Real>
  PL_HD static void adj_cone(const Real* p, Real adj_alpha, Real adj_k_c, Real* adj_p) {
    const Real deg = Real(3.14159265358979323846 / 180.0);
    const Real phi = p[kFrictionAngle] * deg;
    const Real sin_phi = sin(phi), cos_phi = cos(phi), q = Real(3) - sin_phi;
    const Real c6 = sqrt(Real(2) / Real(3)) * Real(6);
    adj_p[kFrictionAngle] +=
        deg * (adj_alpha * c6 * cos_phi + adj_k_c * c6 * p[kCohesion] * (Real(1) - Real(3) * sin_phi)) / (q * q);
    adj_p[kCohesion] += adj_k_c * c6 * cos_phi / q;
  }

  template <class Real, int D>
  PL_HD static void project(const Real* p, Mat<Real, D>& F, Real& /*plastic*/, Real /*dt*/) {
    const Real mu = lame_mu(p[kE], p[kNu]), lambda = lame_lambda(p[kE], p[kNu]);
    Real alpha, k_c;
    cone(p, alpha, k_c);
    const Real bulk_tr = Real(D) * lambda + Real(2) * mu;  // tr tau = bulk_tr * tr eps

    const HenckyTrial<Real, D> t = hencky_trial(F);
    const auto& s = t.s;
    const Real tr = t.tr;

    // Case I: expansion past the apex.
    const bool has_apex = alpha > Real(0) || k_c == Real(0);
    const Real tr_apex = alpha > Real(0) ? k_c / (alpha * bulk_tr) : Real(0);
    if (has_apex && tr > tr_apex) {
      F = hencky_compose(s, Vec<Real, D>::constant(tr_apex / Real(D)));
      return;
    }

    const Vec<Real, D>& dev = t.dev;
    const Real dev_norm = t.dev_norm;
    const Real dgamma = dev_norm + (bulk_tr * tr * alpha - k_c) / (Real(2) * mu);
    if (!(dgamma > Real(0))) return;  // Case II: inside the cone

    // Case III: dgamma > 0 and tr <= tr_apex imply dev_norm >= dgamma > 0.
    const Real scale = Real(1) - dgamma / dev_norm;
    Vec<Real, D> eps_new;
    for (int i = 0; i < D; ++i) eps_new[i] = tr / Real(D) + scale * dev[i];
    F = hencky_compose(s, eps_new);
  }

  // VJP of project(), case by case (eps = log Sigma, tr = tr eps, d = dev eps,
  // n = d/||d||, B = bulk_tr = D lambda + 2 mu; F_out = U diag(exp(eps_new)) V^T
  // goes through adj_hencky_compose with J_eps = d eps_new/d eps):
  //  Case I (apex, tr > tr_apex): eps_new = (tr_apex/D) 1, J_eps = 0, so
  //     F_out = exp(tr_apex/D) U V^T: for c = 0 F_out = U V^T is the rotation
  //     of the rotation-variant polar decomposition (the polar rotation when
  //     det F > 0).  Its F-gradient is the (g_i + g_j)/(sigma_i + sigma_j)
  //     term of adj_singular_value_function (the divided difference g_i - g_j
  //     is 0: all g equal), which is adj_polar_rotation scaled; at repeated
  //     singular values (a pure expansion F = a R) U V^T is still smooth and
  //     the limit term is dg_ii - dg_ij = 0.  (An inverted F, where U V^T would
  //     jump at sigma_D = -sigma_i, never reaches Case I: its continued log
  //     strain is below log(1e-4), so tr < tr_apex unless the other stretches
  //     exceed ~1e4.)  Params: d eps_new_i/d tr_apex = 1/D, tr_apex =
  //     k_c/(alpha B) (alpha > 0; else tr_apex = 0 is constant).
  //  Case II (inside, dgamma <= 0): identity.  A state exactly ON the cone
  //     (dgamma == 0) takes this branch: the one-sided derivative from inside.
  //     A state exactly AT tr == tr_apex is not Case I (strict >), it is II or III.
  //  Case III (cone return): dgamma = ||d|| + beta with beta = (B alpha tr - k_c)/(2 mu)
  //     so eps_new = (tr/D) 1 + (1 - dgamma/||d||) d = (tr/D) 1 - beta n, and
  //     d eps_new/d eps = (1/D) 1 1^T - (B alpha/(2 mu)) n 1^T
  //                       - (beta/||d||) (I - (1/D) 1 1^T - n n^T)
  //     (not symmetric: the non-associative flow keeps tr eps while the cone
  //     radius -beta depends on it).  ||d|| >= dgamma > 0 here (header).  Params:
  //     d eps_new/d beta = -n;  dbeta/dB = alpha tr/(2 mu), dbeta/dalpha = B tr/(2 mu),
  //     dbeta/dk_c = -1/(2 mu), dbeta/dmu (explicit) = -beta/mu.
  // Then B -> (lambda, mu) (dB/dlambda = D, dB/dmu = 2), (mu, lambda) -> (E, nu)
  // by adj_lame, (alpha, k_c) -> (friction_angle, cohesion) by adj_cone.
  // Parameter kinks: cohesion = 0 with alpha > 0 has tr_apex = 0 but a nonzero
  // cohesion derivative (the one-sided one for c >= 0, the only admissible
  // side); phi = 0 with c = 0 is Klar's rule (tr_apex := 0, constant), whose
  // cohesion derivative is taken as 0 (the branch taken: for c > 0 at phi = 0
  // the model is a cylinder without apex, a different branch).
  template <class Real, int D>
  PL_HD static void adj_project(const Real* p, const Mat<Real, D>& F_trial, Real /*plastic_in*/, Real /*dt*/,
                                const Mat<Real, D>& adj_F_out, Real adj_plastic_out, Mat<Real, D>& adj_F_trial,
                                Real& adj_plastic_in, Real* adj_p) {
    adj_plastic_in += adj_plastic_out;
    const Real mu = lame_mu(p[kE], p[kNu]), lambda = lame_lambda(p[kE], p[kNu]);
    Real alpha, k_c;
    cone(p, alpha, k_c);
    const Real bulk_tr = Real(D) * lambda + Real(2) * mu;

    const HenckyTrial<Real, D> t = hencky_trial(F_trial);
    const auto& s = t.s;
    const Real tr = t.tr;

    Real adj_alpha = Real(0), adj_k_c = Real(0), adj_bulk = Real(0), adj_mu = Real(0);
    const bool has_apex = alpha > Real(0) || k_c == Real(0);
    const Real tr_apex = alpha > Real(0) ? k_c / (alpha * bulk_tr) : Real(0);
    if (has_apex && tr > tr_apex) {  // Case I
      const Vec<Real, D> eps_new = Vec<Real, D>::constant(tr_apex / Real(D));
      Vec<Real, D> adj_eps_new;
      adj_hencky_compose(s, eps_new, Mat<Real, D>::zero(), adj_F_out, adj_F_trial, adj_eps_new);
      if (alpha > Real(0)) {
        const Real adj_tr_apex = vec_sum(adj_eps_new) / Real(D);
        adj_k_c += adj_tr_apex / (alpha * bulk_tr);
        adj_alpha -= adj_tr_apex * tr_apex / alpha;
        adj_bulk -= adj_tr_apex * tr_apex / bulk_tr;
      }
    } else {
      const Vec<Real, D>& dev = t.dev;
      const Real dev_norm = t.dev_norm;
      const Real dgamma = dev_norm + (bulk_tr * tr * alpha - k_c) / (Real(2) * mu);
      if (!(dgamma > Real(0))) {  // Case II
        adj_F_trial += adj_F_out;
        return;
      }
      // Case III
      const Real beta = (bulk_tr * tr * alpha - k_c) / (Real(2) * mu);
      const Real scale = Real(1) - dgamma / dev_norm;
      const Real dbeta_dtr = bulk_tr * alpha / (Real(2) * mu);
      Vec<Real, D> n, eps_new;
      for (int i = 0; i < D; ++i) {
        n[i] = dev[i] / dev_norm;
        eps_new[i] = tr / Real(D) + scale * dev[i];  // as in project(), bit for bit
      }
      Mat<Real, D> J_eps;
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j)
          J_eps(i, j) = Real(1) / Real(D) - dbeta_dtr * n[i] -
                        beta / dev_norm * ((i == j ? Real(1) : Real(0)) - Real(1) / Real(D) - n[i] * n[j]);
      Vec<Real, D> adj_eps_new;
      // eps_new = (tr/D) 1 + scale dev: a radial return (exact divided differences near the apex).
      adj_hencky_compose_radial(s, eps_new, scale, J_eps, adj_F_out, adj_F_trial, adj_eps_new);
      const Real adj_beta = -dot(adj_eps_new, n);
      const Real inv_2mu = Real(1) / (Real(2) * mu);
      adj_bulk += adj_beta * alpha * tr * inv_2mu;
      adj_alpha += adj_beta * bulk_tr * tr * inv_2mu;
      adj_k_c -= adj_beta * inv_2mu;
      adj_mu -= adj_beta * beta / mu;
    }
    adj_lame(p[kE], p[kNu], adj_mu + Real(2) * adj_bulk, Real(D) * adj_bulk, adj_p[kE], adj_p[kNu]);
    adj_cone(p, adj_alpha, adj_k_c, adj_p);
  }
};

}  // namespace pl::materials
