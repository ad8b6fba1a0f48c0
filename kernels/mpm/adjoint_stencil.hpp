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
#include "kernels/math/mat.hpp"

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

/// The adjoint kernels' stencil pass, with the per-node arithmetic built up
/// axis by axis instead of redone at every node.
///
/// Both adjoint transfers need, at each node i of the stencil (offset off_i,
/// dpos_i = (off_i - fx) dx, Hu et al. 2018 eq. (29) and its adjoint):
///   an affine function of dpos_i:   a + B dpos_i
///   a sum of outer products:        sum_i y_i dpos_i^T      (y_i gathered at node i)
///   the weight w_i and its gradient.
/// With off_i made of 0/1/2 per axis:
///   a + B dpos_i = (a - dx B fx) + sum_m off_i,m (dx B e_m)            (3 adds per node,
///                                                      not a 3x3 matrix-vector product)
///   sum_i y_i dpos_i^T = dx (M - (sum_i y_i) fx^T),  M e_m = sum_i off_i,m y_i
/// and M is summed level by level (a subtree's total times its offset), not
/// per node.  w_i and grad w_i are products of per-axis factors, formed once
/// per prefix of the offset.  Same nodes in the same order as
/// adjoint_stencil_loop; the sums are regrouped, so results differ from the
/// node-by-node form in the last bits (the adjoint is the derivative of the
/// forward to rounding, checked against finite differences in double).
///
/// leaf(off, w, grad_w, value) is called at every node, with grad_w the
/// gradient with respect to the grid-space position (multiply by inv_dx) and
/// value = a + B dpos; it returns y_i (kMoments) or nothing.
template <class Real, int D>
struct NestedStencil {
  const QuadraticStencil<Real, D>& stencil;
  StencilDerivatives<Real, D> dw;
  Vec<Real, D> origin;   // a - dx B fx: the value at offset 0
  Vec<Real, D> step[D];  // dx B e_m
  Mat<Real, D> moments;  // M (kMoments)

  PL_HD PL_INLINE NestedStencil(const QuadraticStencil<Real, D>& s, const Vec<Real, D>& a, const Mat<Real, D>& B,
                                Real dx)
      : stencil(s), dw(s), moments(Mat<Real, D>::zero()) {
    origin = a - dx * (B * s.fx);
    for (int m = 0; m < D; ++m)
      for (int r = 0; r < D; ++r) step[m][r] = dx * B(r, m);
  }

  /// Visits every node; with kMoments returns sum_i y_i and leaves M in `moments`.
  template <bool kMoments, class Leaf>
  PL_HD PL_ADJ_FORCE_INLINE Vec<Real, D> visit(Leaf& leaf) {
    int off[D];
    return level<0, kMoments>(leaf, off, Real(1), Vec<Real, D>::zero(), origin);
  }

  /// sum_i y_i dpos_i^T from visit<true>'s total.
  PL_HD PL_INLINE Mat<Real, D> outer_with_dpos(const Vec<Real, D>& total, Real dx) const {
    return dx * (moments - outer(total, stencil.fx));
  }

 private:
  template <int Axis, bool kMoments, class Leaf>
  PL_HD PL_ADJ_FORCE_INLINE Vec<Real, D> level(Leaf& leaf, int (&off)[D], Real w_prefix, const Vec<Real, D>& grad_prefix,
                                               const Vec<Real, D>& value_prefix) {
    Vec<Real, D> total = Vec<Real, D>::zero();
    for (int k = 0; k < 3; ++k) {
      off[Axis] = k;
      const Real wk = stencil.w[k][Axis];
      Vec<Real, D> grad = Vec<Real, D>::zero();
      for (int b = 0; b < Axis; ++b) grad[b] = grad_prefix[b] * wk;
      grad[Axis] = w_prefix * dw.dw[k][Axis];
      const Real w = w_prefix * wk;
      const Vec<Real, D> value = value_prefix + Real(k) * step[Axis];
      if constexpr (Axis + 1 == D) {
        if constexpr (kMoments) {
          const Vec<Real, D> y = leaf(off, w, grad, value);
          total += y;
          for (int r = 0; r < D; ++r) moments(r, Axis) += Real(k) * y[r];
        } else {
          leaf(off, w, grad, value);
        }
      } else {
        const Vec<Real, D> sub = level<Axis + 1, kMoments>(leaf, off, w, grad, value);
        if constexpr (kMoments) {
          total += sub;
          for (int r = 0; r < D; ++r) moments(r, Axis) += Real(k) * sub[r];
        }
      }
    }
    return total;
  }
};

}  // namespace pl
