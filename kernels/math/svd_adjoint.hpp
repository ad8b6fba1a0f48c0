// Vector-Jacobian products (adjoints) of the rotation-variant SVD of
// kernels/math/svd.hpp and of the matrix functions built on it, host and
// device, D = 2 and 3, float or double.  Every function ACCUMULATES into
// adj_F (+=), as all adj_* in Pliant do.
//
// Sources:
//  * T. Papadopoulo, M. Lourakis, "Estimating the Jacobian of the singular value
//    decomposition: theory and applications", ECCV 2000: the 2x2 linear systems
//    for the rotation generators of dU and dV, solved below in closed form.
//  * J. Townsend, "Differentiating the singular value decomposition", 2016
//    (technical note): the reverse-mode form adj_F = U [ ... ] V^T.
//  * The divided-difference form of the derivative of an isotropic matrix
//    function G = U diag(g(sigma)) V^T is the standard one of spectral matrix
//    calculus (e.g. A. Lewis, "Derivatives of spectral functions", Math. Oper.
//    Res. 1996; for the SVD: Irving et al. 2004 / the MPM course notes, Sec. on
//    dP/dF of isotropic energies, which use the same (g_i -+ g_j)/(s_i -+ s_j)).
//
// Derivation (written out because the degenerate cases depend on it).  With
// dF = dU S V^T + U dS V^T + U S dV^T, S = diag(sigma), and the antisymmetric
// generators Wu = U^T dU, Wv = V^T dV, the rotated perturbation dP = U^T dF V is
//   dP = Wu S - S Wv + dS.
// Diagonal: d sigma_i = dP_ii.  For a pair i < j, with sum = dP_ij + dP_ji and
// diff = dP_ij - dP_ji:
//   Wu_ij = -sum/2 / (s_i - s_j) + diff/2 / (s_i + s_j)
//   Wv_ij = -sum/2 / (s_i - s_j) - diff/2 / (s_i + s_j)
// (the classical 1/(s_j^2 - s_i^2) form, split into its two poles).  Every
// adjoint below is "adj_P = gradient of the loss with respect to dP, then
// adj_F += U adj_P V^T" (dP = U^T dF V is orthogonal, so its transpose is this).
//
// Degenerate cases (the whole point of this file; "tau" below is
// svd_adjoint_rel_tol<Real>() = eps^(1/3), eps the machine epsilon, and sigma_ref =
// max_k |sigma_k|, or 1 when F = 0):
//  * The poles are s_i - s_j = 0 (repeated singular values, e.g. F = I or a
//    rotation) and s_i + s_j = 0 (only with the rotation variant: the last
//    singular value negative with |s_D| = s_i).  At either, U and V are NOT
//    unique: a pair rotation (U Q, V Q) resp. (U Q, V Q^T) leaves F unchanged.
//  * adj_singular_value_function: G = U diag(g) V^T is unique whenever g is
//    permutation-equivariant (any isotropic function: g_i(sigma) = f(sigma_i;
//    symmetric in the others)) AND, at s_i + s_j = 0, g is odd under negating
//    the pair (g_i + g_j = 0 there, e.g. g = sigma, or g = sigma^3).  Then the
//    divided differences have finite limits and are evaluated stably:
//      q_minus = (g_i - g_j)/(s_i - s_j) -> L_minus = (dg_ii - dg_ij - dg_ji + dg_jj)/2
//      q_plus  = (g_i + g_j)/(s_i + s_j) -> L_plus  = (dg_ii + dg_ij + dg_ji + dg_jj)/2
//    (for symmetric g the limit of (g_i-g_j)/(s_i-s_j) is dg_ii - dg_ij; the
//    symmetrized average is that limit too, and it is SECOND-order accurate
//    off the pole, because (g_i -+ g_j) is odd about the pole line).  Inside the
//    band |s_i -+ s_j| <= tau sigma_ref we use
//      q = L + (num - delta L) / (tau sigma_ref sign(delta))       (num = g_i -+ g_j)
//    and outside it the plain num / delta.  For a g with a finite limit the
//    second term is O(delta^3)/(tau sigma_ref) <= O(tau^2) (relative): the
//    gradient is accurate to ~eps^(2/3) everywhere (truncation inside the band,
//    cancellation eps/tau outside), and exact at the pole itself.  For a g
//    whose G is DISCONTINUOUS at the pole (g_i + g_j != 0 at s_i + s_j = 0,
//    e.g. the polar rotation g = 1 of an inverted F with s_D = -s_i, or snow's
//    clamped singular values) the true derivative is infinite; the formula
//    then REGULARIZES it to L + (num - delta L)/(tau sigma_ref), about
//    num/(tau sigma_ref) (bounded, continuous across the band edge; exactly
//    2/(tau sigma_ref) for the polar rotation), and tests/math/test_svd_adjoint.cpp
//    checks that value.  A
//    non-equivariant g (not an isotropic function) would be regularized the
//    same way at s_i = s_j; no model uses one.
//  * adj_svd: U and V themselves have no derivative at a pole, so nothing can
//    be exact there.  The pole factors are REGULARIZED: 1/delta is replaced by
//    1/(sign(delta) max(|delta|, tau sigma_ref)), so the gradient is exact for
//    |s_i -+ s_j| > tau sigma_ref and bounded by ~|adj_U|/(tau sigma_ref)
//    inside (tested against that formula).  A loss that is a function of an
//    isotropic G should use adj_singular_value_function instead.
//  * Zero singular values are not poles by themselves (s_i = 0, s_j != 0 is
//    regular); two zeros are a pole of both kinds, handled as above.  The
//    singular values themselves are differentiable everywhere except at
//    crossings, and d sigma_i/dF = u_i v_i^T is used as is.
// Requirement: `s` is the result of svd_rotation_variant (det U = det V = +1,
// sigma sorted by decreasing magnitude); U and V must be orthogonal.
#pragma once

#include "kernels/math/svd.hpp"

namespace pl {

/// Relative width tau of the band around a pole of the SVD derivative where
/// its limit (or regularized) form is used: eps^(1/3) (see the header).
/// cbrt(FLT_EPSILON) = 4.92e-3, cbrt(DBL_EPSILON) = 6.06e-6.
template <class Real>
PL_HD PL_INLINE constexpr Real svd_adjoint_rel_tol() {
  static_assert(sizeof(Real) == sizeof(float) || sizeof(Real) == sizeof(double),
                "svd_adjoint_rel_tol: float or double");
  return sizeof(Real) == sizeof(float) ? Real(4.92e-3) : Real(6.06e-6);
}

namespace svd_adjoint_detail {

/// max_k |sigma_k|, or 1 when all are 0 (F = 0): the scale of the pole bands.
template <class Real, int D>
PL_HD PL_INLINE Real sigma_ref(const Vec<Real, D>& sigma) {
  Real m = Real(0);
  for (int k = 0; k < D; ++k) m = fabs(sigma[k]) > m ? fabs(sigma[k]) : m;
  return m > Real(0) ? m : Real(1);
}

/// The band half-width tau sigma_ref with the sign of delta (+ for delta = 0).
template <class Real>
PL_HD PL_INLINE Real band(Real delta, Real width) {
  return delta >= Real(0) ? width : -width;
}

/// Divided difference num/delta, with its limit L inside the band (header).
template <class Real>
PL_HD PL_INLINE Real divided_difference(Real num, Real delta, Real L, Real width) {
  if (fabs(delta) > width) return num / delta;
  return L + (num - delta * L) / band(delta, width);
}

/// 1/delta, regularized to 1/(sign(delta) width) inside the band (adj_svd).
template <class Real>
PL_HD PL_INLINE Real regularized_reciprocal(Real delta, Real width) {
  return Real(1) / (fabs(delta) > width ? delta : band(delta, width));
}

/// adj_F += U adj_P V^T.
template <class Real, int D>
PL_HD PL_INLINE void rotate_back(const Svd<Real, D>& s, const Mat<Real, D>& adj_P, Mat<Real, D>& adj_F) {
  adj_F += s.U * adj_P * transpose(s.V);
}

}  // namespace svd_adjoint_detail

/// VJP of the singular values alone, sigma(F): adj_F += U diag(adj_sigma) V^T
/// (d sigma_i / dF = u_i v_i^T).  Exact wherever sigma is differentiable, and
/// for any symmetric function of sigma even at repeated values (adj_sigma
/// then has equal entries in the repeated group).
template <class Real, int D>
PL_HD void adj_singular_values(const Svd<Real, D>& s, const Vec<Real, D>& adj_sigma, Mat<Real, D>& adj_F) {
  svd_adjoint_detail::rotate_back(s, Mat<Real, D>::diagonal(adj_sigma), adj_F);
}

/// VJP of the full rotation-variant SVD F = U diag(sigma) V^T.
/// Formula (Townsend 2016 eq. for square F; Papadopoulo & Lourakis 2000), with
/// Au = U^T adj_U, Av = V^T adj_V, a_ij = Au_ij - Au_ji, b_ij = Av_ij - Av_ji:
///   adj_P_ii = adj_sigma_i
///   adj_P_ij = -(a_ij + b_ij)/2 / (s_i - s_j) + (a_ij - b_ij)/2 / (s_i + s_j)   (i < j)
///   adj_P_ji = -(a_ij + b_ij)/2 / (s_i - s_j) - (a_ij - b_ij)/2 / (s_i + s_j)
///   adj_F   += U adj_P V^T
/// Degenerate: at s_i = s_j or s_i + s_j = 0 the SVD is not differentiable; the
/// reciprocals are REGULARIZED to 1/(sign max(|delta|, tau sigma_ref)) (see the
/// header), exact outside the band |delta| <= tau sigma_ref.
template <class Real, int D>
PL_HD void adj_svd(const Svd<Real, D>& s, const Mat<Real, D>& adj_U, const Vec<Real, D>& adj_sigma,
                   const Mat<Real, D>& adj_V, Mat<Real, D>& adj_F) {
  using namespace svd_adjoint_detail;
  const Real width = svd_adjoint_rel_tol<Real>() * sigma_ref(s.sigma);
  const Mat<Real, D> Au = transpose(s.U) * adj_U, Av = transpose(s.V) * adj_V;
  Mat<Real, D> adj_P = Mat<Real, D>::diagonal(adj_sigma);
  for (int i = 0; i < D; ++i)
    for (int j = i + 1; j < D; ++j) {
      const Real a = Au(i, j) - Au(j, i), b = Av(i, j) - Av(j, i);
      const Real inv_minus = regularized_reciprocal(s.sigma[i] - s.sigma[j], width);
      const Real inv_plus = regularized_reciprocal(s.sigma[i] + s.sigma[j], width);
      const Real sym_part = Real(-0.5) * (a + b) * inv_minus;
      const Real skew_part = Real(0.5) * (a - b) * inv_plus;
      adj_P(i, j) = sym_part + skew_part;
      adj_P(j, i) = sym_part - skew_part;
    }
  rotate_back(s, adj_P, adj_F);
}

/// VJP of the isotropic matrix function G = U diag(g) V^T, g = g(sigma), with
/// dg(i, j) = d g_i / d sigma_j (g and dg evaluated by the caller at s.sigma).
/// Formula (spectral divided differences; Lewis 1996, Townsend 2016), with
/// M = U^T adj_G V:
///   adj_P_jj = sum_i M_ii dg_ij
///   adj_P_ij = Msym_ij q_minus + Mskew_ij q_plus,  adj_P_ji = Msym_ij q_minus - Mskew_ij q_plus
///   Msym = (M_ij + M_ji)/2, Mskew = (M_ij - M_ji)/2,
///   q_minus = (g_i - g_j)/(s_i - s_j),  q_plus = (g_i + g_j)/(s_i + s_j)
///   adj_F += U adj_P V^T
/// Degenerate cases (details in the header): inside |s_i -+ s_j| <= tau sigma_ref
/// q_-+ = L_-+ + (g_i -+ g_j - delta L_-+)/(tau sigma_ref), with the limits
/// L_minus = (dg_ii - dg_ij - dg_ji + dg_jj)/2, L_plus = (dg_ii + dg_ij + dg_ji + dg_jj)/2:
/// exact (to O(tau^2)) wherever G is differentiable, i.e. for any isotropic g at
/// repeated singular values; REGULARIZED to (g_i + g_j)/(tau sigma_ref) at
/// s_i + s_j = 0 when G jumps there (g_i + g_j != 0: polar rotation, clamps).
/// Special cases: g = sigma, dg = I gives adj_F += adj_G exactly.
template <class Real, int D>
PL_HD void adj_singular_value_function(const Svd<Real, D>& s, const Vec<Real, D>& g, const Mat<Real, D>& dg,
                                       const Mat<Real, D>& adj_G, Mat<Real, D>& adj_F) {
  using namespace svd_adjoint_detail;
  const Real width = svd_adjoint_rel_tol<Real>() * sigma_ref(s.sigma);
  const Mat<Real, D> M = transpose(s.U) * adj_G * s.V;
  Mat<Real, D> adj_P = Mat<Real, D>::zero();
  for (int j = 0; j < D; ++j) {
    Real acc = Real(0);
    for (int i = 0; i < D; ++i) acc += M(i, i) * dg(i, j);
    adj_P(j, j) = acc;
  }
  for (int i = 0; i < D; ++i)
    for (int j = i + 1; j < D; ++j) {
      const Real cross = dg(i, j) + dg(j, i), own = dg(i, i) + dg(j, j);
      const Real q_minus = divided_difference(g[i] - g[j], s.sigma[i] - s.sigma[j],
                                              Real(0.5) * (own - cross), width);
      const Real q_plus = divided_difference(g[i] + g[j], s.sigma[i] + s.sigma[j],
                                             Real(0.5) * (own + cross), width);
      const Real m_sym = Real(0.5) * (M(i, j) + M(j, i)), m_skew = Real(0.5) * (M(i, j) - M(j, i));
      adj_P(i, j) = m_sym * q_minus + m_skew * q_plus;
      adj_P(j, i) = m_sym * q_minus - m_skew * q_plus;
    }
  rotate_back(s, adj_P, adj_F);
}

/// VJP of R = polar_rotation(F) = U V^T: adj_singular_value_function with
/// g = 1, dg = 0, so q_minus = 0 and q_plus = 2/(s_i + s_j):
///   adj_P_ij = Mskew_ij 2/(s_i + s_j) = -adj_P_ji,  adj_P_ii = 0.
/// R is smooth at repeated POSITIVE singular values (F = I, rotations): exact
/// there.  Its only singularity is s_i + s_j = 0 (an inverted F with
/// s_D = -s_i, where the rotation-variant R jumps): there 2/(s_i + s_j) is
/// REGULARIZED to 2/(tau sigma_ref) (bounded).  Zero singular values are
/// regular unless two are zero (rank <= D-2), which is the same regularized pole.
template <class Real, int D>
PL_HD void adj_polar_rotation(const Mat<Real, D>& F, const Mat<Real, D>& adj_R, Mat<Real, D>& adj_F) {
  const Svd<Real, D> s = svd_rotation_variant(F);
  adj_singular_value_function(s, Vec<Real, D>::constant(Real(1)), Mat<Real, D>::zero(), adj_R, adj_F);
}

/// Diagonal of U^T A V: the component of A along each U e_i (V e_i)^T.
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> svd_basis_diagonal(const Svd<Real, D>& s, const Mat<Real, D>& A) {
  Vec<Real, D> d;
  for (int i = 0; i < D; ++i) {
    Real acc = Real(0);
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) acc += s.U(a, i) * A(a, b) * s.V(b, i);
    d[i] = acc;
  }
  return d;
}

}  // namespace pl
