// The stencil loop of the adjoint kernels (AdjG2P, AdjP2G), kept in registers.
//
// Why: g++ compiles for_each_stencil_offset (kernels/math/bspline.hpp) out of
// line in the adjoint kernels, whose bodies are large; their accumulators
// (adj_x, adj_C, adj_affine, ...) then live in memory behind the lambda's
// reference captures and every one of the 3^D nodes pays a store-load round
// trip (perf on S3: the hottest instructions of AdjP2G were those stores).
// Forcing the loop inline lets them stay in registers.  The visiting order is
// for_each_stencil_offset's, so sums are taken in the same order as before.
//
// StencilDerivatives tabulates the 1D weight derivatives once per particle
// (QuadraticStencil::dweight_1d, course notes eq. (123) differentiated), so the
// weight gradient at each node is D products instead of D branches and D^2
// lookups; the values are bit-identical to QuadraticStencil::weight_gradient.
#pragma once

#include "kernels/math/bspline.hpp"

#if defined(__CUDACC__)
#define PL_ADJ_FORCE_INLINE __forceinline__
#else
#define PL_ADJ_FORCE_INLINE inline __attribute__((always_inline))
#endif

namespace pl {

template <int D, class F>
PL_HD PL_ADJ_FORCE_INLINE void adjoint_stencil_loop(F&& f) {
  if constexpr (D == 2) {
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        const int off[2] = {i, j};
        f(off);
      }
  } else {
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 3; ++k) {
          const int off[3] = {i, j, k};
          f(off);
        }
  }
}

template <class Real, int D>
struct StencilDerivatives {
  Real dw[3][D];  // dw[k][axis] = dweight_1d(k, fx[axis])

  PL_HD PL_INLINE explicit StencilDerivatives(const QuadraticStencil<Real, D>& s) {
    for (int a = 0; a < D; ++a)
      for (int k = 0; k < 3; ++k) dw[k][a] = QuadraticStencil<Real, D>::dweight_1d(k, s.fx[a]);
  }
  /// = s.weight_gradient(off) (same products in the same order).
  PL_HD PL_INLINE Vec<Real, D> gradient(const QuadraticStencil<Real, D>& s, const int (&off)[D]) const {
    Vec<Real, D> g;
    for (int a = 0; a < D; ++a) {
      Real r = dw[off[a]][a];
      for (int b = 0; b < D; ++b)
        if (b != a) r *= s.w[off[b]][b];
      g[a] = r;
    }
    return g;
  }
};

}  // namespace pl
