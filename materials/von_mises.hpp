// Elastoplastic "plasticine": StVK-Hencky elasticity + von Mises (J2) plasticity
// with a return mapping on Hencky strain.
//
// Sources: the von Mises return mapping in Hencky strain of PlasticineLab
// (Huang et al. 2021, ICLR, appendix on the plasticine material) and NCLaw
// (Ma et al. 2023, ICML, von Mises baseline); classical J2 radial return
// (Simo & Hughes 1998, "Computational Inelasticity", Ch. 3) written in
// principal logarithmic strains.  Elasticity: stvk_hencky.hpp.
//
// Yield-function convention (exact):
//   f(tau) = ||dev tau||_F - sqrt(2/3) sigma_y <= 0
// with tau the Kirchhoff stress, dev the D-dimensional deviator and sigma_y =
// yield_stress the uniaxial yield stress (in 3D, sqrt(3/2) ||dev tau|| is the
// von Mises equivalent stress, so f <= 0 <=> equivalent stress <= sigma_y; the
// same sqrt(2/3) factor is kept in 2D by convention).  With Hencky elasticity
// dev tau = 2 mu dev(eps), so f <= 0 <=> ||dev eps|| <= sqrt(2/3) sigma_y / (2 mu).
//
// project(): eps = log Sigma of the trial F.  If ||dev eps|| exceeds the radius,
// dev eps is scaled back onto it (radial return) and tr eps is kept (isochoric
// plastic flow); F = U exp(eps) V^T.  Afterwards ||dev tau|| = sqrt(2/3) sigma_y
// exactly (to rounding).  Perfect plasticity: no hardening; `plastic` is unused.
//
// Adjoint of project() (see adj_project below for the formula): the elastic
// branch is the identity; the return is a singular-value function of F.
#pragma once

#include "materials/stvk_hencky.hpp"

namespace pl::materials {

struct VonMises : HenckyElasticity {  // elasticity: StVK on Hencky strain
  static constexpr const char* kName = "von_mises";
  static constexpr bool kHasPlasticity = true;
  static constexpr bool kHasAdjoint = true;  // adj_first_piola: HenckyElasticity
  enum : int { kYieldStress = 2, kNumParams };
  static constexpr ParamSpec kParams[kNumParams] = {
      {"E", "Pa", 1.0e4, "Young's modulus"},
      {"nu", "1", 0.3, "Poisson's ratio"},
      {"yield_stress", "Pa", 200.0,
       "uniaxial yield stress sigma_y: ||dev tau|| <= sqrt(2/3) sigma_y (0 = no shear strength)"},
  };

  static std::string validate(const double* p) {
    return first_error({check_positive("E", p[kE]), check_poisson("nu", p[kNu]),
                        check_non_negative("yield_stress", p[kYieldStress])});
  }
  template <class Real, int D>
  PL_HD static void project(const Real* p, Mat<Real, D>& F, Real& /*plastic*/, Real /*dt*/) {
    const Real mu = lame_mu(p[kE], p[kNu]);
    const Real radius = sqrt(Real(2) / Real(3)) * p[kYieldStress] / (Real(2) * mu);
    const HenckyTrial<Real, D> t = hencky_trial(F);
    const auto& s = t.s;
    const Real mean = t.mean, dev_norm = t.dev_norm;
    const Vec<Real, D>& dev = t.dev;
    if (!(dev_norm > radius)) return;  // inside (or on) the yield surface: elastic
    const Real scale = radius / dev_norm;
    Vec<Real, D> eps_new;
    for (int i = 0; i < D; ++i) eps_new[i] = mean + scale * dev[i];
    F = hencky_compose(s, eps_new);
  }

  // VJP of project().  With d = dev eps, n = d/||d||, m = tr(eps)/D and
  // R = sqrt(2/3) sigma_y / (2 mu) (the radius), the return is
  //   eps_new = m 1 + R n
  //   d eps_new / d eps = (1/D) 1 1^T + (R/||d||) (I - (1/D) 1 1^T - n n^T)
  // (d n/d eps = (P_dev - n n^T)/||d||, P_dev = I - 1 1^T/D, and P_dev n = n);
  // F_out = U diag(exp(eps_new)) V^T goes through adj_hencky_compose.  Params:
  //   d eps_new/dR = n,  dR/dsigma_y = sqrt(2/3)/(2 mu),  dR/dmu = -R/mu.
  // This is the consistent tangent of the radial return (Simo & Hughes 1998,
  // Ch. 3; box numbers not re-checked) written in principal logarithmic strains,
  // derived here by differentiating the two lines of project().
  // Degenerate cases: a trial state exactly ON the surface (||d|| == R) takes
  // the forward's elastic branch, so the adjoint is the identity: the one-sided
  // derivative from inside.  Repeated singular values: inside, identity (no SVD
  // involved); outside, adj_singular_value_function's divided-difference limit
  // (g = exp(eps_new) is a symmetric function of sigma).  ||d|| = 0 (uniform
  // stretch) is always elastic, since R >= 0.  sigma_y = 0 (R = 0) is exact:
  // eps_new = m 1, and its sigma_y derivative is the one-sided one from above.
  template <class Real, int D>
  PL_HD static void adj_project(const Real* p, const Mat<Real, D>& F_trial, Real /*plastic_in*/, Real /*dt*/,
                                const Mat<Real, D>& adj_F_out, Real adj_plastic_out, Mat<Real, D>& adj_F_trial,
                                Real& adj_plastic_in, Real* adj_p) {
    adj_plastic_in += adj_plastic_out;
    const Real mu = lame_mu(p[kE], p[kNu]);
    const Real radius = sqrt(Real(2) / Real(3)) * p[kYieldStress] / (Real(2) * mu);
    const HenckyTrial<Real, D> t = hencky_trial(F_trial);
    const auto& s = t.s;
    const Real mean = t.mean, dev_norm = t.dev_norm;
    const Vec<Real, D>& dev = t.dev;
    if (!(dev_norm > radius)) {  // elastic branch of the forward: identity
      adj_F_trial += adj_F_out;
      return;
    }
    const Real scale = radius / dev_norm;
    Vec<Real, D> n, eps_new;
    for (int i = 0; i < D; ++i) {
      n[i] = dev[i] / dev_norm;
      eps_new[i] = mean + scale * dev[i];  // as in project(), bit for bit
    }
    Mat<Real, D> J_eps;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j)
        J_eps(i, j) = Real(1) / Real(D) + scale * ((i == j ? Real(1) : Real(0)) - Real(1) / Real(D) - n[i] * n[j]);
    Vec<Real, D> adj_eps_new;
    adj_hencky_compose_radial(s, eps_new, scale, J_eps, adj_F_out, adj_F_trial, adj_eps_new);
    const Real adj_radius = dot(adj_eps_new, n);
    adj_p[kYieldStress] += adj_radius * sqrt(Real(2) / Real(3)) / (Real(2) * mu);
    adj_lame(p[kE], p[kNu], -adj_radius * radius / mu, Real(0), adj_p[kE], adj_p[kNu]);
  }
};

}  // namespace pl::materials
