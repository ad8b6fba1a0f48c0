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
#pragma once

#include "materials/fixed_corotated.hpp"

namespace pl::materials {

struct Snow : ModelDefaults {
  static constexpr const char* kName = "snow";
  static constexpr bool kHasPlasticity = true;
  static constexpr bool kHandlesInversion = true;
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
    const Svd<Real, D> s = svd_rotation_variant(F);
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
};

}  // namespace pl::materials
