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
#pragma once

#include "materials/stvk_hencky.hpp"

namespace pl::materials {

struct VonMises : HenckyElasticity {  // elasticity: StVK on Hencky strain
  static constexpr const char* kName = "von_mises";
  static constexpr bool kHasPlasticity = true;
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
    const Svd<Real, D> s = svd_rotation_variant(F);
    const Vec<Real, D> eps = hencky_strain(s.sigma);
    const Real mean = vec_sum(eps) / Real(D);
    Vec<Real, D> dev;
    for (int i = 0; i < D; ++i) dev[i] = eps[i] - mean;
    const Real dev_norm = norm(dev);
    if (!(dev_norm > radius)) return;  // inside (or on) the yield surface: elastic
    const Real scale = radius / dev_norm;
    Vec<Real, D> eps_new;
    for (int i = 0; i < D; ++i) eps_new[i] = mean + scale * dev[i];
    F = hencky_compose(s, eps_new);
  }
};

}  // namespace pl::materials
