// Viscoplastic foam: compressible Neo-Hookean elasticity on the isochoric left
// Cauchy-Green tensor + Herschel-Bulkley plastic flow (Bingham for n = 1).
//
// Source: Y. Yue, B. Smith, C. Batty, C. Zheng, E. Grinspun, "Continuum foam: a
// material point method for shear-dependent flows", ACM TOG 34(5), 2015,
// Sec. 3-4 (elastic energy, Herschel-Bulkley flow rule and its time
// discretization, after Simo & Hughes 1998, "Computational Inelasticity", Ch. 9).
// Equation numbers were not re-checked, so every formula is written out; the
// D-dimensional forms are ours.
//
// Elasticity (F = F_E, the particle's elastic deformation gradient; J = det F,
// b = F F^T, b_bar = J^(-2/D) b with det b_bar = 1):
//   Psi(F) = mu/2 (tr b_bar - D) + kappa/2 (1/2 (J^2 - 1) - log J)
//   tau    = mu dev(b_bar) + kappa/2 (J^2 - 1) I                  (Kirchhoff)
//   P      = mu J^(-2/D) F + (kappa/2 (J - 1/J) - mu J^(-2/D) tr(b)/(D J)) cof(F)
// mu = E / (2 (1 + nu)) (shear modulus), kappa = lambda + 2 mu / D (bulk modulus),
// so the linearization is linear elasticity with (E, nu).  Below J = kFoamMinJ
// (inverted or crushed) J is floored: P stays finite but is not dP/dF there
// (kHandlesInversion = false).
//
// Plastic flow (Herschel-Bulkley), s = dev tau = mu dev(b_bar):
//   yield:  ||s|| <= k = sqrt(2/3) tau_Y        (tau_Y = yield_stress, same sqrt(2/3)
//                                                convention as von_mises.hpp)
//   rate:   gamma_dot = ((||s|| - k) / eta)^(1/n) when ||s|| > k, else 0
//           (eta = viscosity [Pa s^n], n = flow_index; n < 1 shear thinning)
//   flow:   plastic flow along s/||s||, isochoric.
// Backward-Euler return (Yue et al. Sec. 4; Simo & Hughes Ch. 9) with the trial
// s_tr = mu dev(b_bar_tr) and mu_hat = mu tr(b_bar_tr)/D:
//   s = s_tr - 2 mu_hat dt gamma_dot(||s||) s_tr/||s_tr||
// so the new norm r = ||s|| solves, with x = gamma_dot and c = 2 mu_hat dt,
//   eta x^n + c x = ||s_tr|| - k,      r = ||s_tr|| - c x = k + eta x^n.
// n = 1 (Bingham) has the closed form
//   r = (eta ||s_tr|| + c k) / (eta + c) = ||s_tr|| - (||s_tr|| - k) / (1 + eta/c)
// general n: safeguarded Newton on x in [0, min((||s_tr||-k)/c, ((||s_tr||-k)/eta)^(1/n))]
// (bisection whenever Newton leaves the bracket), at most kFoamMaxIterations steps.
// Limits: eta -> 0 or dt -> inf gives r -> k (rate-independent, on the yield
// surface); eta -> inf or dt = 0 gives r = ||s_tr|| (no flow).
//
// Reconstructing F: the new b_bar has the trial eigenvectors, deviatoric part
// (r/||s_tr||) dev(b_bar_tr), and its spherical part m I chosen so that
// det b_bar = 1 exactly (Simo & Hughes keep tr b_bar instead, which lets det
// b_bar drift above 1 and would make plastic flow inflate the volume; ours keeps
// J unchanged, so ||dev tau|| = r exactly and the flow is isochoric).  m solves
// prod_i (m + e_i) = det b_bar_tr (e_i: new deviatoric eigenvalues) by Newton from
// m = tr(b_bar_tr)/D, which is >= the root, on a convex increasing function, so
// the iterates decrease monotonically to it.  Then sigma_i <- sigma_i sqrt(b_new_i / b_i).
// `plastic` is unused.
#pragma once

#include "kernels/math/svd.hpp"
#include "materials/model_base.hpp"

namespace pl::materials {

/// J floor of the foam's elasticity (see header).
constexpr double kFoamMinJ = 1e-2;
/// Iteration cap of the scalar Newton solves in project().
constexpr int kFoamMaxIterations = 60;

namespace foam_detail {
template <class Real>
PL_HD PL_INLINE Real epsilon() {
  return sizeof(Real) == sizeof(float) ? Real(1.1920929e-7) : Real(2.220446049250313e-16);
}
}  // namespace foam_detail

/// x >= 0 solving eta x^n + c x = excess (excess > 0, c > 0, eta > 0), by
/// safeguarded Newton: the general-n path of the header.
template <class Real>
PL_HD Real herschel_bulkley_flow_rate_iterative(Real excess, Real c, Real eta, Real n) {
  Real lo = Real(0);
  Real hi = excess / c;
  const Real hi_visc = pow(excess / eta, Real(1) / n);
  if (hi_visc < hi) hi = hi_visc;
  const Real tol = Real(8) * foam_detail::epsilon<Real>();
  Real x = hi;
  for (int it = 0; it < kFoamMaxIterations; ++it) {
    const Real xn = pow(x, n);
    const Real h = eta * xn + c * x - excess;
    if (h > Real(0))
      hi = x;
    else
      lo = x;
    if (fabs(h) <= tol * excess || hi - lo <= tol * hi) break;
    const Real dh = x > Real(0) ? eta * n * xn / x + c : c;
    Real x_new = x - h / dh;
    if (!(x_new > lo && x_new < hi)) x_new = Real(0.5) * (lo + hi);
    x = x_new;
  }
  return x;
}

/// New deviatoric Kirchhoff norm r in [k, s_trial] of the header's return.
template <class Real>
PL_HD Real herschel_bulkley_return_norm(Real s_trial, Real k, Real c, Real eta, Real n) {
  if (!(s_trial > k)) return s_trial;  // inside the yield surface: no flow
  if (!(eta > Real(0))) return k;      // no viscosity: back onto the yield surface
  if (!(c > Real(0))) return s_trial;  // dt = 0: no time to flow
  if (n == Real(1)) return (eta * s_trial + c * k) / (eta + c);
  const Real x = herschel_bulkley_flow_rate_iterative(s_trial - k, c, eta, n);
  const Real r = s_trial - c * x;
  return r < k ? k : r;
}

struct HerschelBulkley : ModelDefaults {
  static constexpr const char* kName = "herschel_bulkley";
  static constexpr bool kHasPlasticity = true;
  enum : int { kE, kNu, kYieldStress, kViscosity, kFlowIndex, kNumParams };
  static constexpr ParamSpec kParams[kNumParams] = {
      {"E", "Pa", 1.0e4, "Young's modulus of the elastic response"},
      {"nu", "1", 0.3, "Poisson's ratio of the elastic response"},
      {"yield_stress", "Pa", 100.0, "tau_Y: flows when ||dev tau|| > sqrt(2/3) tau_Y"},
      {"viscosity", "Pa s^n", 10.0, "eta: consistency of the flow rule (0 = rate independent)"},
      {"flow_index", "1", 1.0,
       "n in (0, 10]: 1 = Bingham, < 1 shear thinning, > 1 shear thickening"},
  };

  static std::string validate(const double* p) {
    return first_error({check_positive("E", p[kE]), check_poisson("nu", p[kNu]),
                        check_non_negative("yield_stress", p[kYieldStress]),
                        check_non_negative("viscosity", p[kViscosity]),
                        check_range("flow_index", p[kFlowIndex], 0.0, 10.0, false, true)});
  }
  static double wave_speed(const double* p, double density) {
    return elastic_wave_speed(p[kE], p[kNu], density);
  }

  template <class Real, int D>
  PL_HD static Real bulk_modulus(const Real* p) {
    return lame_lambda(p[kE], p[kNu]) + Real(2) / Real(D) * lame_mu(p[kE], p[kNu]);
  }

  template <class Real, int D>
  PL_HD static Real energy_density(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    const Real mu = lame_mu(p[kE], p[kNu]), kappa = bulk_modulus<Real, D>(p);
    Real J = determinant(F);
    J = J >= Real(kFoamMinJ) ? J : Real(kFoamMinJ);
    const Real tr_b_bar = pow(J, Real(-2) / Real(D)) * ddot(F, F);
    return Real(0.5) * mu * (tr_b_bar - Real(D)) +
           Real(0.5) * kappa * (Real(0.5) * (J * J - Real(1)) - log(J));
  }

  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    const Real mu = lame_mu(p[kE], p[kNu]), kappa = bulk_modulus<Real, D>(p);
    Real J = determinant(F);
    J = J >= Real(kFoamMinJ) ? J : Real(kFoamMinJ);
    const Real j_pow = pow(J, Real(-2) / Real(D));
    const Real cof_coeff =
        Real(0.5) * kappa * (J - Real(1) / J) - mu * j_pow * ddot(F, F) / (Real(D) * J);
    return (mu * j_pow) * F + cof_coeff * cofactor(F);
  }

  template <class Real, int D>
  PL_HD static void project(const Real* p, Mat<Real, D>& F, Real& /*plastic*/, Real dt) {
    const Real mu = lame_mu(p[kE], p[kNu]);
    const Svd<Real, D> s = svd_rotation_variant(F);
    Real abs_J = Real(1);
    for (int i = 0; i < D; ++i) abs_J *= fabs(s.sigma[i]);
    if (!(abs_J > Real(0))) return;  // degenerate (or NaN) F: nothing sensible to flow
    const Real j_pow = pow(abs_J, Real(-2) / Real(D));

    // Trial isochoric b_bar eigenvalues, their mean and deviator.
    Vec<Real, D> b_bar;
    Real mean = Real(0), det_b_bar = Real(1);
    for (int i = 0; i < D; ++i) {
      b_bar[i] = s.sigma[i] * s.sigma[i] * j_pow;
      mean += b_bar[i] / Real(D);
      det_b_bar *= b_bar[i];
    }
    Vec<Real, D> dev;
    for (int i = 0; i < D; ++i) dev[i] = b_bar[i] - mean;
    const Real s_trial = mu * norm(dev);
    const Real k = sqrt(Real(2) / Real(3)) * p[kYieldStress];
    if (!(s_trial > k)) return;

    const Real c = Real(2) * mu * mean * dt;  // 2 mu_hat dt
    const Real r = herschel_bulkley_return_norm(s_trial, k, c, p[kViscosity], p[kFlowIndex]);
    if (!(r < s_trial)) return;  // no flow this step (dt = 0): keep F bit for bit
    const Real scale = r / s_trial;

    // Spherical part m: prod(m + scale dev_i) = det_b_bar, Newton from m = mean.
    Vec<Real, D> e;
    for (int i = 0; i < D; ++i) e[i] = scale * dev[i];
    Real m = mean;
    const Real tol = Real(4) * foam_detail::epsilon<Real>();
    for (int it = 0; it < kFoamMaxIterations; ++it) {
      Real g = Real(1), dg = Real(0);
      for (int i = 0; i < D; ++i) {
        dg = dg * (m + e[i]) + g;  // product rule, accumulated
        g *= m + e[i];
      }
      const Real step = (g - det_b_bar) / dg;  // > 0 until converged (iterates decrease)
      if (!(step > tol * m)) break;            // converged, or rounding noise
      m -= step;
    }

    Vec<Real, D> sigma_new;
    for (int i = 0; i < D; ++i) sigma_new[i] = s.sigma[i] * sqrt((m + e[i]) / b_bar[i]);
    F = compose_usv(s.U, sigma_new, s.V);
  }
};

}  // namespace pl::materials
