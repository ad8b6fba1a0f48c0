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
#pragma once

#include "kernels/math/svd.hpp"
#include "materials/model_base.hpp"

namespace pl::materials {

template <class Real, int D>
PL_HD PL_INLINE Real fixed_corotated_energy(Real mu, Real lambda, const Mat<Real, D>& F) {
  const Mat<Real, D> FmR = F - polar_rotation(F);
  const Real Jm1 = determinant(F) - Real(1);
  return mu * ddot(FmR, FmR) + Real(0.5) * lambda * Jm1 * Jm1;
}

template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> fixed_corotated_first_piola(Real mu, Real lambda,
                                                         const Mat<Real, D>& F) {
  return Real(2) * mu * (F - polar_rotation(F)) +
         (lambda * (determinant(F) - Real(1))) * cofactor(F);
}

struct FixedCorotated : ModelDefaults {
  static constexpr const char* kName = "fixed_corotated";
  static constexpr bool kHandlesInversion = true;
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
};

}  // namespace pl::materials
