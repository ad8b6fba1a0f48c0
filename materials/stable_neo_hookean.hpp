// Stable Neo-Hookean elasticity.
//
// Source: B. Smith, F. de Goes, T. Kim, "Stable Neo-Hookean Flesh Simulation",
// ACM TOG 37(2), 2018, Sec. 3 (the energy with the log(I_C + 1) rest-stability
// term and the re-parametrized Lame constants; we did not re-check the equation
// numbers, so the formulas are written out in full here):
//   Psi(F) = mu/2 (I_C - D) + lambda/2 (J - alpha)^2 - mu/2 log(I_C + 1) - Psi0
//   P(F)   = mu (1 - 1/(I_C + 1)) F + lambda (J - alpha) cof(F)
// with I_C = ||F||_F^2, J = det F.  Psi0 = Psi(I) (without Psi0) is subtracted
// so that Psi(I) = 0; it does not change P.
//
// alpha is chosen so that P(I) = 0: mu (1 - 1/(D+1)) + lambda (1 - alpha) = 0,
//   alpha = 1 + D/(D+1) * mu/lambda         (3D: 1 + 3/4 mu/lambda, as in the paper).
// (mu, lambda) here are not the Lame constants (mu_L, lambda_L) of E and nu: they
// are re-parametrized so that the linearization at F = I equals linear
// elasticity with (mu_L, lambda_L).  Expanding Psi to second order at I:
//   mu_L = D/(D+1) mu,   lambda_L = lambda + 2 mu/(D+1)^2 - D/(D+1) mu
// hence mu = (D+1)/D mu_L, lambda = lambda_L + (1 - 2/(D(D+1))) mu_L; in 3D
// mu = 4/3 mu_L, lambda = lambda_L + 5/6 mu_L (the paper's values).  The 2D
// formulas are the same derivation with D = 2 (a genuinely 2D continuum, not
// plane strain).  lambda > 0 for every nu in (-1, 0.5), so alpha is finite.
//
// The energy is polynomial in F except for log(I_C + 1) (I_C >= 0), so it is
// smooth for every F, inverted or singular: no SVD, no floor.
//
// Adjoint (contract: model_base.hpp): differentiated from the invariant form
// above, so it has no degenerate cases either (exact at F = I, rotations,
// singular and inverted F; tests/materials/test_adjoints.cpp checks F = 0).
#pragma once

#include "materials/model_base.hpp"

namespace pl::materials {

struct StableNeoHookean : ModelDefaults {
  static constexpr const char* kName = "stable_neo_hookean";
  static constexpr bool kHandlesInversion = true;
  static constexpr bool kHasAdjoint = true;
  enum : int { kE, kNu, kNumParams };
  static constexpr ParamSpec kParams[kNumParams] = {
      {"E", "Pa", 1.0e4, "Young's modulus (small-strain)"},
      {"nu", "1", 0.3, "Poisson's ratio (small-strain)"},
  };

  static std::string validate(const double* p) {
    return first_error({check_positive("E", p[kE]), check_poisson("nu", p[kNu])});
  }
  static double wave_speed(const double* p, double density) {
    // The linearization is linear elasticity with (E, nu) by construction.
    return elastic_wave_speed(p[kE], p[kNu], density);
  }

  /// The paper's (mu, lambda, alpha) from E, nu in dimension D.
  template <class Real, int D>
  struct Coefficients {
    Real mu, lambda, alpha;
  };
  template <class Real, int D>
  PL_HD static Coefficients<Real, D> coefficients(const Real* p) {
    const Real mu_l = lame_mu(p[kE], p[kNu]), lambda_l = lame_lambda(p[kE], p[kNu]);
    Coefficients<Real, D> c;
    c.mu = Real(D + 1) / Real(D) * mu_l;
    c.lambda = lambda_l + (Real(1) - Real(2) / Real(D * (D + 1))) * mu_l;
    c.alpha = Real(1) + Real(D) / Real(D + 1) * c.mu / c.lambda;
    return c;
  }

  template <class Real, int D>
  PL_HD static Real energy_density(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    const Coefficients<Real, D> c = coefficients<Real, D>(p);
    const Real Ic = ddot(F, F), J = determinant(F);
    const Real rest = Real(0.5) * c.lambda * (Real(1) - c.alpha) * (Real(1) - c.alpha) -
                      Real(0.5) * c.mu * log(Real(D + 1));
    return Real(0.5) * c.mu * (Ic - Real(D)) +
           Real(0.5) * c.lambda * (J - c.alpha) * (J - c.alpha) -
           Real(0.5) * c.mu * log(Ic + Real(1)) - rest;
  }

  template <class Real, int D>
  PL_HD static Mat<Real, D> first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/) {
    const Coefficients<Real, D> c = coefficients<Real, D>(p);
    const Real Ic = ddot(F, F), J = determinant(F);
    return (c.mu * (Real(1) - Real(1) / (Ic + Real(1)))) * F +
           (c.lambda * (J - c.alpha)) * cofactor(F);
  }

  // VJP of first_piola.  With a = mu (1 - 1/(I_C + 1)), b = lambda (J - alpha),
  // P = a F + b cof F, dI_C = 2 F : dF, dJ = cof F : dF (Jacobi):
  //   adj_F += a adj_P + 2 mu/(I_C + 1)^2 (F : adj_P) F
  //            + b VJP_cof(adj_P) + lambda (cof F : adj_P) cof F
  //   adj_mu     = (1 - 1/(I_C + 1)) (F : adj_P),   adj_lambda = (J - alpha)(cof F : adj_P),
  //   adj_alpha  = -lambda (cof F : adj_P)
  // then back through the coefficient map of the header:
  //   alpha = 1 + k mu/lambda (k = D/(D+1)): adj_mu += k adj_alpha/lambda,
  //                                          adj_lambda -= k mu adj_alpha/lambda^2
  //   mu = (D+1)/D mu_L, lambda = lambda_L + (1 - 2/(D(D+1))) mu_L
  //   adj_mu_L = (D+1)/D adj_mu + (1 - 2/(D(D+1))) adj_lambda,  adj_lambda_L = adj_lambda
  // and (mu_L, lambda_L) -> (E, nu) by adj_lame.  `plastic` is unused.
  template <class Real, int D>
  PL_HD static void adj_first_piola(const Real* p, const Mat<Real, D>& F, Real /*plastic*/,
                                    const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F, Real* adj_p,
                                    Real& /*adj_plastic*/) {
    const Coefficients<Real, D> c = coefficients<Real, D>(p);
    const Real Ic = ddot(F, F), J = determinant(F);
    const Real inv_ic1 = Real(1) / (Ic + Real(1));
    const Mat<Real, D> cof = cofactor(F);
    const Real f_dot = ddot(F, adj_P), cof_dot = ddot(cof, adj_P);
    adj_F += (c.mu * (Real(1) - inv_ic1)) * adj_P + (Real(2) * c.mu * inv_ic1 * inv_ic1 * f_dot) * F +
             (c.lambda * cof_dot) * cof;
    adj_cofactor(F, (c.lambda * (J - c.alpha)) * adj_P, adj_F);
    const Real k = Real(D) / Real(D + 1);
    const Real adj_alpha = -c.lambda * cof_dot;
    const Real adj_mu = (Real(1) - inv_ic1) * f_dot + k * adj_alpha / c.lambda;
    const Real adj_lambda = (J - c.alpha) * cof_dot - k * c.mu * adj_alpha / (c.lambda * c.lambda);
    const Real adj_mu_l = Real(D + 1) / Real(D) * adj_mu + (Real(1) - Real(2) / Real(D * (D + 1))) * adj_lambda;
    adj_lame(p[kE], p[kNu], adj_mu_l, adj_lambda, adj_p[kE], adj_p[kNu]);
  }
};

}  // namespace pl::materials
