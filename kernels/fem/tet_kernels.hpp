// Per-element launch bodies for a set of tets (one functor per quantity),
// launched with pl::parallel_for over the elements by engine/fem/tet_energy_term.
// Each writes its element's result into its own slot of an output buffer; the
// engine then sums the slots into global vectors in a fixed order, so results
// are deterministic for any thread count (no atomics).
#pragma once

#include <cstddef>

#include "kernels/fem/tet_element.hpp"

namespace pl::fem {

/// What every tet kernel reads.
template <class Real>
struct TetView {
  const int* tets;             // 4 global vertex indices per element
  const TetRest<Real>* rest;   // per element
  const Real* params;          // the model's packed parameters (kMaxParams)
  const Real* x;               // 3 * num_vertices
};

template <class Real>
PL_HD PL_INLINE void tet_gather(const TetView<Real>& v, const Real* global, std::size_t e, Real* local) {
  for (int a = 0; a < 4; ++a)
    for (int d = 0; d < 3; ++d) local[3 * a + d] = global[3 * v.tets[4 * e + a] + d];
}

template <class M, class Real>
struct TetEnergyKernel {
  TetView<Real> v;
  Real* out;  // one per element
  PL_HD void operator()(std::size_t e) const {
    Real x[12];
    tet_gather(v, v.x, e, x);
    out[e] = tet_energy<M>(v.params, v.rest[e], x);
  }
};

template <class M, class Real>
struct TetGradientKernel {
  TetView<Real> v;
  Real* out;  // 12 per element
  PL_HD void operator()(std::size_t e) const {
    Real x[12];
    tet_gather(v, v.x, e, x);
    for (int i = 0; i < 12; ++i) out[12 * e + i] = Real(0);
    tet_add_gradient<M>(v.params, v.rest[e], x, out + 12 * e);
  }
};

template <class M, class Real>
struct TetHessianKernel {
  TetView<Real> v;
  Real* out;  // 144 per element
  PL_HD void operator()(std::size_t e) const {
    Real x[12];
    tet_gather(v, v.x, e, x);
    tet_hessian<M>(v.params, v.rest[e], x, out + 144 * e);
  }
};

template <class M, class Real>
struct TetHessianVectorKernel {
  TetView<Real> v;
  const Real* u;  // 3 * num_vertices
  Real* out;      // 12 per element
  PL_HD void operator()(std::size_t e) const {
    Real x[12], ue[12];
    tet_gather(v, v.x, e, x);
    tet_gather(v, u, e, ue);
    for (int i = 0; i < 12; ++i) out[12 * e + i] = Real(0);
    tet_add_hessian_vector<M>(v.params, v.rest[e], x, ue, out + 12 * e);
  }
};

template <class M, class Real>
struct TetParameterVjpKernel {
  TetView<Real> v;
  const Real* w;  // 3 * num_vertices
  Real* out;      // kMaxParams per element
  PL_HD void operator()(std::size_t e) const {
    Real x[12], we[12];
    tet_gather(v, v.x, e, x);
    tet_gather(v, w, e, we);
    Real* o = out + materials::kMaxParams * e;
    for (int i = 0; i < materials::kMaxParams; ++i) o[i] = Real(0);
    tet_add_gradient_parameter_vjp<M>(v.params, v.rest[e], x, we, o);
  }
};

}  // namespace pl::fem
