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
//
// Adjoints (contract: model_base.hpp; SVD VJPs: kernels/math/svd_adjoint.hpp).
// P and the return mappings' F_out = U diag(exp(eps_new)) V^T are both
// singular-value functions G = U diag(g(sigma)) V^T of F, so their VJPs are
// adj_singular_value_function with the Jacobian dg_ij = d g_i / d sigma_j that
// this file supplies; the parameter gradients only need the diagonal
// adj_g_i = (U^T adj_G V)_ii (dG/dtheta = U diag(dg/dtheta) V^T at fixed U, V).
#pragma once

#include "kernels/math/svd.hpp"
#include "kernels/math/svd_adjoint.hpp"
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

/// d hencky_dlog / ds: -1/s^2 on the log branch, 0 on the linear continuation.
/// At s == kHenckyMinStretch the forward takes the log branch, so this is the
/// one-sided derivative from above (hencky_dlog is continuous there, its
/// derivative jumps: P is C0, not C1, at a singular value of exactly 1e-4).
template <class Real>
PL_HD PL_INLINE Real hencky_ddlog(Real s) {
  return s >= Real(kHenckyMinStretch) ? Real(-1) / (s * s) : Real(0);
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

/// P from the rotation-variant SVD s of F (kept by callers that pass it on to
/// the adjoint below instead of factoring F again).
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> hencky_first_piola(Real mu, Real lambda, const Svd<Real, D>& s) {
  const Vec<Real, D> tau = hencky_kirchhoff_principal(mu, lambda, hencky_strain(s.sigma));
  Vec<Real, D> dpsi;
  for (int i = 0; i < D; ++i) dpsi[i] = tau[i] * hencky_dlog(s.sigma[i]);
  return compose_usv(s.U, dpsi, s.V);
}
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> hencky_first_piola(Real mu, Real lambda, const Mat<Real, D>& F) {
  return hencky_first_piola(mu, lambda, svd_rotation_variant(F));
}

/// F = U diag(exp(eps)) V^T: the elastic F whose Hencky strain is eps (used by
/// return mappings after they modify eps; always det F > 0).
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> hencky_compose(const Svd<Real, D>& s, const Vec<Real, D>& eps) {
  Vec<Real, D> sigma;
  for (int i = 0; i < D; ++i) sigma[i] = exp(eps[i]);
  return compose_usv(s.U, sigma, s.V);
}

/// VJP of P = hencky_first_piola(mu, lambda, F); accumulates adj_F, adj_mu, adj_lambda.
///   P = U diag(g) V^T,  g_i = tau_i l'(sigma_i),  tau_i = 2 mu eps_i + lambda tr eps,
///   eps_i = l(sigma_i) (l = hencky_log), so
///   dg_i/dsigma_j = (2 mu delta_ij + lambda) l'(sigma_i) l'(sigma_j) + delta_ij tau_i l''(sigma_i)
///   dg_i/dmu = 2 eps_i l'(sigma_i),  dg_i/dlambda = tr(eps) l'(sigma_i).
/// Degenerate cases: repeated singular values (F a rotation or a uniform scaling,
/// where U and V are not unique) are handled inside adj_singular_value_function by
/// the divided-difference limit (g_i - g_j)/(sigma_i - sigma_j) -> dg_ii - dg_ij,
/// exact here because g is a symmetric function of sigma (P is smooth at such F).
/// Below kHenckyMinStretch (J near zero or inverted) l is linear, l' = 1/s0 and
/// l'' = 0: the exact derivative of the continued energy, no clamp.  At the
/// singular value s0 itself the forward takes the log branch, and so does this
/// (one-sided from above; P is only C0 there).  The one genuine singularity is
/// an inverted F with sigma_D = -sigma_i: g is not odd in the flipped pair, so P
/// of the rotation-variant energy jumps there, and adj_singular_value_function
/// REGULARIZES (g_i + g_j)/(sigma_i + sigma_j) inside its band
/// |sigma_i + sigma_j| <= eps^(1/3) max|sigma| (see svd_adjoint.hpp); exact
/// outside it (tested on random inverted F).
/// `s` = svd_rotation_variant(F) (from the forward when the caller kept it).
template <class Real, int D>
PL_HD PL_INLINE void adj_hencky_first_piola(Real mu, Real lambda, const Svd<Real, D>& s, const Mat<Real, D>& adj_P,
                                            Mat<Real, D>& adj_F, Real& adj_mu, Real& adj_lambda) {
  const Vec<Real, D> eps = hencky_strain(s.sigma);
  const Vec<Real, D> tau = hencky_kirchhoff_principal(mu, lambda, eps);
  const Real tr = vec_sum(eps);
  Vec<Real, D> dl, g;
  for (int i = 0; i < D; ++i) {
    dl[i] = hencky_dlog(s.sigma[i]);
    g[i] = tau[i] * dl[i];
  }
  Mat<Real, D> dg;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j)
      dg(i, j) = ((i == j ? Real(2) * mu : Real(0)) + lambda) * dl[i] * dl[j] +
                 (i == j ? tau[i] * hencky_ddlog(s.sigma[i]) : Real(0));
  adj_singular_value_function(s, g, dg, adj_P, adj_F);
  const Vec<Real, D> adj_g = svd_basis_diagonal(s, adj_P);
  for (int i = 0; i < D; ++i) {
    adj_mu += adj_g[i] * Real(2) * eps[i] * dl[i];
    adj_lambda += adj_g[i] * tr * dl[i];
  }
}
template <class Real, int D>
PL_HD PL_INLINE void adj_hencky_first_piola(Real mu, Real lambda, const Mat<Real, D>& F, const Mat<Real, D>& adj_P,
                                            Mat<Real, D>& adj_F, Real& adj_mu, Real& adj_lambda) {
  adj_hencky_first_piola(mu, lambda, svd_rotation_variant(F), adj_P, adj_F, adj_mu, adj_lambda);
}

/// VJP of F_out = hencky_compose(s, eps_new) where eps_new = eps_new(eps),
/// eps = hencky_strain(s.sigma), with the strain-space Jacobian
/// J_eps(i, j) = d eps_new_i / d eps_j supplied by the return mapping.
///   g_i = exp(eps_new_i),  dg_i/dsigma_j = g_i J_eps(i, j) l'(sigma_j).
/// Accumulates adj_F (through U, V and sigma) and returns, in adj_eps_new, the
/// gradient with respect to eps_new at fixed U, V: adj_eps_new_i = g_i (U^T adj_F_out V)_ii,
/// from which the caller chains the parameters the return mapping used.
template <class Real, int D>
PL_HD PL_INLINE void adj_hencky_compose(const Svd<Real, D>& s, const Vec<Real, D>& eps_new,
                                        const Mat<Real, D>& J_eps, const Mat<Real, D>& adj_F_out,
                                        Mat<Real, D>& adj_F, Vec<Real, D>& adj_eps_new) {
  Vec<Real, D> g;
  for (int i = 0; i < D; ++i) g[i] = exp(eps_new[i]);
  Mat<Real, D> dg;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) dg(i, j) = g[i] * J_eps(i, j) * hencky_dlog(s.sigma[j]);
  adj_singular_value_function(s, g, dg, adj_F_out, adj_F);
  const Vec<Real, D> adj_g = svd_basis_diagonal(s, adj_F_out);
  for (int i = 0; i < D; ++i) adj_eps_new[i] = g[i] * adj_g[i];
}

/// adj_hencky_compose for a RADIAL return eps_new = m 1 + c dev(eps) (von
/// Mises; Drucker-Prager's cone return, Case III), with its exact divided
/// differences.  Why: adj_singular_value_function replaces
/// (g_i - g_j)/(s_i - s_j) by its Jacobian limit inside the band
/// |s_i - s_j| <= eps^(1/3) max s (6e-6 in double), which is accurate only
/// where g varies on scales much larger than the band.  A radial return near
/// the apex of the cone (sand at rest or in free fall: ||dev eps|| ~ 1e-6)
/// varies on the scale of ||dev eps|| itself, and the band value was off by
/// O(1) for such particles (gradcheck of sand_pile_3d: 1e-4..1e-3).  Here
///   g_i - g_j = g_j expm1(c (l_i - l_j)),   l = hencky_log,
/// so (g_i - g_j)/(s_i - s_j) = g_j phi(c dl) c psi with dl = l_i - l_j,
/// phi(y) = expm1(y)/y and psi = dl/(s_i - s_j) = log1p(r)/(r s_j),
/// r = (s_i - s_j)/s_j: every factor is well conditioned at any separation,
/// including s_i = s_j (phi = 1, psi = 1/s_j).  Pairs on the linear
/// continuation of the log (a stretch below kHenckyMinStretch) or with a
/// non-positive singular value keep the generic formula.  The (g_i + g_j)/(s_i + s_j)
/// terms and the diagonal are adj_singular_value_function's.
template <class Real, int D>
PL_HD PL_INLINE void adj_hencky_compose_radial(const Svd<Real, D>& s, const Vec<Real, D>& eps_new, Real c,
                                               const Mat<Real, D>& J_eps, const Mat<Real, D>& adj_F_out,
                                               Mat<Real, D>& adj_F, Vec<Real, D>& adj_eps_new) {
  using namespace svd_adjoint_detail;
  Vec<Real, D> g;
  for (int i = 0; i < D; ++i) g[i] = exp(eps_new[i]);
  Mat<Real, D> dg;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) dg(i, j) = g[i] * J_eps(i, j) * hencky_dlog(s.sigma[j]);
  const Real width = svd_adjoint_rel_tol<Real>() * sigma_ref(s.sigma);
  const Mat<Real, D> M = transpose(s.U) * adj_F_out * s.V;
  Mat<Real, D> adj_P = Mat<Real, D>::zero();
  for (int j = 0; j < D; ++j) {
    Real acc = Real(0);
    for (int i = 0; i < D; ++i) acc += M(i, i) * dg(i, j);
    adj_P(j, j) = acc;
  }
  const Real s0 = Real(kHenckyMinStretch);
  for (int i = 0; i < D; ++i)
    for (int j = i + 1; j < D; ++j) {
      const Real cross = dg(i, j) + dg(j, i), own = dg(i, i) + dg(j, j);
      const Real si = s.sigma[i], sj = s.sigma[j];
      Real q_minus;
      if (si >= s0 && sj >= s0) {
        const Real r = (si - sj) / sj;
        const Real psi = r != Real(0) ? log1p(r) / (r * sj) : Real(1) / sj;
        const Real y = c * log1p(r);
        const Real phi = y != Real(0) ? expm1(y) / y : Real(1);
        q_minus = g[j] * phi * c * psi;
      } else {
        q_minus = divided_difference(g[i] - g[j], si - sj, Real(0.5) * (own - cross), width);
      }
      const Real q_plus = divided_difference(g[i] + g[j], si + sj, Real(0.5) * (own + cross), width);
      const Real m_sym = Real(0.5) * (M(i, j) + M(j, i)), m_skew = Real(0.5) * (M(i, j) - M(j, i));
      adj_P(i, j) = m_sym * q_minus + m_skew * q_plus;
      adj_P(j, i) = m_sym * q_minus - m_skew * q_plus;
    }
  rotate_back(s, adj_P, adj_F);
  const Vec<Real, D> adj_g = svd_basis_diagonal(s, adj_F_out);
  for (int i = 0; i < D; ++i) adj_eps_new[i] = g[i] * adj_g[i];
}

/// The trial state every return mapping on Hencky strain starts from (von
/// Mises, Drucker-Prager): the SVD, eps = log Sigma, its trace, and its
/// deviator d = eps - tr/D with norm.  One function, so the forward projections
/// and their adjoints see the same values bit for bit.
template <class Real, int D>
struct HenckyTrial {
  Svd<Real, D> s;
  Vec<Real, D> eps;
  Real tr, mean;  // mean = tr / D
  Vec<Real, D> dev;
  Real dev_norm;
};
template <class Real, int D>
PL_HD PL_INLINE HenckyTrial<Real, D> hencky_trial(const Mat<Real, D>& F) {
  HenckyTrial<Real, D> t;
  t.s = svd_rotation_variant(F);
  t.eps = hencky_strain(t.s.sigma);
  t.tr = vec_sum(t.eps);
  t.mean = t.tr / Real(D);
  for (int i = 0; i < D; ++i) t.dev[i] = t.eps[i] - t.mean;
  t.dev_norm = norm(t.dev);
  return t;
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

  // VJP of first_piola: adj_hencky_first_piola (formula and degenerate cases
  // above), then (mu, lambda) -> (E, nu) by adj_lame.  `plastic` is unused.
  // kHasAdjoint is set by each derived model, not here, so that a model
  // deriving from this base with its own project() does not claim adjoints
  // it lacks.
  template <class Real, int D>
  PL_HD static void adj_first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/,
                                    const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real* adj_p,
                                    Real& /*adj_plastic*/) {
    Real adj_mu = Real(0), adj_lambda = Real(0);
    adj_hencky_first_piola(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), F, adj_P, adj_F, adj_mu,
                           adj_lambda);
    adj_lame(p[kE], p[kNu], adj_mu, adj_lambda, adj_p[kE], adj_p[kNu]);
  }

  // The same pair sharing one SVD of F (model_base.hpp, "Factored stress").
  static constexpr bool kFactoredStress = true;
  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola_factored(const Real* p, const Mat<Real, D>& F, Real /*plastic*/,
                                                 Svd<Real, D>& s) {
    s = svd_rotation_variant(F);
    return hencky_first_piola(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), s);
  }
  template <class Real, int D>
  PL_HD static void adj_first_piola_factored(const Real* p, const Mat<Real, D>& /*F*/, Real /*plastic*/,
                                             const Svd<Real, D>& s, const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F,
                                             Real* adj_p, Real& /*adj_plastic*/) {
    Real adj_mu = Real(0), adj_lambda = Real(0);
    adj_hencky_first_piola(lame_mu(p[kE], p[kNu]), lame_lambda(p[kE], p[kNu]), s, adj_P, adj_F, adj_mu, adj_lambda);
    adj_lame(p[kE], p[kNu], adj_mu, adj_lambda, adj_p[kE], adj_p[kNu]);
  }
};

struct StvkHencky : HenckyElasticity {
  static constexpr const char* kName = "stvk_hencky";
  static constexpr bool kHasAdjoint = true;  // adj_first_piola: HenckyElasticity
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
