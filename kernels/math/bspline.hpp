// Quadratic B-spline weights for MPM transfers.
//
// Source: MPM SIGGRAPH course notes (Jiang et al. 2016), eq. (123); taichi_mpm
// mls-mpm88.  For a particle at grid-space position xg = x / dx the stencil
// starts at base = floor(xg - 0.5) (floor, not truncation: positions may be
// negative in grid space during a bad step and truncation would pick the wrong
// cell), and fx = xg - base lies in [0.5, 1.5).
//   w0 = 0.5 (1.5 - fx)^2,  w1 = 0.75 - (fx - 1)^2,  w2 = 0.5 (fx - 0.5)^2
// The weights sum to one and their first moment reproduces x exactly, which is
// what makes APIC conserve angular momentum.
#pragma once

#include "kernels/math/vec.hpp"

namespace pl {

template <class Real, int D>
struct QuadraticStencil {
  int base[D];
  Vec<Real, D> fx;  // position relative to base node, in cells
  Real w[3][D];     // w[k][axis] for stencil offset k

  PL_HD PL_INLINE static QuadraticStencil at(const Vec<Real, D>& x, Real inv_dx) {
    QuadraticStencil s;
    for (int a = 0; a < D; ++a) {
      const Real xg = x[a] * inv_dx;
      s.base[a] = int(floor(xg - Real(0.5)));
      const Real f = xg - Real(s.base[a]);
      s.fx[a] = f;
      s.w[0][a] = Real(0.5) * (Real(1.5) - f) * (Real(1.5) - f);
      s.w[1][a] = Real(0.75) - (f - Real(1)) * (f - Real(1));
      s.w[2][a] = Real(0.5) * (f - Real(0.5)) * (f - Real(0.5));
    }
    return s;
  }

  /// Weight of the node at stencil offset `off` (each component in 0..2).
  PL_HD PL_INLINE Real weight(const int (&off)[D]) const {
    Real r = Real(1);
    for (int a = 0; a < D; ++a) r *= w[off[a]][a];
    return r;
  }
  /// d w_k / d fx of the 1D weights above (the quadratic B-spline's first
  /// derivative, course notes eq. (123) differentiated piece by piece):
  ///   w0' = fx - 1.5,  w1' = -2 (fx - 1),  w2' = fx - 0.5.
  /// The spline is C1, so the derivative is continuous across cell changes
  /// (where base jumps and fx jumps by one, the matching pieces agree).
  PL_HD PL_INLINE static Real dweight_1d(int k, Real f) {
    return k == 0 ? f - Real(1.5) : (k == 1 ? Real(-2) * (f - Real(1)) : f - Real(0.5));
  }
  /// Gradient of weight(off) with respect to the grid-space position
  /// xg = x inv_dx of at() (kernels call at(to_grid(x), 1); multiply by the
  /// grid's inv_dx for d w / d x):  d w / d xg_a = w'_a prod_{b != a} w_b.
  /// base is piecewise constant, so d fx / d xg = I.
  PL_HD PL_INLINE Vec<Real, D> weight_gradient(const int (&off)[D]) const {
    Vec<Real, D> g;
    for (int a = 0; a < D; ++a) {
      Real r = dweight_1d(off[a], fx[a]);
      for (int b = 0; b < D; ++b)
        if (b != a) r *= w[off[b]][b];
      g[a] = r;
    }
    return g;
  }
  /// Vector from the particle to the node at stencil offset `off`, in cells.
  /// Its derivative with respect to the particle position is -I (base fixed).
  PL_HD PL_INLINE Vec<Real, D> node_offset_cells(const int (&off)[D]) const {
    Vec<Real, D> d;
    for (int a = 0; a < D; ++a) d[a] = Real(off[a]) - fx[a];
    return d;
  }
};

/// Put after a stencil lambda's parameter list: `[&](const int(&off)[D]) PL_STENCIL_INLINE {...}`.
/// g++ leaves large lambdas out of line, so their captures are reloaded through
/// memory on every node; the adjoint kernels ran ~1.6x slower that way on the
/// CPU.  nvcc inlines device lambdas on its own.
#if defined(__CUDACC__)
#define PL_STENCIL_INLINE
#else
#define PL_STENCIL_INLINE __attribute__((always_inline))
#endif

/// Visits the 3^D stencil offsets in a fixed order (deterministic traversal).
template <int D, class F>
PL_HD PL_INLINE void for_each_stencil_offset(F&& f) {
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

}  // namespace pl
