// Weakly compressible Newtonian fluid: Tait equation of state + Newtonian
// viscosity.
//
// Equation of state: the Tait form used by weakly compressible SPH,
// M. Becker, M. Teschner, "Weakly compressible SPH for free surface flows",
// SCA 2007, eq. (6): p = B ((rho/rho0)^gamma - 1).  With rho/rho0 = 1/J (mass
// conservation):
//   p(J) = B (J^-gamma - 1)
// the J form used by graphics MPM codes for fluids (gamma = 1 is the
// p = E (1/J - 1) of the Taichi mpm88/mpm3d examples).  The parameter
// `bulk_modulus` is this B, as in those codes; NOTE the physical bulk modulus
// at rest is -J dp/dJ = gamma B, so the rest sound speed is
//   c0 = sqrt(gamma B / rho0)                              (wave_speed())
// (Becker & Teschner's B = rho0 c0^2 / gamma).  c grows under compression,
// c^2 = gamma B J^-gamma / rho; at the few % compression of a weakly
// compressible run the stability guard's margin covers it.  No cavitation
// clamp: expansion gives (bounded, -B) tension.
//
// Energy consistent with it (dPsi/dJ = -p, Psi(1) = 0, convex in J):
//   Psi(J) = B [ (J - 1) - (J^(1-gamma) - 1)/(1 - gamma) ]
//   P(F)   = -p(J) cof(F)               (tau = P F^T = -p J I: pure pressure)
// (J^(1-gamma) - 1)/(1 - gamma) is evaluated as expm1(a log J)/a, a = 1 - gamma,
// with its series for |a| -> 0 (log J at gamma = 1).  Below J = kFluidMinJ the
// energy is continued by its tangent line in J (P = -p(kFluidMinJ) cof F), so
// P stays finite and still equals dPsi/dF for J <= 0.
//
// Viscosity (Stokes' hypothesis, zero bulk viscosity): Cauchy sigma_v =
// 2 eta dev(sym(grad v)); viscous_kirchhoff returns J sigma_v (deviatoric, so
// viscosity never fights the equation of state on volume).
//
// project(): F <- J^(1/D) I.  A fluid has no shear memory; resetting F keeps
// only the volume ratio J, which is all the energy uses, and stops the SVD-free
// F from drifting far from a multiple of I.  For J < kFluidMinJ the reset uses
// kFluidMinJ (a pathological state: a weakly compressible fluid never gets there).
// `plastic` is unused.
#pragma once

#include "materials/model_base.hpp"

namespace pl::materials {

/// Below this J the fluid energy is continued linearly (see header).
constexpr double kFluidMinJ = 0.1;

struct WeaklyCompressibleFluid : ModelDefaults {
  static constexpr const char* kName = "weakly_compressible_fluid";
  static constexpr bool kHasPlasticity = true;  // project() resets F
  static constexpr bool kIsFluid = true;
  static constexpr bool kHandlesInversion = true;
  static constexpr bool kHasAdjoint = true;
  enum : int { kBulkModulus, kGamma, kViscosity, kNumParams };
  static constexpr ParamSpec kParams[kNumParams] = {
      {"bulk_modulus", "Pa", 1.0e5,
       "Tait stiffness B in p = B (J^-gamma - 1); rest bulk modulus gamma B, sound speed "
       "sqrt(gamma B / rho)"},
      {"gamma", "1", 7.0, "Tait exponent, in (0, 20] (7 for water)"},
      {"viscosity", "Pa s", 1.0e-3, "dynamic viscosity eta (water: 1e-3)"},
  };

  static std::string validate(const double* p) {
    return first_error({check_positive("bulk_modulus", p[kBulkModulus]),
                        check_range("gamma", p[kGamma], 0.0, 20.0, false, true),
                        check_non_negative("viscosity", p[kViscosity])});
  }
  static double wave_speed(const double* p, double density) {
    return std::sqrt(p[kGamma] * p[kBulkModulus] / density);
  }

  /// J^-gamma (J > 0).  gamma = 1 (the Taichi mpm88/mpm99/mpm3d fluids) is a
  /// reciprocal instead of a pow call: pow was 3-6% of the S1/S2 benchmarks.
  template <class Real>
  PL_HD static Real j_pow_minus_gamma(const Real* p, Real J) {
    return p[kGamma] == Real(1) ? Real(1) / J : pow(J, -p[kGamma]);
  }

  /// Tait pressure p(J) (J > 0).
  template <class Real>
  PL_HD static Real pressure(const Real* p, Real J) {
    return p[kBulkModulus] * (j_pow_minus_gamma(p, J) - Real(1));
  }

  /// J^(1/D), the diagonal of the reset F (sqrt and cbrt are exact-rounded or
  /// close to it and several times cheaper than pow).
  template <class Real, int D>
  PL_HD static Real root_d(Real J) {
    if constexpr (D == 2)
      return sqrt(J);
    else
      return cbrt(J);
  }

  /// Psi(J) for J > 0 (no linear continuation).
  template <class Real>
  PL_HD static Real energy_of_j(const Real* p, Real J) {
    const Real a = Real(1) - p[kGamma], L = log(J), aL = a * L;
    // (J^a - 1)/a; the series branch covers gamma ~ 1 where expm1(aL)/a loses digits.
    const Real integral =
        fabs(aL) < Real(1e-4) ? L * (Real(1) + aL * (Real(0.5) + aL / Real(6))) : expm1(aL) / a;
    return p[kBulkModulus] * ((J - Real(1)) - integral);
  }

  template <class Real, int D>
  PL_HD static Real energy_density(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    const Real J = determinant(F), J0 = Real(kFluidMinJ);
    if (J >= J0) return energy_of_j(p, J);
    return energy_of_j(p, J0) - pressure(p, J0) * (J - J0);
  }

  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    const Real J = determinant(F), J0 = Real(kFluidMinJ);
    return (-pressure(p, J >= J0 ? J : J0)) * cofactor(F);
  }

  template <class Real, int D>
  PL_HD static void project(const Real* /*p*/, Mat<Real, D>& F, Real& /*plastic*/, Real /*dt*/) {
    const Real J = determinant(F), J0 = Real(kFluidMinJ);
    F = Mat<Real, D>::diagonal(root_d<Real, D>(J >= J0 ? J : J0));
  }

  template <class Real, int D>
  PL_HD static Mat<Real, D> viscous_kirchhoff(const Real* p, const Mat<Real, D>& F,
                                              const Mat<Real, D>& grad_v) {
    return (Real(2) * p[kViscosity] * determinant(F)) * deviatoric(sym(grad_v));
  }

  // ---- adjoints (see model_base.hpp for the contract) ----------------------
  // P = -p(Jc) cof F with Jc = max(J, J0).  With s = cof F : adj_P:
  //   adj_F += -p(Jc) d(cof F : adj_P)/dF  +  [J >= J0] (-p'(Jc) s) cof F
  //   p'(J) = -gamma B J^(-gamma-1);  dp/dB = J^-gamma - 1;  dp/dgamma = -B J^-gamma log J
  // Below J0 the pressure is frozen (the linear continuation), so no J term:
  // that is the exact derivative of the continued energy, not a clamp.
  template <class Real, int D>
  PL_HD static void adj_first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/,
                                    const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real* adj_p,
                                    Real& /*adj_plastic*/) {
    const Real J = determinant(F), J0 = Real(kFluidMinJ);
    const bool above = J >= J0;
    const Real Jc = above ? J : J0;
    const Real Jmg = j_pow_minus_gamma(p, Jc);
    const Mat<Real, D> cof = cofactor(F);
    const Real s = ddot(cof, adj_P);
    adj_cofactor(F, (-pressure(p, Jc)) * adj_P, adj_F);
    if (above) {
      const Real dp_dJ = -p[kGamma] * p[kBulkModulus] * Jmg / Jc;
      adj_determinant(F, -dp_dJ * s, adj_F);
    }
    adj_p[kBulkModulus] += -(Jmg - Real(1)) * s;
    adj_p[kGamma] += p[kBulkModulus] * Jmg * log(Jc) * s;
  }

  // tau_v = 2 eta J dev(sym(G)); dev∘sym is a self-adjoint projection.
  template <class Real, int D>
  PL_HD static void adj_viscous_kirchhoff(const Real* p, const Mat<Real, D>& F, const Mat<Real, D>& grad_v,
                                          const Mat<Real, D>& adj_tau, Mat<Real, D>& adj_F,
                                          Mat<Real, D>& adj_grad_v, Real* adj_p) {
    const Real J = determinant(F);
    const Real shear_dot_adj = ddot(deviatoric(sym(grad_v)), adj_tau);
    adj_grad_v += (Real(2) * p[kViscosity] * J) * deviatoric(sym(adj_tau));
    adj_determinant(F, Real(2) * p[kViscosity] * shear_dot_adj, adj_F);
    adj_p[kViscosity] += Real(2) * J * shear_dot_adj;
  }

  // F_out = Jc^(1/D) I:  adj_J = [J >= J0] (1/D) Jc^(1/D - 1) tr(adj_F_out).
  template <class Real, int D>
  PL_HD static void adj_project(const Real* /*p*/, const Mat<Real, D>& F_trial, Real /*plastic_in*/,
                                Real /*dt*/, const Mat<Real, D>& adj_F_out, Real adj_plastic_out,
                                Mat<Real, D>& adj_F_trial, Real& adj_plastic_in, Real* /*adj_p*/) {
    const Real J = determinant(F_trial);
    if (J >= Real(kFluidMinJ))
      adj_determinant(F_trial, root_d<Real, D>(J) / (Real(D) * J) * trace(adj_F_out), adj_F_trial);
    adj_plastic_in += adj_plastic_out;
  }
};

}  // namespace pl::materials
