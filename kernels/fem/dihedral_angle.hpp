// The signed dihedral angle of a hinge, its gradient and its Hessian.
//
// A hinge is an edge shared by two triangles; its four vertices are
//   x0, x1  the edge, e = x1 - x0
//   x2      the wing of triangle A = (x0, x1, x2)
//   x3      the wing of triangle B = (x1, x0, x3)
// so that both triangles traverse the edge in opposite directions (a
// consistently oriented mesh) and have the unnormalized normals
//   n_A = e × (x2 - x0),   n_B = (x3 - x0) × e,   |n_T| = 2 area(T).
//
// θ = atan2((n_B × n_A)·ê, n_A·n_B)  in (-π, π]: 0 for a flat hinge, positive
// when the wings fold towards the side the normals point to.  atan2 of the
// unnormalized normals is accurate at every angle, unlike acos(n̂_A·n̂_B), whose
// derivative blows up at θ = 0 and θ = ±π (Bridson et al. 2003, sec. 4;
// Tamstorf & Grinspun 2013, sec. 3).
//
// Gradient (Bridson et al. 2003 eq. 4-7, with m_T = n_T / |n_T|²):
//   ∂θ/∂x2 =  |e| m_A,          ∂θ/∂x3 = |e| m_B,
//   ∂θ/∂x0 = -((x1-x2)·ê) m_A - ((x1-x3)·ê) m_B,
//   ∂θ/∂x1 = -((x2-x0)·ê) m_A - ((x3-x0)·ê) m_B.
// Written as ∂θ/∂x_v = Σ_T c_{T,v} m_T, the Hessian is the exact derivative of
// that sum (our own derivation, equivalent to Tamstorf & Grinspun 2013 eq. 20-31):
//   ∂²θ/∂x_v∂x_u = Σ_T [ m_T (∂c_{T,v}/∂x_u)ᵀ + c_{T,v} ∂m_T/∂x_u ],
//   ∂m/∂x_u = (I - 2 n̂ n̂ᵀ) / |n|² · ∂n/∂x_u,
//   ∂(p·ê)/∂e = (I - ê êᵀ) p / |e|,
//   n_A = a × b (a = x1-x0, b = x2-x0):  ∂n_A/∂x1 = -[b]×, ∂n_A/∂x2 = [a]×, ∂n_A/∂x0 = [b-a]×,
//   n_B = c × a (c = x3-x0):             ∂n_B/∂x3 = -[a]×, ∂n_B/∂x1 = [c]×, ∂n_B/∂x0 = [a-c]×.
//
// Degenerate hinges:
// - flat (θ = 0) and nearly folded (θ → ±π): the formulas above are smooth
//   there (no 1/sin θ), tested at both.  Folding through ±π flips the sign of
//   θ; that needs the two triangles to pass through each other.
// - a (nearly) zero-area triangle or zero-length edge: θ is undefined.
//   hinge_is_degenerate() reports it (triangle height below kDegenerateRatio
//   times the edge length); callers then apply no force (see
//   discrete_shell_hinge.hpp).
#pragma once

#include "kernels/math/mat.hpp"
#include "kernels/math/vec.hpp"

namespace pl::fem {

template <class Real>
using V3 = Vec<Real, 3>;
template <class Real>
using M3 = Mat<Real, 3>;

/// A triangle whose height is below this fraction of the hinge edge length is
/// treated as degenerate (its normal has no reliable direction).
template <class Real>
PL_HD constexpr Real degenerate_height_ratio() {
  return sizeof(Real) == 4 ? Real(1e-4) : Real(1e-7);
}

template <class Real>
PL_HD inline M3<Real> cross_matrix(const V3<Real>& a) {  // [a]× b = a × b
  M3<Real> m = M3<Real>::zero();
  m(0, 1) = -a[2];
  m(0, 2) = a[1];
  m(1, 0) = a[2];
  m(1, 2) = -a[0];
  m(2, 0) = -a[1];
  m(2, 1) = a[0];
  return m;
}

template <class Real>
PL_HD inline bool hinge_is_degenerate(const V3<Real> (&x)[4]) {
  const V3<Real> e = x[1] - x[0];
  const Real e2 = squared_norm(e);
  if (!(e2 > Real(0))) return true;
  const Real r = degenerate_height_ratio<Real>();
  // |n_T| = |e| height_T, so height < r |e|  <=>  |n_T|² < r² |e|⁴.
  const Real limit = r * r * e2 * e2;
  return squared_norm(cross(e, x[2] - x[0])) < limit || squared_norm(cross(x[3] - x[0], e)) < limit;
}

template <class Real>
PL_HD inline Real dihedral_angle(const V3<Real> (&x)[4]) {
  const V3<Real> e = x[1] - x[0];
  const V3<Real> nA = cross(e, x[2] - x[0]);
  const V3<Real> nB = cross(x[3] - x[0], e);
  const Real len = norm(e);
  const Real s = len > Real(0) ? dot(cross(nB, nA), e) / len : Real(0);
  return atan2(s, dot(nA, nB));
}

/// ∂θ/∂x for the 4 vertices.  Requires !hinge_is_degenerate(x).
template <class Real>
PL_HD inline void dihedral_angle_gradient(const V3<Real> (&x)[4], V3<Real> (&grad)[4]) {
  const V3<Real> e = x[1] - x[0];
  const Real len = norm(e);
  const V3<Real> eh = e * (Real(1) / len);
  const V3<Real> nA = cross(e, x[2] - x[0]);
  const V3<Real> nB = cross(x[3] - x[0], e);
  const V3<Real> mA = nA * (Real(1) / squared_norm(nA));
  const V3<Real> mB = nB * (Real(1) / squared_norm(nB));
  grad[2] = mA * len;
  grad[3] = mB * len;
  grad[0] = mA * (-dot(x[1] - x[2], eh)) + mB * (-dot(x[1] - x[3], eh));
  grad[1] = mA * (-dot(x[2] - x[0], eh)) + mB * (-dot(x[3] - x[0], eh));
}

/// ∂²θ/∂x² as 4x4 blocks of 3x3 (hess[v][u] = ∂²θ/∂x_v∂x_u).  Requires
/// !hinge_is_degenerate(x).  Symmetric up to rounding.
template <class Real>
PL_HD inline void dihedral_angle_hessian(const V3<Real> (&x)[4], M3<Real> (&hess)[4][4]) {
  const V3<Real> e = x[1] - x[0];
  const Real len = norm(e);
  const V3<Real> eh = e * (Real(1) / len);
  const M3<Real> P = M3<Real>::identity() - outer(eh, eh);  // projector orthogonal to the edge
  for (int v = 0; v < 4; ++v)
    for (int u = 0; u < 4; ++u) hess[v][u] = M3<Real>::zero();

  // Triangle T = A (wing 2) and T = B (wing 3) share the same structure: with
  // wing w, c_w = |e|, c_0 = -(x1 - x_w)·ê, c_1 = -(x_w - x0)·ê.
  for (int t = 0; t < 2; ++t) {
    const int w = 2 + t;
    const V3<Real> a = x[1] - x[0];
    const V3<Real> b = x[w] - x[0];
    const V3<Real> n = (t == 0) ? cross(a, b) : cross(b, a);
    const Real n2 = squared_norm(n);
    const V3<Real> m = n * (Real(1) / n2);
    const V3<Real> nh = n * (Real(1) / sqrt(n2));
    const M3<Real> R = (M3<Real>::identity() - Real(2) * outer(nh, nh)) * (Real(1) / n2);  // ∂m/∂n
    // ∂n/∂x_u for u in {0, 1, w} (zero for the other wing).
    M3<Real> dn[4];
    for (int u = 0; u < 4; ++u) dn[u] = M3<Real>::zero();
    if (t == 0) {  // n = a × b
      dn[1] = Real(-1) * cross_matrix(b);
      dn[w] = cross_matrix(a);
      dn[0] = cross_matrix(b - a);
    } else {  // n = b × a  (b plays the role of c = x3 - x0)
      dn[w] = Real(-1) * cross_matrix(a);
      dn[1] = cross_matrix(b);
      dn[0] = cross_matrix(a - b);
    }
    // Coefficients c_{T,v} and their gradients ∂c_{T,v}/∂x_u.
    Real c[4] = {-dot(x[1] - x[w], eh), -dot(x[w] - x[0], eh), Real(0), Real(0)};
    c[w] = len;
    V3<Real> dc[4][4];
    for (int v = 0; v < 4; ++v)
      for (int u = 0; u < 4; ++u) dc[v][u] = V3<Real>::zero();
    // c_w = |e|
    dc[w][1] = eh;
    dc[w][0] = -eh;
    // c_0 = -(x1 - x_w)·ê
    const V3<Real> q1 = P * (x[1] - x[w]) * (Real(1) / len);
    dc[0][1] = -(eh + q1);
    dc[0][w] = eh;
    dc[0][0] = q1;
    // c_1 = -(x_w - x0)·ê
    const V3<Real> q2 = P * (x[w] - x[0]) * (Real(1) / len);
    dc[1][w] = -eh;
    dc[1][0] = eh + q2;
    dc[1][1] = -q2;

    for (int v = 0; v < 4; ++v) {
      if (v != 0 && v != 1 && v != w) continue;
      for (int u = 0; u < 4; ++u) {
        if (u != 0 && u != 1 && u != w) continue;
        hess[v][u] += outer(m, dc[v][u]) + c[v] * (R * dn[u]);
      }
    }
  }
}

}  // namespace pl::fem
