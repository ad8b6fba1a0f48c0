// St. Venant-Kirchhoff elasticity on Hencky (logarithmic) strain, and the
// Hencky helpers that the von Mises and Drucker-Prager models reuse.
//
// Source: the elastic part of Klar et al. 2016, "Drucker-Prager elastoplasticity
// for sand animation" (Sec. on Hencky-strain hyperelasticity), also used by
// PlasticineLab (Huang et al. 2021) and NCLaw (Ma et al. 2023):
//   F = U Sigma V^T (rotation-variant SVD), eps = log Sigma (principal Hencky strain)
//   Psi(F) = mu ||eps||^2 + lambda/2 (tr eps)^2
//   P(F)   = U diag(dPsi/dsigma_i) V^T,  dPsi/dsigma_i = tau_i / sigma_i,
//   tau_i  = 2 mu eps_i + lambda tr(eps)          (principal Kirchhoff stress)
// so the Kirchhoff stress is tau = P F^T = U diag(tau_i) U^T, the form in which
// the return mappings state their yield conditions.  P = U diag(psi'(sigma)) V^T
// is the standard derivative of an isotropic energy of the singular values
// (e.g. Irving et al. 2004); it holds for the rotation-variant SVD because the
// energy is symmetric in the sigma_i.
//
// Small and non-positive singular values: log is continued linearly below
// kHenckyMinStretch (value, slope matched: a C1 extension), so energy and P stay
// finite and consistent for degenerate and inverted F; an inverted F gets a huge
// compressive strain in the flipped direction and is pushed back.  A stretch of
// 1e-4 (10^4-fold compression) is never reached by a sane simulation.
#pragma once

#include "kernels/math/svd.hpp"
#include "materials/model_base.hpp"

namespace pl::materials {

/// Below this singular value the Hencky log is continued linearly (see header).
constexpr double kHenckyMinStretch = 1e-4;

/// log(s) for s >= kHenckyMinStretch, else its tangent line at kHenckyMinStretch.
template <class Real>
PL_HD PL_INLINE Real hencky_log(Real s) {
  const Real s0 = Real(kHenckyMinStretch);
  return s >= s0 ? log(s) : log(s0) + (s - s0) / s0;
}
/// d hencky_log / ds.
template <class Real>
PL_HD PL_INLINE Real hencky_dlog(Real s) {
  const Real s0 = Real(kHenckyMinStretch);
  return Real(1) / (s >= s0 ? s : s0);
}

/// Principal Hencky strain eps_i = log(sigma_i) (continued below the floor).
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> hencky_strain(const Vec<Real, D>& sigma) {
  Vec<Real, D> e;
  for (int i = 0; i < D; ++i) e[i] = hencky_log(sigma[i]);
  return e;
}

/// Psi = mu ||eps||^2 + lambda/2 (tr eps)^2 from principal strains.
template <class Real, int D>
PL_HD PL_INLINE Real hencky_energy_principal(Real mu, Real lambda, const Vec<Real, D>& eps) {
  const Real tr = vec_sum(eps);
  return mu * squared_norm(eps) + Real(0.5) * lambda * tr * tr;
}

/// Principal Kirchhoff stress tau_i = 2 mu eps_i + lambda tr(eps).
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> hencky_kirchhoff_principal(Real mu, Real lambda,
                                                        const Vec<Real, D>& eps) {
  const Real tr = vec_sum(eps);
  Vec<Real, D> t;
  for (int i = 0; i < D; ++i) t[i] = Real(2) * mu * eps[i] + lambda * tr;
  return t;
}

template <class Real, int D>
PL_HD PL_INLINE Real hencky_energy(Real mu, Real lambda, const Mat<Real, D>& F) {
  const Svd<Real, D> s = svd_rotation_variant(F);
  return hencky_energy_principal(mu, lambda, hencky_strain(s.sigma));
}

template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> hencky_first_piola(Real mu, Real lambda, const Mat<Real, D>& F) {
  const Svd<Real, D> s = svd_rotation_variant(F);
  const Vec<Real, D> tau = hencky_kirchhoff_principal(mu, lambda, hencky_strain(s.sigma));
  Vec<Real, D> dpsi;
  for (int i = 0; i < D; ++i) dpsi[i] = tau[i] * hencky_dlog(s.sigma[i]);
  return compose_usv(s.U, dpsi, s.V);
}

/// F = U diag(exp(eps)) V^T: the elastic F whose Hencky strain is eps (used by
/// return mappings after they modify eps; always det F > 0).
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> hencky_compose(const Svd<Real, D>& s, const Vec<Real, D>& eps) {
  Vec<Real, D> sigma;
  for (int i = 0; i < D; ++i) sigma[i] = exp(eps[i]);
  return compose_usv(s.U, sigma, s.V);
}

/// The elastic half of StVK-Hencky, shared by the plastic models built on it
/// (von Mises, Drucker-Prager) so the energy lives in one place.  Models that
/// derive from it must keep E and nu as their first two parameters.
struct HenckyElasticity : ModelDefaults {
  static constexpr bool kHandlesInversion = true;
  enum : int { kE, kNu };

  static double wave_speed(const double* p, double density) {
    return elastic_wave_speed(p[kE], p[kNu], density);
  }

  template <class Real, int D>
  PL_HD static Real energy_density(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    return hencky_energy(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), F);
  }

  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    return hencky_first_piola(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), F);
  }
};

struct StvkHencky : HenckyElasticity {
  static constexpr const char* kName = "stvk_hencky";
  enum : int { kNumParams = 2 };
  static constexpr ParamSpec kParams[kNumParams] = {
      {"E", "Pa", 1.0e4, "Young's modulus"},
      {"nu", "1", 0.3, "Poisson's ratio"},
  };

  static std::string validate(const double* p) {
    return first_error({check_positive("E", p[kE]), check_poisson("nu", p[kNu])});
  }
};

}  // namespace pl::materials
