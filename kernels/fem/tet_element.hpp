// One linear tetrahedron: deformation gradient, elastic energy, forces, the
// 12x12 element Hessian, Hessian-vector products and parameter VJPs.  Host and
// device (PL_HD); the constitutive model M is a template parameter and is one of
// the modules in materials/ (the same ones MPM uses).
//
// Formulas (standard linear-tet FEM, e.g. Sifakis & Barbic, "FEM simulation of
// 3D deformable solids", SIGGRAPH 2012 course notes, Sec. 4):
//   Ds = [x1 - x0, x2 - x0, x3 - x0],  Dm = the same with rest positions X,
//   F  = Ds Dm^{-1},  V = |det Dm| / 6,  element energy e = V Psi(F).
//   de = V P : dF = V P : (dDs Dm^{-1}) = (V P Dm^{-T}) : dDs
// so with G = V P Dm^{-T} the force on vertex i = 1..3 is -G[:, i-1] and on
// vertex 0 the negated sum (translation invariance).  Every linear map from a
// 3x3 "dF-adjoint" back to the 12 vertex values uses that same scatter
// (tet_scatter_gradient), and every tangent dF(u) = Ds(u) Dm^{-1}
// (tet_tangent_dF).
//
// Second derivatives come from the model's VJP of P (adj_first_piola): since
// P = dPsi/dF, A = dP/dF is symmetric, so the VJP with adj_P = dF returns A dF:
//   Hessian-vector product  K u = scatter(V A dF(u)),  one VJP;
//   element Hessian         column k of K = K e_k,     12 VJPs.
// No model needs a hand-written Hessian, and the Hessian is exactly the
// derivative of the forces the world integrates.
//
// Parameter VJP (for the adjoint of an implicit step): w^T (de/dx) =
// V P(F; p) : dF(w), so d/dp of it is the VJP of P with adj_P = V dF(w),
// accumulated into adj_p (the model's packed parameter array).
//
// Inversion: the element itself has no special case.  F is defined for any
// vertex positions; how an inverted or flat element behaves is the model's
// business (materials/*: stable Neo-Hookean is smooth for every F, fixed
// corotated uses the rotation-variant SVD so inverted elements are pushed back,
// StVK-Hencky continues log linearly below a stretch of 1e-4).  A degenerate
// REST shape (V = 0) is rejected by the mesh checks, never reaches here.
#pragma once

#include "kernels/math/mat.hpp"
#include "kernels/math/vec.hpp"
#include "materials/model_base.hpp"

namespace pl::fem {

template <class Real>
using Mat3 = Mat<Real, 3>;

/// Rest-shape data of one tet: Dm^{-1} and the rest volume V > 0.
template <class Real>
struct TetRest {
  Mat3<Real> Dm_inv;
  Real volume;
};

/// Columns x1 - x0, x2 - x0, x3 - x0 of the 12 values x[3 * local + axis].
template <class Real>
PL_HD PL_INLINE Mat3<Real> tet_edge_matrix(const Real* x) {
  Mat3<Real> D;
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < 3; ++r) D(r, c) = x[3 * (c + 1) + r] - x[r];
  return D;
}

/// Rest data from the 12 rest coordinates; volume is signed det(Dm)/6 (the
/// caller rejects or reorders non-positive ones).
template <class Real>
PL_HD PL_INLINE TetRest<Real> tet_rest(const Real* X) {
  const Mat3<Real> Dm = tet_edge_matrix(X);
  TetRest<Real> r;
  r.volume = determinant(Dm) / Real(6);
  r.Dm_inv = inverse(Dm);
  return r;
}

/// F = Ds Dm^{-1}; with displacements/tangents u instead of positions this is dF(u).
template <class Real>
PL_HD PL_INLINE Mat3<Real> tet_deformation_gradient(const Real* x, const Mat3<Real>& Dm_inv) {
  return tet_edge_matrix(x) * Dm_inv;
}

/// out[12] += the vertex values of a 3x3 F-adjoint G_F (d/dx of G_F : F):
/// G = G_F Dm^{-T}; vertex i >= 1 gets column i-1, vertex 0 minus their sum.
template <class Real>
PL_HD PL_INLINE void tet_scatter_gradient(const Mat3<Real>& G_F, const Mat3<Real>& Dm_inv, Real* out) {
  const Mat3<Real> G = G_F * transpose(Dm_inv);
  for (int r = 0; r < 3; ++r) {
    Real sum = Real(0);
    for (int c = 0; c < 3; ++c) {
      out[3 * (c + 1) + r] += G(r, c);
      sum += G(r, c);
    }
    out[r] -= sum;
  }
}

/// e = V Psi(F).
template <class M, class Real>
PL_HD PL_INLINE Real tet_energy(const Real* p, const TetRest<Real>& rest, const Real* x) {
  const Mat3<Real> F = tet_deformation_gradient(x, rest.Dm_inv);
  return rest.volume * M::template energy_density<Real, 3>(p, F, Real(0));
}

/// grad[12] += de/dx = scatter(V P).
template <class M, class Real>
PL_HD PL_INLINE void tet_add_gradient(const Real* p, const TetRest<Real>& rest, const Real* x, Real* grad) {
  const Mat3<Real> F = tet_deformation_gradient(x, rest.Dm_inv);
  tet_scatter_gradient(rest.volume * M::template first_piola<Real, 3>(p, F, Real(0)), rest.Dm_inv, grad);
}

/// out[12] += K u  (K = d^2 e / dx^2 at x): scatter(V A dF(u)), one VJP of P.
template <class M, class Real>
PL_HD PL_INLINE void tet_add_hessian_vector(const Real* p, const TetRest<Real>& rest, const Real* x, const Real* u,
                                            Real* out) {
  const Mat3<Real> F = tet_deformation_gradient(x, rest.Dm_inv);
  const Mat3<Real> dF = tet_deformation_gradient(u, rest.Dm_inv);
  Mat3<Real> AdF = Mat3<Real>::zero();
  Real adj_p[materials::kMaxParams] = {};
  Real adj_plastic = Real(0);
  M::template adj_first_piola<Real, 3>(p, F, Real(0), dF, AdF, adj_p, adj_plastic);
  tet_scatter_gradient(rest.volume * AdF, rest.Dm_inv, out);
}

/// K[144] (row-major, K[12 * i + j]) = d^2 e / dx_i dx_j, symmetrized
/// (K + K^T)/2 so round-off never makes it asymmetric.
template <class M, class Real>
PL_HD PL_INLINE void tet_hessian(const Real* p, const TetRest<Real>& rest, const Real* x, Real* K) {
  const Mat3<Real> F = tet_deformation_gradient(x, rest.Dm_inv);
  for (int i = 0; i < 144; ++i) K[i] = Real(0);
  for (int k = 0; k < 12; ++k) {
    Real e[12] = {};
    e[k] = Real(1);
    const Mat3<Real> dF = tet_deformation_gradient(e, rest.Dm_inv);
    Mat3<Real> AdF = Mat3<Real>::zero();
    Real adj_p[materials::kMaxParams] = {};
    Real adj_plastic = Real(0);
    M::template adj_first_piola<Real, 3>(p, F, Real(0), dF, AdF, adj_p, adj_plastic);
    Real col[12] = {};
    tet_scatter_gradient(rest.volume * AdF, rest.Dm_inv, col);
    for (int i = 0; i < 12; ++i) K[12 * i + k] = col[i];
  }
  for (int i = 0; i < 12; ++i)
    for (int j = i + 1; j < 12; ++j) {
      const Real s = Real(0.5) * (K[12 * i + j] + K[12 * j + i]);
      K[12 * i + j] = s;
      K[12 * j + i] = s;
    }
}

/// adj_p[kMaxParams] += d/dp (w^T de/dx) = VJP of P with adj_P = V dF(w).
template <class M, class Real>
PL_HD PL_INLINE void tet_add_gradient_parameter_vjp(const Real* p, const TetRest<Real>& rest, const Real* x,
                                                    const Real* w, Real* adj_p) {
  const Mat3<Real> F = tet_deformation_gradient(x, rest.Dm_inv);
  const Mat3<Real> dF = tet_deformation_gradient(w, rest.Dm_inv);
  Mat3<Real> unused_adj_F = Mat3<Real>::zero();
  Real adj_plastic = Real(0);
  M::template adj_first_piola<Real, 3>(p, F, Real(0), rest.volume * dF, unused_adj_F, adj_p, adj_plastic);
}

/// Linear elasticity (the rest-state tangent of every elastic model here, by
/// construction: materials/stable_neo_hookean.hpp header) as a bilinear form:
///   w^T K0 u = V (2 mu eps(w) : eps(u) + lambda tr eps(w) tr eps(u)),  eps = sym dF.
/// Used by stiffness-proportional Rayleigh damping; returns the form and
/// accumulates its derivative with respect to (mu, lambda).
template <class Real>
PL_HD PL_INLINE Real tet_rest_stiffness_form(Real mu, Real lambda, const TetRest<Real>& rest, const Real* w,
                                             const Real* u, Real& adj_mu, Real& adj_lambda) {
  const Mat3<Real> ew = Real(0.5) * (tet_deformation_gradient(w, rest.Dm_inv) +
                                     transpose(tet_deformation_gradient(w, rest.Dm_inv)));
  const Mat3<Real> eu = Real(0.5) * (tet_deformation_gradient(u, rest.Dm_inv) +
                                     transpose(tet_deformation_gradient(u, rest.Dm_inv)));
  const Real shear = Real(2) * rest.volume * ddot(ew, eu);
  const Real bulk = rest.volume * trace(ew) * trace(eu);
  adj_mu += shear;
  adj_lambda += bulk;
  return mu * shear + lambda * bulk;
}

/// out[12] += K0 u = scatter(V sigma(u)), sigma = 2 mu eps(u) + lambda tr eps(u) I
/// (the derivative of the form above with respect to w).
template <class Real>
PL_HD PL_INLINE void tet_add_rest_stiffness_vector(Real mu, Real lambda, const TetRest<Real>& rest, const Real* u,
                                                   Real* out) {
  const Mat3<Real> dF = tet_deformation_gradient(u, rest.Dm_inv);
  const Mat3<Real> eps = Real(0.5) * (dF + transpose(dF));
  const Mat3<Real> sigma = Real(2) * mu * eps + Mat3<Real>::diagonal(lambda * trace(eps));
  tet_scatter_gradient(rest.volume * sigma, rest.Dm_inv, out);
}

}  // namespace pl::fem
