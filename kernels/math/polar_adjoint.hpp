// VJP of the polar rotation R = polar_rotation(F) from the factors of
// polar_factors (polar.hpp), without an SVD on the fast path.
//
// Why: the backward pass of fixed corotated / snow differentiates R once per
// particle and substep; going through the SVD (svd_adjoint.hpp) meant factoring
// F by Jacobi sweeps in the recomputed P2G, the largest single cost of the 3D
// differentiable rollout.
//
// Derivation (F = R S, R a rotation, S = R^T F symmetric; the standard
// differential of the polar decomposition, e.g. Higham, "Functions of
// Matrices", SIAM 2008, sec. 8.1, and Twigg & Kacic-Alesic, "Point cloud glue",
// 2010, for the 3D axial-vector form):
//   dF = dR S + R dS,  Omega = R^T dR skew,  so the skew part of R^T dF gives
//   Omega S + S Omega = R^T dF - dF^T R =: M.
//   3D: with Omega = [w]x and m = vee(M) (vee(W) = (W21, W02, W10)),
//       Omega S + S Omega = [(tr(S) I - S) w]x, so w = K^-1 m, K = tr(S) I - S.
//   2D: Omega = w J (J = [[0, -1], [1, 0]]), J S + S J = tr(S) J, w = M10 / tr S.
// For the VJP with G = adj_R and A = R^T G:  G : dR = A : Omega = a . w with
// a = vee(A - A^T) (2D: a = A10 - A01), so G : dR = (K^-1 a) . m, and with
// b = K^-1 a:  b . vee(M) = [b]x : (R^T dF) = (R [b]x) : dF.  Hence
//   adj_F += R [b]x                      (3D)
//   adj_F += (a / tr S) R J              (2D)
// K's eigenvalues are s_i + s_j (pairs of singular values): positive in the
// fast domain (det F > 0, s_min / s_max >~ 1e-3), so K is invertible there.
// Elsewhere (inverted or near-singular F, where R may jump and the SVD adjoint
// applies its documented regularization) PolarFactors::fast is false and the
// VJP is adj_singular_value_function with g = 1, as before.
#pragma once

#include "kernels/math/polar.hpp"
#include "kernels/math/svd_adjoint.hpp"

namespace pl {

namespace polar_detail {

template <class Real>
PL_HD PL_INLINE void adj_polar_rotation_fast(const Mat<Real, 2>& F, const Mat<Real, 2>& R,
                                             const Mat<Real, 2>& adj_R, Mat<Real, 2>& adj_F) {
  const Mat<Real, 2> S = transpose(R) * F;
  const Mat<Real, 2> A = transpose(R) * adj_R;
  const Real c = (A(1, 0) - A(0, 1)) / (S(0, 0) + S(1, 1));
  // R J = [[R01, -R00], [R11, -R10]]
  adj_F(0, 0) += c * R(0, 1);
  adj_F(0, 1) -= c * R(0, 0);
  adj_F(1, 0) += c * R(1, 1);
  adj_F(1, 1) -= c * R(1, 0);
}

template <class Real>
PL_HD PL_INLINE void adj_polar_rotation_fast(const Mat<Real, 3>& F, const Mat<Real, 3>& R,
                                             const Mat<Real, 3>& adj_R, Mat<Real, 3>& adj_F) {
  // Work with F / max|F_ij| (K^-1 scales as 1 / |F|): det K ~ |F|^3 stays in range.
  const Real scale = max_abs_entry(F);
  const Mat<Real, 3> S = transpose(R) * ((Real(1) / scale) * F);
  const Mat<Real, 3> A = transpose(R) * adj_R;
  const Real a[3] = {A(2, 1) - A(1, 2), A(0, 2) - A(2, 0), A(1, 0) - A(0, 1)};
  const Real tr = trace(S);
  Mat<Real, 3> K;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)  // symmetrized: R is exact only to rounding
      K(i, j) = (i == j ? tr : Real(0)) - Real(0.5) * (S(i, j) + S(j, i));
  const Mat<Real, 3> cof = cofactor(K);  // symmetric, K^-1 = cof / det
  const Real inv = Real(1) / ((K(0, 0) * cof(0, 0) + K(0, 1) * cof(0, 1) + K(0, 2) * cof(0, 2)) * scale);
  Real b[3];
  for (int i = 0; i < 3; ++i) b[i] = (cof(i, 0) * a[0] + cof(i, 1) * a[1] + cof(i, 2) * a[2]) * inv;
  // adj_F += R [b]x,  [b]x = [[0, -b2, b1], [b2, 0, -b0], [-b1, b0, 0]]
  for (int i = 0; i < 3; ++i) {
    adj_F(i, 0) += R(i, 1) * b[2] - R(i, 2) * b[1];
    adj_F(i, 1) += R(i, 2) * b[0] - R(i, 0) * b[2];
    adj_F(i, 2) += R(i, 0) * b[1] - R(i, 1) * b[0];
  }
}

}  // namespace polar_detail

/// adj_F += (d polar_rotation(F) / dF)^T adj_R, from f = polar_factors(F, svd)
/// (svd is read only when f.fast is false).
template <class Real, int D>
PL_HD PL_INLINE void adj_polar_rotation_factored(const Mat<Real, D>& F, const PolarFactors<Real, D>& f,
                                                 const Svd<Real, D>& svd, const Mat<Real, D>& adj_R,
                                                 Mat<Real, D>& adj_F) {
  if (f.fast)
    polar_detail::adj_polar_rotation_fast(F, f.R, adj_R, adj_F);
  else
    adj_singular_value_function(svd, Vec<Real, D>::constant(Real(1)), Mat<Real, D>::zero(), adj_R, adj_F);
}

}  // namespace pl
