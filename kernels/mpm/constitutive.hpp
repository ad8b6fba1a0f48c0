// Dispatch from a particle's material slot to its constitutive model.
//
// Models are template parameters (no virtual calls in kernels): visit_model
// switches on the slot's model id over the compile-time list AllModels and
// calls the model's static functions.
#pragma once

#include "kernels/mpm/views.hpp"
#include "materials/model_list.hpp"

namespace pl {

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

/// The model's plastic return mapping applied to the trial deformation gradient.
template <class Real, int D>
PL_HD PL_INLINE void plastic_projection(const MaterialSlot<Real>& slot, Mat<Real, D>& F, Real& plastic,
                                        Real dt) {
  materials::visit_model(slot.model_id, [&](auto model) {
    using M = decltype(model);
    M::template project<Real, D>(slot.params, F, plastic, dt);
  });
}

}  // namespace pl
