// Dispatch from a particle's material slot to its constitutive model.
//
// Models are template parameters (no virtual calls in kernels): visit_model
// switches on the slot's model id over the compile-time list AllModels and
// calls the model's static functions.
#pragma once

#include "kernels/math/polar.hpp"
#include "kernels/math/svd.hpp"
#include "kernels/mpm/views.hpp"
#include "materials/model_list.hpp"

namespace pl {

/// What a model's stress may factor F into, kept so the adjoint need not
/// factor it again: the rotation-variant SVD for models with kFactoredStress,
/// the polar factors (and the SVD only where they needed it) for models with
/// kPolarFactoredStress (materials/model_base.hpp, "Factored stress"); unused
/// by the others.
template <class Real, int D>
struct StressFactors {
  Svd<Real, D> svd;
  PolarFactors<Real, D> polar;
};

/// Kirchhoff stress tau = P(F) F^T + tau_viscous(F, grad v), the quantity the
/// MLS-MPM momentum update uses (Hu et al. 2018, eq. 17; tau = J sigma).
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> kirchhoff_stress(const MaterialSlot<Real>& slot, const Mat<Real, D>& F,
                                              Real plastic, const Mat<Real, D>& grad_v) {
  Mat<Real, D> tau = Mat<Real, D>::zero();
  materials::visit_model(slot.model_id, [&](auto model) {
    using M = decltype(model);
    tau = M::template first_piola<Real, D>(slot.params, F, plastic) * transpose(F) +
          M::template viscous_kirchhoff<Real, D>(slot.params, F, grad_v);
  });
  return tau;
}

/// kirchhoff_stress, also returning the first Piola-Kirchhoff stress P (tau =
/// P F^T + tau_viscous) and the factorization of F behind it, for
/// adj_kirchhoff_stress_factored.  tau is bit-identical to kirchhoff_stress's.
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> kirchhoff_stress_factored(const MaterialSlot<Real>& slot, const Mat<Real, D>& F,
                                                       Real plastic, const Mat<Real, D>& grad_v, Mat<Real, D>& P,
                                                       StressFactors<Real, D>& factors) {
  Mat<Real, D> tau = Mat<Real, D>::zero();
  materials::visit_model(slot.model_id, [&](auto model) {
    using M = decltype(model);
    if constexpr (M::kPolarFactoredStress)
      P = M::template first_piola_polar<Real, D>(slot.params, F, plastic, factors.polar, factors.svd);
    else if constexpr (M::kFactoredStress)
      P = M::template first_piola_factored<Real, D>(slot.params, F, plastic, factors.svd);
    else
      P = M::template first_piola<Real, D>(slot.params, F, plastic);
    tau = P * transpose(F) + M::template viscous_kirchhoff<Real, D>(slot.params, F, grad_v);
  });
  return tau;
}

/// The model's plastic return mapping applied to the trial deformation gradient.
template <class Real, int D>
PL_HD PL_INLINE void plastic_projection(const MaterialSlot<Real>& slot, Mat<Real, D>& F, Real& plastic,
                                        Real dt) {
  materials::visit_model(slot.model_id, [&](auto model) {
    using M = decltype(model);
    M::template project<Real, D>(slot.params, F, plastic, dt);
  });
}

// ---- adjoints (accumulating VJPs; materials/model_base.hpp "Adjoints") -----------
// Only models with M::kHasAdjoint are differentiated; for the others these do
// nothing, and the backend refuses (on the host, naming the model) to run a
// backward pass through a world that uses one, rather than return a wrong
// gradient.

/// Whether the model with this id has adjoints (host and device).
PL_HD PL_INLINE bool model_has_adjoint(int model_id) {
  bool has = false;
  materials::visit_model(model_id, [&](auto model) { has = decltype(model)::kHasAdjoint; });
  return has;
}

/// Whether the model with this id has a return mapping (kHasPlasticity): its
/// project() may change F, so its VJP reads the trial F (AdjG2P).
PL_HD PL_INLINE bool model_has_plasticity(int model_id) {
  bool plastic = false;
  materials::visit_model(model_id, [&](auto model) { plastic = decltype(model)::kHasPlasticity; });
  return plastic;
}

/// VJP of kirchhoff_stress.  tau = P F^T + tau_v(F, G), so with A = adj_tau:
///   adj_P = A F,   adj_F += A^T P   (the F^T factor),  then the model's
///   adj_first_piola(adj_P) and adj_viscous_kirchhoff(A) add their F, plastic,
///   grad_v and parameter terms.
/// adj_kirchhoff_stress given P and the factors from kirchhoff_stress_factored
/// at the same (F, plastic): no second factorization of F.
template <class Real, int D>
PL_HD PL_INLINE void adj_kirchhoff_stress_factored(const MaterialSlot<Real>& slot, const Mat<Real, D>& F,
                                                   Real plastic, const Mat<Real, D>& grad_v, const Mat<Real, D>& P,
                                                   const StressFactors<Real, D>& factors, const Mat<Real, D>& adj_tau,
                                                   Mat<Real, D>& adj_F, Real& adj_plastic, Mat<Real, D>& adj_grad_v,
                                                   Real* adj_params) {
  materials::visit_model(slot.model_id, [&](auto model) {
    using M = decltype(model);
    if constexpr (M::kHasAdjoint) {
      adj_F += transpose(adj_tau) * P;
      if constexpr (M::kPolarFactoredStress)
        M::template adj_first_piola_polar<Real, D>(slot.params, F, plastic, factors.polar, factors.svd, adj_tau * F,
                                                   adj_F, adj_params, adj_plastic);
      else if constexpr (M::kFactoredStress)
        M::template adj_first_piola_factored<Real, D>(slot.params, F, plastic, factors.svd, adj_tau * F, adj_F,
                                                      adj_params, adj_plastic);
      else
        M::template adj_first_piola<Real, D>(slot.params, F, plastic, adj_tau * F, adj_F, adj_params, adj_plastic);
      M::template adj_viscous_kirchhoff<Real, D>(slot.params, F, grad_v, adj_tau, adj_F, adj_grad_v, adj_params);
    }
  });
}

template <class Real, int D>
PL_HD PL_INLINE void adj_kirchhoff_stress(const MaterialSlot<Real>& slot, const Mat<Real, D>& F, Real plastic,
                                          const Mat<Real, D>& grad_v, const Mat<Real, D>& adj_tau,
                                          Mat<Real, D>& adj_F, Real& adj_plastic, Mat<Real, D>& adj_grad_v,
                                          Real* adj_params) {
  Mat<Real, D> P;
  StressFactors<Real, D> factors;
  kirchhoff_stress_factored(slot, F, plastic, grad_v, P, factors);
  adj_kirchhoff_stress_factored(slot, F, plastic, grad_v, P, factors, adj_tau, adj_F, adj_plastic, adj_grad_v,
                                adj_params);
}

/// VJP of plastic_projection: (F_out, plastic_out) = project(F_trial, plastic_in).
template <class Real, int D>
PL_HD PL_INLINE void adj_plastic_projection(const MaterialSlot<Real>& slot, const Mat<Real, D>& F_trial,
                                            Real plastic_in, Real dt, const Mat<Real, D>& adj_F_out,
                                            Real adj_plastic_out, Mat<Real, D>& adj_F_trial, Real& adj_plastic_in,
                                            Real* adj_params) {
  materials::visit_model(slot.model_id, [&](auto model) {
    using M = decltype(model);
    if constexpr (M::kHasAdjoint) {
      M::template adj_project<Real, D>(slot.params, F_trial, plastic_in, dt, adj_F_out, adj_plastic_out, adj_F_trial,
                                       adj_plastic_in, adj_params);
    }
  });
}

}  // namespace pl
