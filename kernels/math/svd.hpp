// Singular value decomposition and polar rotation of small matrices (D = 2, 3),
// host and device.
//
// Sources:
//  * G. Irving, J. Teran, R. Fedkiw, "Invertible finite elements for robust
//    simulation of large deformation", SCA 2004: the "rotation variant" SVD,
//    F = U diag(sigma) V^T with U, V proper rotations and the sign of det(F)
//    carried by the smallest singular value.
//  * A. Stomakhin, R. Howes, C. Schroeder, J. Teran, "Energetically consistent
//    invertible elasticity", SCA 2012: the same convention for fixed corotated.
//  * A. McAdams, A. Selle, R. Tamstorf, J. Teran, E. Sifakis, "Computing the
//    singular value decomposition of 3x3 matrices with minimal branching and
//    elementary floating point operations", UW-Madison TR1690, 2011: the
//    structure "Jacobi for V, sort, QR of F V for U and sigma".  We use exact
//    Jacobi/Givens rotations instead of their approximate quaternion ones.
//  * G. Golub, C. Van Loan, "Matrix Computations", 4th ed., sec. 8.5 (Jacobi
//    methods; the one-sided variant is Hestenes 1958) and 5.1.8 (Givens).
//
// Algorithm (identical code for D = 2 and D = 3; every loop runs over D):
//  1. Scale F by its largest |entry| so the squared norms below can neither
//     overflow nor underflow in float (undone on sigma at the end).
//  2. Cyclic Jacobi eigen-decomposition of F^T F, one-sided form: V starts at
//     I and B = F V; for each pair (p, q) the 2x2 block of the Gram matrix
//     B^T B = V^T F^T F V is read from the current columns b_p, b_q and an
//     exact Jacobi rotation zeroing its off-diagonal entry is applied to the
//     columns of B and V.  Reading the Gram entries from B instead of updating
//     a stored F^T F is what keeps small singular values accurate: forming
//     F^T F explicitly squares the condition number (for sigma = (1, 1e-3,
//     1e-4) in float the two small singular vectors would be mixed by ~10%,
//     and U diag(sigma) V^T would miss F by ~1e-4).  A pair is rotated only
//     while |b_p.b_q| > D eps |b_p| |b_q| (eps = machine epsilon of Real); the
//     sweeps stop once a full sweep rotates nothing, at most kSvdMaxSweeps = 10
//     (convergence is quadratic: over 1e5 random 3x3 matrices, float or double,
//     at most 5 sweeps including the final one that rotates nothing).  For
//     D = 2 this is one closed-form rotation, plus at most one rounding-level
//     cleanup rotation; the last sweep only confirms.
//  3. Sort the columns of B (and V) by decreasing norm.  Every swap negates one
//     of the two columns so det(V) stays +1.
//  4. Givens QR of B = U R.  U is a product of Givens rotations, hence a proper
//     rotation; R is diagonal up to rounding (the columns of B are orthogonal)
//     and sigma = diag(R).  Each Givens step leaves its pivot >= 0, so all
//     singular values but the last are >= 0 and the last one has the sign of
//     det(R) = det(F): this IS the rotation-variant convention, no separate
//     sign fix is needed for U.
//  5. Canonicalize (guards against one-ulp ties): sort by |sigma| with paired
//     column swaps in U and V, then move any negative sign to the last entry.
//
// Convention: sigma[0] >= sigma[1] >= ... >= |sigma[D-1]|, all but the last
// non-negative; sigma[D-1] < 0 iff det(F) < 0 (up to rounding when det(F) is
// 0).  det(U) = det(V) = +1 always.
//
// Degenerate cases:
//  * Repeated singular values (identity, rotations, uniform scaling): the Gram
//    matrix is already diagonal, no rotation happens, V = I and U = F/|F|;
//    any orthonormal basis of the repeated subspace is a valid answer, and
//    this one makes polar_rotation(R) == R to rounding.
//  * Rank deficient F: a zero column of B sorts last, and its Givens step is
//    skipped (r == 0 -> identity), so U is still a full rotation completed by
//    the rotations already applied; the matching sigma is 0.  The zero matrix
//    returns U = V = I, sigma = 0 before any arithmetic.
//  * Non-finite F: every loop is bounded, so the result is NaN/Inf, never a hang.
#pragma once

#include <float.h>

#include "kernels/math/mat.hpp"

namespace pl {

template <class Real, int D>
struct Svd {
  Mat<Real, D> U;
  Vec<Real, D> sigma;
  Mat<Real, D> V;
};

namespace svd_detail {

constexpr int kSvdMaxSweeps = 10;

template <class Real>
struct Eps;
template <>
struct Eps<float> {
  static constexpr float value = FLT_EPSILON;
};
template <>
struct Eps<double> {
  static constexpr double value = DBL_EPSILON;
};

/// Column j of m, as a vector.
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> column(const Mat<Real, D>& m, int j) {
  Vec<Real, D> c;
  for (int i = 0; i < D; ++i) c[i] = m(i, j);
  return c;
}

/// Columns (p, q) <- (c p - s q, s p + c q): right-multiplication by a plane rotation.
template <class Real, int D>
PL_HD PL_INLINE void rotate_columns(Mat<Real, D>& m, int p, int q, Real c, Real s) {
  for (int i = 0; i < D; ++i) {
    const Real mp = m(i, p), mq = m(i, q);
    m(i, p) = c * mp - s * mq;
    m(i, q) = s * mp + c * mq;
  }
}

/// Rows (p, q) <- (c p + s q, -s p + c q): left-multiplication by a plane rotation.
template <class Real, int D>
PL_HD PL_INLINE void rotate_rows(Mat<Real, D>& m, int p, int q, Real c, Real s) {
  for (int j = 0; j < D; ++j) {
    const Real mp = m(p, j), mq = m(q, j);
    m(p, j) = c * mp + s * mq;
    m(q, j) = -s * mp + c * mq;
  }
}

/// Columns (p, q) <- (q, -p): a swap that keeps the determinant.
template <class Real, int D>
PL_HD PL_INLINE void swap_columns_keep_det(Mat<Real, D>& m, int p, int q) {
  for (int i = 0; i < D; ++i) {
    const Real t = m(i, p);
    m(i, p) = m(i, q);
    m(i, q) = -t;
  }
}

template <class Real, int D>
PL_HD PL_INLINE void negate_column(Mat<Real, D>& m, int j) {
  for (int i = 0; i < D; ++i) m(i, j) = -m(i, j);
}

/// sqrt(a^2 + b^2) without intermediate overflow/underflow.
template <class Real>
PL_HD PL_INLINE Real safe_hypot(Real a, Real b) {
  const Real x = fabs(a), y = fabs(b);
  const Real big = x > y ? x : y;
  if (big == Real(0)) return Real(0);
  const Real small = x > y ? y : x;
  const Real r = small / big;
  return big * sqrt(Real(1) + r * r);
}

/// One Jacobi step on columns p, q of B (and V): rotates them so that they
/// become orthogonal, i.e. zeroes the (p, q) entry of the Gram matrix B^T B.
/// Returns false (and does nothing) when they already are, to working precision.
template <class Real, int D>
PL_HD PL_INLINE bool jacobi_orthogonalize(Mat<Real, D>& B, Mat<Real, D>& V, int p, int q) {
  const Vec<Real, D> bp = column(B, p), bq = column(B, q);
  const Real alpha = dot(bp, bp), beta = dot(bq, bq), gamma = dot(bp, bq);
  // Tolerance D eps: the rounding error of a D-term dot product.  A tighter one
  // (eps) makes ill-conditioned F chase rounding noise until the sweep cap.
  if (!(fabs(gamma) > Real(D) * Eps<Real>::value * sqrt(alpha) * sqrt(beta))) return false;
  // Solve t^2 + 2 zeta t - 1 = 0 for the root of smaller magnitude (|angle| <= pi/4),
  // zeta = (beta - alpha) / (2 gamma).  Golub & Van Loan, Algorithm 8.5.1.
  const Real zeta = (beta - alpha) / (Real(2) * gamma);
  const Real t = (zeta >= Real(0) ? Real(1) : Real(-1)) / (fabs(zeta) + safe_hypot(Real(1), zeta));
  const Real c = Real(1) / sqrt(Real(1) + t * t);
  const Real s = c * t;
  rotate_columns(B, p, q, c, s);
  rotate_columns(V, p, q, c, s);
  return true;
}

/// Step 5 of the header: sort by |sigma| (paired swaps keep U diag(sigma) V^T
/// and both determinants), then push a negative sign to the last entry.
template <class Real, int D>
PL_HD PL_INLINE void canonicalize(Svd<Real, D>& r) {
  for (int pass = 0; pass + 1 < D; ++pass)
    for (int j = 0; j + 1 < D - pass; ++j)
      if (fabs(r.sigma[j]) < fabs(r.sigma[j + 1])) {
        const Real t = r.sigma[j];
        r.sigma[j] = r.sigma[j + 1];
        r.sigma[j + 1] = t;
        swap_columns_keep_det(r.U, j, j + 1);
        swap_columns_keep_det(r.V, j, j + 1);
      }
  for (int j = 0; j + 1 < D; ++j)
    if (r.sigma[j] < Real(0)) {  // sigma_j u_j = (-sigma_j)(-u_j); two negations keep det(U)
      r.sigma[j] = -r.sigma[j];
      r.sigma[D - 1] = -r.sigma[D - 1];
      negate_column(r.U, j);
      negate_column(r.U, D - 1);
    }
}

}  // namespace svd_detail

template <class Real, int D>
PL_HD Svd<Real, D> svd_rotation_variant(const Mat<Real, D>& F) {
  static_assert(kValidDim<D>, "svd_rotation_variant: D must be 2 or 3");
  using namespace svd_detail;
  Svd<Real, D> r;
  r.U = Mat<Real, D>::identity();
  r.V = Mat<Real, D>::identity();

  // 1. Scale by max |F_ij| (a NaN entry makes scale NaN, so it is never mistaken
  //    for the zero matrix below).
  Real scale = Real(0);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      const Real a = fabs(F(i, j));
      if (a > scale || a != a) scale = a;
    }
  if (scale == Real(0)) {
    r.sigma = Vec<Real, D>::zero();
    return r;
  }
  Mat<Real, D> B;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) B(i, j) = F(i, j) / scale;

  // 2. One-sided cyclic Jacobi: B = F V with orthogonal columns.
  for (int sweep = 0; sweep < kSvdMaxSweeps; ++sweep) {
    bool rotated = false;
    for (int p = 0; p + 1 < D; ++p)
      for (int q = p + 1; q < D; ++q) rotated |= jacobi_orthogonalize(B, r.V, p, q);
    if (!rotated) break;
  }

  // 3. Sort columns by decreasing norm: bubble sort, so that every column index
  //    is a compile-time constant once the loops unroll (a data-dependent index
  //    would push B and V into local memory on the GPU).
  Real norm2[D];
  for (int j = 0; j < D; ++j) norm2[j] = squared_norm(column(B, j));
  for (int pass = 0; pass + 1 < D; ++pass)
    for (int j = 0; j + 1 < D - pass; ++j)
      if (norm2[j] < norm2[j + 1]) {
        const Real t = norm2[j];
        norm2[j] = norm2[j + 1];
        norm2[j + 1] = t;
        swap_columns_keep_det(B, j, j + 1);
        swap_columns_keep_det(r.V, j, j + 1);
      }

  // 4. Givens QR: B <- U^T B = R (upper triangular, diagonal up to rounding).
  for (int j = 0; j + 1 < D; ++j)
    for (int i = j + 1; i < D; ++i) {
      const Real a = B(j, j), b = B(i, j);
      const Real h = safe_hypot(a, b);
      if (h == Real(0)) continue;  // nothing to eliminate, pivot already 0
      const Real c = a / h, s = b / h;
      rotate_rows(B, j, i, c, s);  // B = G B: B(j, j) = h >= 0, B(i, j) = 0
      B(i, j) = Real(0);
      rotate_columns(r.U, j, i, c, -s);  // U <- U G^T keeps U B invariant
    }
  for (int i = 0; i < D; ++i) r.sigma[i] = B(i, i) * scale;

  // 5. Canonical order and sign.
  canonicalize(r);
  return r;
}

}  // namespace pl

// polar_rotation(F) = U V^T, with fast paths for the stresses that need R only.
#include "kernels/math/polar.hpp"
