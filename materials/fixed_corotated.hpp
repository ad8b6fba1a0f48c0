// Fixed corotated elasticity.
//
// Source: Stomakhin et al. 2012, "Energetically consistent invertible
// elasticity", eq. (2) and the fixed variant of Sec. 4:
//   Psi(F) = mu ||F - R||_F^2 + lambda/2 (J - 1)^2
//   P(F)   = 2 mu (F - R) + lambda (J - 1) cof(F)       (cof(F) = J F^{-T})
// with R the rotation of the polar decomposition F = R S.  Using cof(F) instead
// of J F^{-T} keeps P defined for singular F; the rotation-variant SVD keeps R a
// proper rotation for inverted F, so the energy pushes inverted particles back.
// The (mu, lambda) helpers below are shared with the snow model, which uses the
// same energy with hardened Lame parameters.
//
// Adjoint (contract: model_base.hpp): P is linear in (mu, lambda); its F
// derivative needs dR/dF, the polar-rotation VJP of kernels/math/polar_adjoint.hpp
// (from R and S = R^T F where F is well conditioned and not inverted; the SVD
// VJP of kernels/math/svd_adjoint.hpp elsewhere).
// Degenerate cases are those of R: at repeated positive singular values (F = I,
// rotations, uniform scaling) R is smooth and the adjoint exact; at an inverted
// F with sigma_D = -sigma_i the rotation-variant R (hence P) jumps and the
// adjoint carries adj_polar_rotation's documented regularization.
#pragma once

#include "kernels/math/polar.hpp"
#include "kernels/math/polar_adjoint.hpp"
#include "kernels/math/svd.hpp"
#include "materials/model_base.hpp"

namespace pl::materials {

template <class Real, int D>
PL_HD PL_INLINE Real fixed_corotated_energy(Real mu, Real lambda, const Mat<Real, D>& F) {
  const Mat<Real, D> FmR = F - polar_rotation(F);
  const Real Jm1 = determinant(F) - Real(1);
  return mu * ddot(FmR, FmR) + Real(0.5) * lambda * Jm1 * Jm1;
}

/// P = 2 mu (F - R) + lambda (J - 1) cof F for a given R = polar_rotation(F).
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> fixed_corotated_first_piola(Real mu, Real lambda, const Mat<Real, D>& F,
                                                         const Mat<Real, D>& R) {
  return Real(2) * mu * (F - R) + (lambda * (determinant(F) - Real(1))) * cofactor(F);
}
/// R from polar_rotation (closed form in 2D, Newton in 3D, the SVD only
/// outside their domain: kernels/math/polar.hpp): the forward needs R only.
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> fixed_corotated_first_piola(Real mu, Real lambda, const Mat<Real, D>& F) {
  return fixed_corotated_first_piola(mu, lambda, F, polar_rotation(F));
}

/// VJP of fixed_corotated_first_piola; accumulates adj_F, adj_mu, adj_lambda.
/// Differentiating P = 2 mu (F - R) + lambda (J - 1) cof F term by term
/// (d det F = cof F : dF, Jacobi's formula):
///   adj_F      += 2 mu adj_P + VJP_R(-2 mu adj_P) + lambda (J - 1) VJP_cof(adj_P)
///                 + lambda (cof F : adj_P) cof F
///   adj_mu     += 2 (F - R) : adj_P
///   adj_lambda += (J - 1) (cof F : adj_P)
/// VJP_R is adj_polar_rotation_factored (kernels/math/polar_adjoint.hpp: from R
/// and S = R^T F on the fast path, from the SVD elsewhere); (f, s) =
/// polar_factors(F, s), from the forward when the caller kept them.
template <class Real, int D>
PL_HD PL_INLINE void adj_fixed_corotated_first_piola(Real mu, Real lambda, const Mat<Real, D>& F,
                                                     const PolarFactors<Real, D>& f, const Svd<Real, D>& s,
                                                     const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real& adj_mu,
                                                     Real& adj_lambda) {
  const Real Jm1 = determinant(F) - Real(1);
  const Mat<Real, D> cof = cofactor(F);
  const Real cof_dot = ddot(cof, adj_P);
  adj_F += (Real(2) * mu) * adj_P + (lambda * cof_dot) * cof;
  adj_polar_rotation_factored(F, f, s, (Real(-2) * mu) * adj_P, adj_F);
  adj_cofactor(F, (lambda * Jm1) * adj_P, adj_F);
  adj_mu += Real(2) * ddot(F - f.R, adj_P);
  adj_lambda += Jm1 * cof_dot;
}
template <class Real, int D>
PL_HD PL_INLINE void adj_fixed_corotated_first_piola(Real mu, Real lambda, const Mat<Real, D>& F,
                                                     const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F,
                                                     Real& adj_mu, Real& adj_lambda) {
  Svd<Real, D> s;
  const PolarFactors<Real, D> f = polar_factors(F, s);
  adj_fixed_corotated_first_piola(mu, lambda, F, f, s, adj_P, adj_F, adj_mu, adj_lambda);
}

struct FixedCorotated : ModelDefaults {
  static constexpr const char* kName = "fixed_corotated";
  static constexpr bool kHandlesInversion = true;
  static constexpr bool kHasAdjoint = true;
  static constexpr bool kPolarFactoredStress = true;  // first_piola_polar: P and polar_factors of F
  enum : int { kE, kNu, kNumParams };
  static constexpr ParamSpec kParams[kNumParams] = {
      {"E", "Pa", 1.0e4, "Young's modulus"},
      {"nu", "1", 0.3, "Poisson's ratio"},
  };

  static std::string validate(const double* p) {
    return first_error({check_positive("E", p[kE]), check_poisson("nu", p[kNu])});
  }
  static double wave_speed(const double* p, double density) {
    return elastic_wave_speed(p[kE], p[kNu], density);
  }

  template <class Real, int D>
  PL_HD static Real energy_density(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    return fixed_corotated_energy(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), F);
  }

  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    return fixed_corotated_first_piola(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), F);
  }

  // VJP of first_piola: adj_fixed_corotated_first_piola (formula above), then
  // (mu, lambda) -> (E, nu) by adj_lame.  `plastic` is unused.
  template <class Real, int D>
  PL_HD static void adj_first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/,
                                    const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real* adj_p,
                                    Real& /*adj_plastic*/) {
    Real adj_mu = Real(0), adj_lambda = Real(0);
    adj_fixed_corotated_first_piola(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), F, adj_P, adj_F,
                                    adj_mu, adj_lambda);
    adj_lame(p[kE], p[kNu], adj_mu, adj_lambda, adj_p[kE], adj_p[kNu]);
  }

  // The same pair sharing one polar_factors(F) (model_base.hpp, "Factored stress").
  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola_polar(const Real* p, const Mat<Real, D>& F, Real /*plastic*/,
                                              PolarFactors<Real, D>& f, Svd<Real, D>& s) {
    f = polar_factors(F, s);
    return fixed_corotated_first_piola(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), F, f.R);
  }
  template <class Real, int D>
  PL_HD static void adj_first_piola_polar(const Real* p, const Mat<Real, D>& F, Real /*plastic*/,
                                          const PolarFactors<Real, D>& f, const Svd<Real, D>& s,
                                          const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real* adj_p,
                                          Real& /*adj_plastic*/) {
    Real adj_mu = Real(0), adj_lambda = Real(0);
    adj_fixed_corotated_first_piola(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), F, f, s, adj_P, adj_F,
                                    adj_mu, adj_lambda);
    adj_lame(p[kE], p[kNu], adj_mu, adj_lambda, adj_p[kE], adj_p[kNu]);
  }
};

}  // namespace pl::materials
