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
#include "kernels/math/svd_adjoint.hpp"
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
  static constexpr bool kHasAdjoint = true;
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

  /// The forward return of the header, with the intermediates the adjoint needs.
  /// Returns false (F unchanged) when nothing flows: degenerate F, inside the
  /// yield surface, or no time to flow.
  template <class Real, int D>
  struct Return {
    Svd<Real, D> s;
    Vec<Real, D> b_bar, dev, e, sigma_new;
    Real mean, s_trial, k, c, r, m;
  };
  template <class Real, int D>
  PL_HD static bool compute_return(const Real* p, const Mat<Real, D>& F, Real dt, Return<Real, D>& out) {
    const Real mu = lame_mu(p[kE], p[kNu]);
    out.s = svd_rotation_variant(F);
    const Svd<Real, D>& s = out.s;
    Real abs_J = Real(1);
    for (int i = 0; i < D; ++i) abs_J *= fabs(s.sigma[i]);
    if (!(abs_J > Real(0))) return false;  // degenerate (or NaN) F: nothing sensible to flow
    const Real j_pow = pow(abs_J, Real(-2) / Real(D));

    // Trial isochoric b_bar eigenvalues, their mean and deviator.
    Vec<Real, D>& b_bar = out.b_bar;
    Real mean = Real(0), det_b_bar = Real(1);
    for (int i = 0; i < D; ++i) {
      b_bar[i] = s.sigma[i] * s.sigma[i] * j_pow;
      mean += b_bar[i] / Real(D);
      det_b_bar *= b_bar[i];
    }
    Vec<Real, D>& dev = out.dev;
    for (int i = 0; i < D; ++i) dev[i] = b_bar[i] - mean;
    const Real s_trial = mu * norm(dev);
    const Real k = sqrt(Real(2) / Real(3)) * p[kYieldStress];
    if (!(s_trial > k)) return false;

    const Real c = Real(2) * mu * mean * dt;  // 2 mu_hat dt
    const Real r = herschel_bulkley_return_norm(s_trial, k, c, p[kViscosity], p[kFlowIndex]);
    if (!(r < s_trial)) return false;  // no flow this step (dt = 0): keep F bit for bit
    const Real scale = r / s_trial;

    // Spherical part m: prod(m + scale dev_i) = det_b_bar, Newton from m = mean.
    Vec<Real, D>& e = out.e;
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

    for (int i = 0; i < D; ++i) out.sigma_new[i] = s.sigma[i] * sqrt((m + e[i]) / b_bar[i]);
    out.mean = mean;
    out.s_trial = s_trial;
    out.k = k;
    out.c = c;
    out.r = r;
    out.m = m;
    return true;
  }

  template <class Real, int D>
  PL_HD static void project(const Real* p, Mat<Real, D>& F, Real& /*plastic*/, Real dt) {
    Return<Real, D> ret;
    if (compute_return(p, F, dt, ret)) F = compose_usv(ret.s.U, ret.sigma_new, ret.s.V);
  }

  // ---- adjoints (see model_base.hpp for the contract) ----------------------
  // adj_first_piola: P = a F + cc cof(F) with (Jc = max(J, kFoamMinJ), q = F:F)
  //   a  = mu Jc^(-2/D),  cc = kappa/2 (Jc - 1/Jc) - a q / (D Jc)
  // (the header's P, differentiated directly; no SVD).  With s1 = F : adj_P,
  // s2 = cof(F) : adj_P:
  //   adj_F += a adj_P + d(cof F : cc adj_P)/dF + (dcc/dq) s2 2 F
  //            + [J >= kFoamMinJ] (da/dJ s1 + dcc/dJ s2) cof(F)
  //   da/dJ = -(2/D) a / J,  dcc/dq = -a/(D J),
  //   dcc/dJ = kappa/2 (1 + 1/J^2) + (1 + 2/D) a q / (D J^2)
  //   adj_mu = Jc^(-2/D) (s1 - q s2 / (D Jc)),  adj_kappa = (Jc - 1/Jc) s2 / 2
  // and kappa = lambda + (2/D) mu, then adj_lame.  Below kFoamMinJ (inverted or
  // crushed: the forward floors J) Jc is a constant, so the J terms vanish:
  // the exact derivative of the floored forward (which is not dPsi/dF there,
  // see the header).  At J == kFoamMinJ the forward's J >= branch is taken:
  // the one-sided derivative from above.
  template <class Real, int D>
  PL_HD static void adj_first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/,
                                    const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real* adj_p,
                                    Real& /*adj_plastic*/) {
    const Real mu = lame_mu(p[kE], p[kNu]), kappa = bulk_modulus<Real, D>(p);
    const Real J = determinant(F);
    const bool above = J >= Real(kFoamMinJ);
    const Real Jc = above ? J : Real(kFoamMinJ);
    const Real j_pow = pow(Jc, Real(-2) / Real(D));
    const Real a = mu * j_pow, q = ddot(F, F);
    const Real cc = Real(0.5) * kappa * (Jc - Real(1) / Jc) - a * q / (Real(D) * Jc);
    const Mat<Real, D> cof = cofactor(F);
    const Real s1 = ddot(F, adj_P), s2 = ddot(cof, adj_P);
    adj_F += a * adj_P;
    adj_cofactor(F, cc * adj_P, adj_F);
    adj_F += (Real(-2) * a / (Real(D) * Jc) * s2) * F;
    if (above) {
      const Real da_dJ = Real(-2) / Real(D) * a / Jc;
      const Real dcc_dJ = Real(0.5) * kappa * (Real(1) + Real(1) / (Jc * Jc)) +
                          (Real(1) + Real(2) / Real(D)) * a * q / (Real(D) * Jc * Jc);
      adj_determinant(F, da_dJ * s1 + dcc_dJ * s2, adj_F);
    }
    const Real adj_kappa = Real(0.5) * (Jc - Real(1) / Jc) * s2;
    const Real adj_mu = j_pow * (s1 - q * s2 / (Real(D) * Jc)) + Real(2) / Real(D) * adj_kappa;
    adj_lame(p[kE], p[kNu], adj_mu, adj_kappa, adj_p[kE], adj_p[kNu]);
  }

  // adj_project.  The return is a singular-value function of F:
  //   F_out = U diag(g) V^T,  g_i = sigma_i sqrt((m + e_i)/b_i) = sgn(sigma_i) |J|^(1/D) sqrt(m + e_i)
  // so the F-gradient is adj_singular_value_function with dg_ij = dg_i/dsigma_j,
  // obtained by forward-mode (tangent) differentiation of the scalar chain of
  // compute_return, one tangent per sigma_j (seed d log|sigma_j| = 1/sigma_j)
  // and one per parameter (mu, tau_Y, eta, n; dt is not differentiated):
  //   db_i = 2 b_i (dlog|sigma_i| - mean_k dlog|sigma_k|),  dmean = sum(db)/D,
  //   ddev = db - dmean 1,  ds_tr = dmu ||dev|| + mu dev.ddev/||dev||,
  //   dk = sqrt(2/3) dtau_Y,  dc = 2 dt (dmu mean + mu dmean)
  //   flow rate x (r = s_tr - c x): implicit function theorem on the CONVERGED
  //   scalar equation H(x) = eta x^n + c x - (s_tr - k) = 0 (not the iterations):
  //     dx = (ds_tr - dk - deta x^n - eta x^n log(x) dn - dc x) / (eta n x^(n-1) + c)
  //     dr = ds_tr - dc x - c dx
  //   n = 1 uses the same formula with the closed form x = (s_tr - k)/(eta + c):
  //   the n == 1 branch of the forward is the same smooth function of n, so its
  //   flow_index derivative is the general one (eta x log x / (eta + c)).
  //   dscale = (dr - scale ds_tr)/s_tr,  de = dscale dev + scale ddev,
  //   spherical part m (IFT on prod_i (m + e_i) = det b_bar, whose right side is
  //   identically 1 as a function of F): dm = -sum_i w_i de_i / sum_i w_i,
  //   w_i = 1/(m + e_i),
  //   dg_i = g_i (mean_k dlog|sigma_k| + (dm + de_i) w_i / 2).
  // Degenerate cases and branches (each the one-sided derivative of the branch
  // the forward takes): inside or ON the yield surface (s_tr <= k), |J| = 0 or
  // dt = 0 with eta > 0: identity.  eta = 0 (rate independent, r = k): with
  // dt > 0 the formula above with x = (s_tr - k)/c and eta = 0, which gives
  // dr = dk + deta x^n, the right derivative in eta (eta >= 0 is the admissible
  // side); with dt = 0 too, dr = dk.  The forward's r < k clamp (rounding only)
  // gives dr = dk.  Repeated singular values: g is a symmetric function of
  // sigma, adj_singular_value_function takes the divided-difference limit; all
  // sigma equal means dev = 0, s_tr = 0 <= k: identity.  Inverted F: g keeps
  // the sign of sigma_i (odd in each sigma_i), the formula is unchanged.
  template <class Real, int D>
  PL_HD static void adj_project(const Real* p, const Mat<Real, D>& F_trial, Real /*plastic_in*/, Real dt,
                                const Mat<Real, D>& adj_F_out, Real adj_plastic_out, Mat<Real, D>& adj_F_trial,
                                Real& adj_plastic_in, Real* adj_p) {
    adj_plastic_in += adj_plastic_out;
    Return<Real, D> ret;
    if (!compute_return(p, F_trial, dt, ret)) {
      adj_F_trial += adj_F_out;
      return;
    }
    const Real mu = lame_mu(p[kE], p[kNu]), eta = p[kViscosity], n = p[kFlowIndex];
    const Real dev_norm = ret.s_trial / mu;
    const Real scale = ret.r / ret.s_trial;
    // Flow rate x at the converged state and whether dr is the IFT formula.
    bool ift = true;
    Real x = Real(0);
    if (!(eta > Real(0))) {
      ift = ret.c > Real(0);
      if (ift) x = (ret.s_trial - ret.k) / ret.c;
    } else if (n == Real(1)) {
      x = (ret.s_trial - ret.k) / (eta + ret.c);
    } else {
      x = herschel_bulkley_flow_rate_iterative(ret.s_trial - ret.k, ret.c, eta, n);
      ift = !(ret.s_trial - ret.c * x < ret.k);  // the forward's clamp: r = k
    }
    const Real xn = x > Real(0) ? pow(x, n) : Real(0);
    const Real xn_log = x > Real(0) ? xn * log(x) : Real(0);
    const Real h_x = (eta > Real(0) ? eta * n * xn / x : Real(0)) + ret.c;
    Vec<Real, D> w;
    Real w_sum = Real(0);
    for (int i = 0; i < D; ++i) {
      w[i] = Real(1) / (ret.m + ret.e[i]);
      w_sum += w[i];
    }
    // Tangent of g for seeds dlog|sigma| = da, and parameter seeds.
    auto tangent = [&](const Vec<Real, D>& da, Real dmu, Real dk, Real deta, Real dn) {
      const Real da_mean = vec_sum(da) / Real(D);
      Vec<Real, D> db, ddev;
      for (int i = 0; i < D; ++i) db[i] = Real(2) * ret.b_bar[i] * (da[i] - da_mean);
      const Real dmean = vec_sum(db) / Real(D);
      for (int i = 0; i < D; ++i) ddev[i] = db[i] - dmean;
      const Real ds = dmu * dev_norm + mu * dot(ret.dev, ddev) / dev_norm;
      const Real dc = Real(2) * dt * (dmu * ret.mean + mu * dmean);
      Real dr = dk;
      if (ift) {
        const Real dx = (ds - dk - deta * xn - eta * xn_log * dn - dc * x) / h_x;
        dr = ds - dc * x - ret.c * dx;
      }
      const Real dscale = (dr - scale * ds) / ret.s_trial;
      Vec<Real, D> de;
      Real dm = Real(0);
      for (int i = 0; i < D; ++i) {
        de[i] = dscale * ret.dev[i] + scale * ddev[i];
        dm -= w[i] * de[i];
      }
      dm /= w_sum;
      Vec<Real, D> dg;
      for (int i = 0; i < D; ++i) dg[i] = ret.sigma_new[i] * (da_mean + Real(0.5) * (dm + de[i]) * w[i]);
      return dg;
    };
    Mat<Real, D> dg;
    for (int j = 0; j < D; ++j) {
      const Vec<Real, D> col = tangent(Vec<Real, D>::unit(j) * (Real(1) / ret.s.sigma[j]), Real(0), Real(0),
                                       Real(0), Real(0));
      for (int i = 0; i < D; ++i) dg(i, j) = col[i];
    }
    adj_singular_value_function(ret.s, ret.sigma_new, dg, adj_F_out, adj_F_trial);
    const Vec<Real, D> adj_g = svd_basis_diagonal(ret.s, adj_F_out);
    const Vec<Real, D> zero = Vec<Real, D>::zero();
    const Real adj_mu = dot(adj_g, tangent(zero, Real(1), Real(0), Real(0), Real(0)));
    adj_p[kYieldStress] += dot(adj_g, tangent(zero, Real(0), sqrt(Real(2) / Real(3)), Real(0), Real(0)));
    adj_p[kViscosity] += dot(adj_g, tangent(zero, Real(0), Real(0), Real(1), Real(0)));
    adj_p[kFlowIndex] += dot(adj_g, tangent(zero, Real(0), Real(0), Real(0), Real(1)));
    adj_lame(p[kE], p[kNu], adj_mu, Real(0), adj_p[kE], adj_p[kNu]);
  }
};

}  // namespace pl::materials
