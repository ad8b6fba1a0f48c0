// What a constitutive model is in Pliant, and the defaults a model inherits.
//
// Stress convention (project-wide): a model returns the FIRST Piola-Kirchhoff
// stress P(F) = dPsi/dF of its elastic energy density Psi(F) (per unit
// reference volume).  FEM uses P directly (f = -V0 P grad N); MPM converts to
// the Kirchhoff stress tau = P F^T, which is what the MLS-MPM momentum update
// needs (Hu et al. 2018, eq. 17).  Rate-dependent (viscous) stress is returned
// separately as a Kirchhoff stress from the velocity gradient, because it has
// no energy.
//
// A model is a struct deriving from ModelDefaults with:
//   kName                   registry name used in scene files
//   enum { kE, ..., kNumParams }  indices into the packed parameter array
//   kParams[kNumParams]     name, unit, default and meaning of each parameter
//   validate(const double*) host-only; "" if valid, else a message naming the
//                           parameter and the expected range
//   wave_speed(p, density)  fastest elastic wave speed [m/s] (stability guard)
//   energy_density, first_piola, project, viscous_kirchhoff,
//   initial_plastic_state   PL_HD functions, templated on Real and D
// Parameters travel to kernels as a packed array `const Real* p` (so that
// gradients with respect to them are one array, too).  Each model derives the
// coefficients it needs (mu, lambda, ...) inside its functions: it is a few
// flops and keeps one source of truth.
//
// `plastic` is one per-particle scalar of internal state whose meaning is the
// model's (snow: plastic volume ratio J_p; others, sand included: unused, 0).
// `project(p, F, plastic, dt)` is the plastic return mapping applied to the
// trial F after each G2P update; it may change F and `plastic`.  dt is the time
// step [s], used only by rate-dependent models (herschel_bulkley).
//
// Traits (defaults in ModelDefaults):
//   kHasPlasticity     project() may change F or `plastic` (the engine must call it)
//   kIsFluid           no shear memory: project() discards the deviatoric part of
//                      F and the model has a viscous_kirchhoff
//   kHandlesInversion  energy_density and first_piola stay finite and consistent
//                      (P = dPsi/dF) for det F < 0, pushing inverted elements back;
//                      when false, det F <= 0 returns finite but non-conservative
//                      stress (a floor on J) and the tests skip such F
// A model is registered by adding it to AllModels in materials/model_list.hpp.
//
// Adjoints (vector-Jacobian products, for the differentiable engine).  Every
// adj_* ACCUMULATES into its outputs (+=), never overwrites, and lives next to
// its forward in the model's header.  `adj_p` is the gradient with respect to
// the packed parameter array (kMaxParams entries).
//   adj_first_piola(p, F, plastic, adj_P, adj_F, adj_p, adj_plastic)
//       VJP of P = first_piola(p, F, plastic)
//   adj_viscous_kirchhoff(p, F, grad_v, adj_tau, adj_F, adj_grad_v, adj_p)
//       VJP of tau_v = viscous_kirchhoff(p, F, grad_v)          [default: none]
//   adj_project(p, F_trial, plastic_in, dt, adj_F_out, adj_plastic_out,
//               adj_F_trial, adj_plastic_in, adj_p)
//       VJP of (F_out, plastic_out) = project(F_trial, plastic_in)  [default: identity]
// The defaults match the default forwards (no viscosity, no projection): a
// model that overrides a forward must override its adjoint; the generic
// finite-difference tests in tests/materials catch one that does not.
// kHasAdjoint says adj_first_piola exists; the engine refuses to differentiate
// through a model without it rather than return a wrong gradient.
//
// Factored stress (optional; kFactoredStress, default false).  A model whose P
// needs the SVD of F (the most expensive part of a substep) may also provide
//   first_piola_factored(p, F, plastic, Svd& s)      -> P, and s = svd_rotation_variant(F)
//   adj_first_piola_factored(p, F, plastic, const Svd& s, adj_P, adj_F, adj_p, adj_plastic)
// with results bit-identical to first_piola / adj_first_piola: the backward
// pass factors F once per particle and substep and reuses s in the adjoint
// (kernels/mpm/constitutive.hpp, StressFactors).  Tested against the unfactored
// pair for every model in tests/materials/test_factored_stress.cpp.
// A model whose P needs only the polar rotation R of F (fixed corotated, snow)
// sets kPolarFactoredStress instead and provides
//   first_piola_polar(p, F, plastic, PolarFactors& f, Svd& s)  -> P, f = polar_factors(F, s)
//   adj_first_piola_polar(p, F, plastic, const PolarFactors& f, const Svd& s, adj_P, adj_F, adj_p, adj_plastic)
// (kernels/math/polar.hpp: R without an SVD where F is well conditioned, s only
// filled elsewhere), under the same bit-identity contract.
#pragma once

#include <initializer_list>
#include <string>

#include "kernels/math/mat.hpp"

namespace pl::materials {

/// Largest number of named parameters any model may have.
constexpr int kMaxParams = 8;

struct ParamSpec {
  const char* name;
  const char* unit;  // SI; "1" for dimensionless
  double default_value;
  const char* meaning;
};

/// Lame parameters from Young's modulus and Poisson's ratio (standard isotropic
/// linear elasticity relations).
template <class Real>
PL_HD PL_INLINE Real lame_mu(Real E, Real nu) {
  return E / (Real(2) * (Real(1) + nu));
}
template <class Real>
PL_HD PL_INLINE Real lame_lambda(Real E, Real nu) {
  return E * nu / ((Real(1) + nu) * (Real(1) - Real(2) * nu));
}

/// Chain rule through the Lame relations: given adj_mu, adj_lambda, accumulates
/// adj_E, adj_nu.  mu = E / (2 (1 + nu)), lambda = E nu / ((1 + nu)(1 - 2 nu)):
///   dmu/dE = mu/E,  dmu/dnu = -mu/(1 + nu),
///   dlambda/dE = lambda/E,  dlambda/dnu = E (1 + 2 nu^2) / ((1 + nu)^2 (1 - 2 nu)^2).
/// (Written without dividing by E, so E = 0 would not give NaN.)
template <class Real>
PL_HD PL_INLINE void adj_lame(Real E, Real nu, Real adj_mu, Real adj_lambda, Real& adj_E, Real& adj_nu) {
  const Real a = Real(1) + nu, b = Real(1) - Real(2) * nu;
  adj_E += adj_mu / (Real(2) * a) + adj_lambda * nu / (a * b);
  adj_nu += -adj_mu * E / (Real(2) * a * a) + adj_lambda * E * (Real(1) + Real(2) * nu * nu) / (a * a * b * b);
}

/// Symmetric part (A + A^T) / 2.
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> sym(const Mat<Real, D>& A) {
  return Real(0.5) * (A + transpose(A));
}
/// Deviatoric part A - tr(A)/D I (D-dimensional trace: the 2D deviator is 2D).
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> deviatoric(const Mat<Real, D>& A) {
  return A - Mat<Real, D>::diagonal(trace(A) / Real(D));
}
template <class Real, int D>
PL_HD PL_INLINE Real vec_sum(const Vec<Real, D>& a) {
  Real s = Real(0);
  for (int i = 0; i < D; ++i) s += a[i];
  return s;
}
/// U diag(s) V^T: rebuilds F from (possibly modified) singular values.
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> compose_usv(const Mat<Real, D>& U, const Vec<Real, D>& s,
                                         const Mat<Real, D>& V) {
  Mat<Real, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      Real acc = Real(0);
      for (int k = 0; k < D; ++k) acc += U(i, k) * s[k] * V(j, k);
      r(i, j) = acc;
    }
  return r;
}

/// Host-side helpers shared by validate() implementations.
std::string check_positive(const char* name, double value);
std::string check_poisson(const char* name, double value);
std::string check_range(const char* name, double value, double lo, double hi, bool lo_inclusive,
                        bool hi_inclusive);
/// value must be finite and >= 0.
std::string check_non_negative(const char* name, double value);
/// Returns the first non-empty message (validate() helper: first problem wins).
std::string first_error(std::initializer_list<std::string> messages);

/// P-wave speed sqrt((lambda + 2 mu) / rho) of an isotropic solid.
double elastic_wave_speed(double E, double nu, double density);

struct ModelDefaults {
  static constexpr bool kHasPlasticity = false;
  static constexpr bool kIsFluid = false;
  static constexpr bool kHandlesInversion = false;
  static constexpr bool kHasAdjoint = false;
  static constexpr bool kFactoredStress = false;
  static constexpr bool kPolarFactoredStress = false;

  template <class Real>
  PL_HD static Real initial_plastic_state(const Real* /*p*/) {
    return Real(0);
  }
  template <class Real, int D>
  PL_HD static void project(const Real* /*p*/, Mat<Real, D>& /*F*/, Real& /*plastic*/,
                            Real /*dt*/) {}

  template <class Real, int D>
  PL_HD static Mat<Real, D> viscous_kirchhoff(const Real* /*p*/, const Mat<Real, D>& /*F*/,
                                              const Mat<Real, D>& /*grad_v*/) {
    return Mat<Real, D>::zero();
  }

  template <class Real, int D>
  PL_HD static void adj_viscous_kirchhoff(const Real* /*p*/, const Mat<Real, D>& /*F*/,
                                          const Mat<Real, D>& /*grad_v*/, const Mat<Real, D>& /*adj_tau*/,
                                          Mat<Real, D>& /*adj_F*/, Mat<Real, D>& /*adj_grad_v*/,
                                          Real* /*adj_p*/) {}

  template <class Real, int D>
  PL_HD static void adj_project(const Real* /*p*/, const Mat<Real, D>& /*F_trial*/, Real /*plastic_in*/,
                                Real /*dt*/, const Mat<Real, D>& adj_F_out, Real adj_plastic_out,
                                Mat<Real, D>& adj_F_trial, Real& adj_plastic_in, Real* /*adj_p*/) {
    adj_F_trial += adj_F_out;
    adj_plastic_in += adj_plastic_out;
  }
};

}  // namespace pl::materials
