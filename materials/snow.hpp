// Snow: fixed-corotated elasticity with plastic hardening.
//
// Source: A. Stomakhin, C. Schroeder, L. Chai, J. Teran, A. Selle, "A material
// point method for snow simulation", ACM TOG 32(4), 2013, Sec. 5 (constitutive
// model; the formulas are written out here, equation numbers not re-checked):
//   F = F_E F_P, the particle's F is the ELASTIC part F_E; plastic = J_P = det F_P.
//   Psi(F_E, J_P) = mu(J_P) ||F_E - R_E||^2 + lambda(J_P)/2 (J_E - 1)^2
//   mu(J_P) = mu0 exp(xi (1 - J_P)),  lambda(J_P) = lambda0 exp(xi (1 - J_P))
// (fixed corotated energy of fixed_corotated.hpp with hardened Lame constants;
// the paper writes the hardening in terms of F_P, which enters only via J_P).
//
// project() (the paper's plasticity update): F_E = U Sigma V^T,
//   Sigma_i <- clamp(Sigma_i, 1 - theta_c, 1 + theta_s)
//   J_P     <- J_P * det(F_E, before) / det(F_E, after)
// so J_P det(F_E) (= det F, the total volume ratio) is unchanged.  For an inverted
// trial F_E (negative last singular value; clamping un-inverts it) the ratio uses
// |det F_E, before| so that J_P stays positive (the paper does not cover this).
//
// Hardening can raise the stiffness by exp(xi (1 - J_P)) (compressed snow
// hardens); wave_speed() reports the initial (J_P = 1) speed.
//
// Adjoints (contract: model_base.hpp): adj_first_piola is fixed corotated's
// (fixed_corotated.hpp) with the hardening factor's chain rule added;
// adj_project differentiates the clamp as a singular-value function
// (kernels/math/svd_adjoint.hpp).  Formulas and degenerate cases above each.
#pragma once

#include "materials/fixed_corotated.hpp"

namespace pl::materials {

struct Snow : ModelDefaults {
  static constexpr const char* kName = "snow";
  static constexpr bool kHasPlasticity = true;
  static constexpr bool kHandlesInversion = true;
  static constexpr bool kHasAdjoint = true;
  enum : int { kE, kNu, kCriticalCompression, kCriticalStretch, kHardening, kNumParams };
  static constexpr ParamSpec kParams[kNumParams] = {
      {"E", "Pa", 1.4e5, "initial Young's modulus (Stomakhin et al. 2013: 1.4e5)"},
      {"nu", "1", 0.2, "Poisson's ratio"},
      {"critical_compression", "1", 2.5e-2, "theta_c: singular values are kept >= 1 - theta_c"},
      {"critical_stretch", "1", 7.5e-3, "theta_s: singular values are kept <= 1 + theta_s"},
      {"hardening", "1", 10.0, "xi: Lame constants scale by exp(xi (1 - J_P))"},
  };

  static std::string validate(const double* p) {
    return first_error(
        {check_positive("E", p[kE]), check_poisson("nu", p[kNu]),
         check_range("critical_compression", p[kCriticalCompression], 0.0, 1.0, true, false),
         check_non_negative("critical_stretch", p[kCriticalStretch]),
         check_non_negative("hardening", p[kHardening])});
  }
  static double wave_speed(const double* p, double density) {
    return elastic_wave_speed(p[kE], p[kNu], density);
  }

  template <class Real>
  PL_HD static Real initial_plastic_state(const Real* /*p*/) {
    return Real(1);  // J_P = 1: no plastic deformation yet
  }

  template <class Real>
  PL_HD static Real hardening_factor(const Real* p, Real J_p) {
    return exp(p[kHardening] * (Real(1) - J_p));
  }

  template <class Real, int D>
  PL_HD static Real energy_density(const Real* p, const Mat<Real, D>& F, Real plastic) {
    const Real h = hardening_factor(p, plastic);
    return fixed_corotated_energy(h * lame_mu(p[kE], p[kNu]), h * lame_lambda(p[kE], p[kNu]), F);
  }

  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola(const Real* p, const Mat<Real, D>& F, Real plastic) {
    const Real h = hardening_factor(p, plastic);
    return fixed_corotated_first_piola(h * lame_mu(p[kE], p[kNu]), h * lame_lambda(p[kE], p[kNu]),
                                       F);
  }

  template <class Real, int D>
  PL_HD static void project(const Real* p, Mat<Real, D>& F, Real& plastic, Real /*dt*/) {
    const Real lo = Real(1) - p[kCriticalCompression], hi = Real(1) + p[kCriticalStretch];
    const Svd<Real, D> s = svd_rotation_variant_fast(F);  // kernels/math/polar.hpp
    Vec<Real, D> clamped;
    Real ratio = Real(1);  // |det before| / det after, accumulated per singular value
    bool changed = false;
    for (int i = 0; i < D; ++i) {
      const Real si = s.sigma[i];
      clamped[i] = si < lo ? lo : (si > hi ? hi : si);
      changed |= clamped[i] != si;
      ratio *= fabs(si) / clamped[i];
    }
    if (!changed) return;
    F = compose_usv(s.U, clamped, s.V);
    plastic *= ratio;
  }

  // ---- adjoints ---------------------------------------------------------------
  // VJP of first_piola.  With h = exp(xi (1 - J_P)), mu = h mu0, lambda = h lambda0
  // (mu0, lambda0 the Lame constants of E, nu) and adj_mu, adj_lambda from
  // adj_fixed_corotated_first_piola:
  //   adj_h = mu0 adj_mu + lambda0 adj_lambda
  //   adj_(mu0, lambda0) = h (adj_mu, adj_lambda)  -> (E, nu) by adj_lame
  //   adj_plastic += dh/dJ_P adj_h = -xi h adj_h,   adj_xi += (1 - J_P) h adj_h
  template <class Real, int D>
  PL_HD static void adj_first_piola(const Real* p, const Mat<Real, D>& F, Real plastic,
                                    const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real* adj_p,
                                    Real& adj_plastic) {
    const Real h = hardening_factor(p, plastic);
    const Real mu0 = lame_mu(p[kE], p[kNu]), lambda0 = lame_lambda(p[kE], p[kNu]);
    Real adj_mu = Real(0), adj_lambda = Real(0);
    adj_fixed_corotated_first_piola(h * mu0, h * lambda0, F, adj_P, adj_F, adj_mu, adj_lambda);
    const Real adj_h = mu0 * adj_mu + lambda0 * adj_lambda;
    adj_lame(p[kE], p[kNu], h * adj_mu, h * adj_lambda, adj_p[kE], adj_p[kNu]);
    adj_plastic += -p[kHardening] * h * adj_h;
    adj_p[kHardening] += (Real(1) - plastic) * h * adj_h;
  }

  // The same pair sharing one polar_factors(F) (model_base.hpp, "Factored stress").
  static constexpr bool kPolarFactoredStress = true;
  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola_polar(const Real* p, const Mat<Real, D>& F, Real plastic,
                                              PolarFactors<Real, D>& f, Svd<Real, D>& s) {
    const Real h = hardening_factor(p, plastic);
    f = polar_factors(F, s);
    return fixed_corotated_first_piola(h * lame_mu(p[kE], p[kNu]), h * lame_lambda(p[kE], p[kNu]), F, f.R);
  }
  template <class Real, int D>
  PL_HD static void adj_first_piola_polar(const Real* p, const Mat<Real, D>& F, Real plastic,
                                          const PolarFactors<Real, D>& f, const Svd<Real, D>& s,
                                          const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real* adj_p,
                                          Real& adj_plastic) {
    const Real h = hardening_factor(p, plastic);
    const Real mu0 = lame_mu(p[kE], p[kNu]), lambda0 = lame_lambda(p[kE], p[kNu]);
    Real adj_mu = Real(0), adj_lambda = Real(0);
    adj_fixed_corotated_first_piola(h * mu0, h * lambda0, F, f, s, adj_P, adj_F, adj_mu, adj_lambda);
    const Real adj_h = mu0 * adj_mu + lambda0 * adj_lambda;
    adj_lame(p[kE], p[kNu], h * adj_mu, h * adj_lambda, adj_p[kE], adj_p[kNu]);
    adj_plastic += -p[kHardening] * h * adj_h;
    adj_p[kHardening] += (Real(1) - plastic) * h * adj_h;
  }

  // VJP of project().  Nothing clamped: the forward returns (F, J_P) unchanged,
  // so the adjoint is the identity.  Otherwise, with c_i = clamp(sigma_i, lo, hi),
  // lo = 1 - theta_c, hi = 1 + theta_s, and r = prod_i |sigma_i| / c_i:
  //   F_out = U diag(c) V^T       -> adj_singular_value_function, g = c,
  //                                  dg = diag(c'_i), c'_i = 1 inside [lo, hi], 0 clamped
  //   J_P_out = J_P_in r           -> adj_J_P_in += r adj_J_P_out, and with
  //                                  adj_r = J_P_in adj_J_P_out:
  //     d r/d sigma_i = r/sigma_i for clamped i (d log|s|/ds = 1/s), 0 for the
  //     others (|sigma_i|/c_i = 1 there), through adj_singular_values;
  //     d r/d c_i = -r/c_i
  //   adj_c_i = (U^T adj_F_out V)_ii - adj_r r/c_i (dF_out/dc_i = u_i v_i^T),
  //   dc_i/dtheta_c = -1 where clamped low, dc_i/dtheta_s = +1 where clamped high.
  // Degenerate cases:
  //  * sigma_i exactly on lo or hi: the forward keeps it (strict comparisons),
  //    so the adjoint uses c'_i = 1 and no parameter term: the one-sided
  //    derivative from INSIDE the box (the clamp is a kink there; tested).
  //  * Repeated singular values: equal values are clamped alike, so g is
  //    symmetric and adj_singular_value_function's limit is exact (two values
  //    clamped to the same bound give g_i = g_j, dg = 0: q_minus = 0).
  //  * Inverted trial F (sigma_D < 0, clamped up to lo): smooth, except where
  //    sigma_i + sigma_D = 0, where F_out jumps (c_i + c_D > 0) and the
  //    gradient is the regularized one of adj_singular_value_function.
  //  * sigma_i = 0 (det F_trial = 0, clamped): r = 0 and |sigma_i| has a kink;
  //    r/sigma_i is replaced by its value with |sigma_i| = sign(sigma_i) sigma_i,
  //    i.e. sign(sigma_i) prod_{k != i} |sigma_k|/c_k / c_i, with sign(0) = 0
  //    (the subgradient midpoint; a measure-zero state).
  template <class Real, int D>
  PL_HD static void adj_project(const Real* p, const Mat<Real, D>& F_trial, Real plastic_in, Real /*dt*/,
                                const Mat<Real, D>& adj_F_out, Real adj_plastic_out, Mat<Real, D>& adj_F_trial,
                                Real& adj_plastic_in, Real* adj_p) {
    const Real lo = Real(1) - p[kCriticalCompression], hi = Real(1) + p[kCriticalStretch];
    const Svd<Real, D> s = svd_rotation_variant_fast(F_trial);  // the forward's SVD, bit for bit
    Vec<Real, D> clamped;
    Mat<Real, D> dclamped = Mat<Real, D>::zero();
    Real ratio = Real(1);
    bool changed = false;
    for (int i = 0; i < D; ++i) {  // as in project(), bit for bit
      const Real si = s.sigma[i];
      clamped[i] = si < lo ? lo : (si > hi ? hi : si);
      changed |= clamped[i] != si;
      dclamped(i, i) = clamped[i] != si ? Real(0) : Real(1);
      ratio *= fabs(si) / clamped[i];
    }
    if (!changed) {
      adj_F_trial += adj_F_out;
      adj_plastic_in += adj_plastic_out;
      return;
    }
    adj_singular_value_function(s, clamped, dclamped, adj_F_out, adj_F_trial);
    adj_plastic_in += ratio * adj_plastic_out;
    const Real adj_ratio = plastic_in * adj_plastic_out;
    const Vec<Real, D> adj_clamped_F = svd_basis_diagonal(s, adj_F_out);
    Vec<Real, D> adj_sigma = Vec<Real, D>::zero();
    for (int i = 0; i < D; ++i) {
      if (dclamped(i, i) != Real(0)) continue;  // inside: |sigma_i|/c_i = 1, no parameter
      const Real si = s.sigma[i];
      Real others = Real(1);  // prod_{k != i} |sigma_k| / c_k
      for (int k = 0; k < D; ++k)
        if (k != i) others *= fabs(s.sigma[k]) / clamped[k];
      const Real sign = si > Real(0) ? Real(1) : (si < Real(0) ? Real(-1) : Real(0));
      adj_sigma[i] = adj_ratio * sign * others / clamped[i];
      const Real adj_c = adj_clamped_F[i] - adj_ratio * ratio / clamped[i];
      if (si < lo)
        adj_p[kCriticalCompression] -= adj_c;
      else
        adj_p[kCriticalStretch] += adj_c;
    }
    adj_singular_values(s, adj_sigma, adj_F_trial);
  }
};

}  // namespace pl::materials
