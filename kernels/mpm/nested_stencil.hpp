// The transfers' stencil pass (P2G, G2P and their adjoints), with the
// per-node arithmetic built up axis by axis: NestedStencil (below).
//
// StencilDerivatives tabulates the 1D weight derivatives once per particle
// (QuadraticStencil::dweight_1d, course notes eq. (123) differentiated).
//
// PL_ADJ_FORCE_INLINE: g++ leaves large stencil bodies out of line, so their
// accumulators live in memory behind the lambda's reference captures and every
// node pays a store-load round trip (perf on S3: the hottest instructions of
// AdjP2G were those stores); the visit is forced inline.
#pragma once

#include "kernels/math/bspline.hpp"
#include "kernels/math/mat.hpp"

#if defined(__CUDACC__)
#define PL_ADJ_FORCE_INLINE __forceinline__
#else
#define PL_ADJ_FORCE_INLINE inline __attribute__((always_inline))
#endif

namespace pl {

template <class Real, int D>
struct StencilDerivatives {
  Real dw[3][D];  // dw[k][axis] = dweight_1d(k, fx[axis])

  PL_HD PL_INLINE explicit StencilDerivatives(const QuadraticStencil<Real, D>& s) {
    for (int a = 0; a < D; ++a)
      for (int k = 0; k < 3; ++k) dw[k][a] = QuadraticStencil<Real, D>::dweight_1d(k, s.fx[a]);
  }
};

/// a + B dpos at the nodes of a stencil, dpos = (off - fx) dx, about the
/// centre node (c_m = off_m - 1 in {-1, 0, 1}):
///   a + B dpos = (a + dx B (1 - fx)) + sum_m c_m (dx B e_m)
/// evaluated as ((centre + c_0 step_0) + c_1 step_1) [+ c_2 step_2], the order
/// NestedStencil builds it in, so at() and a nested visit agree bit for bit
/// (c_m step_m is exact).  Why the centre: |1 - fx| <= 1/2 and |c_m| <= 1 keep
/// every term no larger than the dpos form's (|off - fx| <= 3/2); expanding
/// about offset 0 instead (a - dx B fx + off_m ...) cancelled terms of up to
/// 3.5 dx |B| and cost ~4 digits when B dpos is small next to a (measured:
/// 10x larger finite-difference residuals in double).
template <class Real, int D>
struct AffineAtNodes {
  Vec<Real, D> centre;   // the value at the centre node, offset (1, ..., 1)
  Vec<Real, D> step[D];  // dx B e_m

  PL_HD PL_INLINE static AffineAtNodes make(const Vec<Real, D>& a, const Mat<Real, D>& B, const Vec<Real, D>& fx,
                                            Real dx) {
    AffineAtNodes f;
    Vec<Real, D> to_centre;
    for (int m = 0; m < D; ++m) to_centre[m] = Real(1) - fx[m];
    f.centre = a + dx * (B * to_centre);
    for (int m = 0; m < D; ++m)
      for (int r = 0; r < D; ++r) f.step[m][r] = dx * B(r, m);
    return f;
  }
  PL_HD PL_INLINE Vec<Real, D> at(const int (&off)[D]) const {
    Vec<Real, D> v = centre;
    for (int m = 0; m < D; ++m) v = v + Real(off[m] - 1) * step[m];
    return v;
  }
};

/// The transfers' stencil pass, with the per-node arithmetic built up axis by
/// axis instead of redone at every node.
///
/// The transfers need, at each node i of the stencil (offset off_i,
/// dpos_i = (off_i - fx) dx, Hu et al. 2018 eq. (29) and its adjoint):
///   an affine function of dpos_i:   a + B dpos_i
///   a sum of outer products:        sum_i y_i dpos_i^T      (y_i gathered at node i)
///   the weight w_i and its gradient.
/// With c_i = off_i - 1 in {-1, 0, 1} per axis (centred, see AffineAtNodes):
///   a + B dpos_i = (a + dx B (1 - fx)) + sum_m c_i,m (dx B e_m)          (3 adds per node,
///                                                      not a 3x3 matrix-vector product)
///   sum_i y_i dpos_i^T = dx (M - (sum_i y_i) (fx - 1)^T),  M e_m = sum_i c_i,m y_i
/// and M is summed level by level (a subtree's total times its offset), not
/// per node.  w_i and grad w_i are products of per-axis factors, formed once
/// per prefix of the offset (w as weight() forms it: bit-identical).  Same
/// nodes in the same order as for_each_stencil_offset; the sums are
/// regrouped, so results differ from a node-by-node form in the last bits.
/// Used by P2G, G2P (and P2GRecordStress, which must reproduce P2G's grid bit
/// for bit: same visit, same arithmetic) and by the adjoint transfers.  Unused
/// outputs (the gradient in P2G and G2P) are dead code once inlined.
///
/// leaf(off, w, grad_w, value) is called at every node, with grad_w the
/// gradient with respect to the grid-space position (multiply by inv_dx) and
/// value = a + B dpos; it returns y_i (kMoments) or nothing.
template <class Real, int D>
struct NestedStencil {
  const QuadraticStencil<Real, D>& stencil;
  StencilDerivatives<Real, D> dw;
  AffineAtNodes<Real, D> value;
  Mat<Real, D> moments;  // M (kMoments)

  PL_HD PL_INLINE NestedStencil(const QuadraticStencil<Real, D>& s, const Vec<Real, D>& a, const Mat<Real, D>& B,
                                Real dx)
      : stencil(s), dw(s), value(AffineAtNodes<Real, D>::make(a, B, s.fx, dx)), moments(Mat<Real, D>::zero()) {}
  /// With the affine values already formed (P2GContribution::values).
  PL_HD PL_INLINE NestedStencil(const QuadraticStencil<Real, D>& s, const AffineAtNodes<Real, D>& values)
      : stencil(s), dw(s), value(values), moments(Mat<Real, D>::zero()) {}
  /// Only the weights (and their gradients) and the moments: no affine value.
  PL_HD PL_INLINE explicit NestedStencil(const QuadraticStencil<Real, D>& s)
      : stencil(s), dw(s), value{Vec<Real, D>::zero(), {}}, moments(Mat<Real, D>::zero()) {}

  /// Visits every node; with kMoments returns sum_i y_i and leaves M in `moments`.
  template <bool kMoments, class Leaf>
  PL_HD PL_ADJ_FORCE_INLINE Vec<Real, D> visit(Leaf& leaf) {
    int off[D];
    return level<0, kMoments>(leaf, off, Real(1), Vec<Real, D>::zero(), value.centre);
  }

  /// sum_i y_i dpos_i^T from visit<true>'s total.
  PL_HD PL_INLINE Mat<Real, D> outer_with_dpos(const Vec<Real, D>& total, Real dx) const {
    Vec<Real, D> from_centre;
    for (int m = 0; m < D; ++m) from_centre[m] = stencil.fx[m] - Real(1);
    return dx * (moments - outer(total, from_centre));
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
      const Real c = Real(k - 1);  // centred offset
      const Vec<Real, D> at = value_prefix + c * value.step[Axis];
      if constexpr (Axis + 1 == D) {
        if constexpr (kMoments) {
          const Vec<Real, D> y = leaf(off, w, grad, at);
          total += y;
          for (int r = 0; r < D; ++r) moments(r, Axis) += c * y[r];
        } else {
          leaf(off, w, grad, at);
        }
      } else {
        const Vec<Real, D> sub = level<Axis + 1, kMoments>(leaf, off, w, grad, at);
        if constexpr (kMoments) {
          total += sub;
          for (int r = 0; r < D; ++r) moments(r, Axis) += c * sub[r];
        }
      }
    }
    return total;
  }
};

}  // namespace pl
