// Two-way MPM <-> FEM contact: a smooth penalty between FEM surface vertices
// and MPM grid nodes (issue 6), one (vertex, node) pair per call.
//
// Model (ours; a node-vertex variant of the penalty coupling of soft bodies
// and MPM grids, cf. the MPM course notes, Jiang et al. 2016, Sec. 9.3 grid
// collisions, with the hard projection replaced by a soft, differentiable force):
// FEM surface vertex i at x_i with velocity v_i and area-weighted outward
// normal n_i (|n_i| = A_i, its share of the surface area; n^_i = n_i / A_i),
// grid node n at x_n with P2G mass m_n > 0 and momentum p_n (v_n = p_n / m_n):
//
//   r    = x_n - x_i,   w = N(r / dx)   (quadratic B-spline, course notes eq. 123)
//   d    = skin - r . n^_i                        (depth of the node in the vertex's skin)
//   phi  = softplus_s(d) = s log(1 + exp(d / s))  (smooth ramp: gradients survive when contact breaks)
//   chi  = 1 - smoothstep((b - dx/2) / (dx/2)),  b = -r . n^_i  (the node's distance behind the
//          vertex's tangent plane): 1 up to half a cell behind, 0 from one cell behind, C1.
//          Without it the back face of a thin body (< 3 cells) would pull material that
//          touches its front face in through the body.
//   a_N  = k w chi phi A_i / dx^2                  (normal acceleration [m/s^2]; k [1/s^2])
//   u_T  = (v_n - v_i) - ((v_n - v_i) . n^_i) n^_i (relative tangential velocity)
//   c    = mu a_N / sqrt(|u_T|^2 + eps^2)          (regularized Coulomb: |friction| <= mu a_N)
//   sigma = c dt / (1 + c dt)                      (a smooth cap < 1: friction never reverses u_T)
//   dv   = dt a_N n^_i - sigma u_T                 (velocity change of the node from this vertex)
//   dp   = m_n dv                                  (momentum added to the node in this substep)
//
// and the vertex receives exactly -dp / dt (force [N]): equal and opposite,
// so MPM + FEM momentum is exchanged consistently.  The acceleration a_N does
// not depend on m_n, so light (nearly empty) nodes are not over-pushed, and
// the A_i / dx^2 factor makes the total force independent of the surface
// resolution (a flat face of area A pushes a layer of nodes with ~k phi A / dx^2).
//
// The adjoint of one pair (pair_momentum_vjp) is assembled from forward-mode
// directional derivatives (Dual numbers, dual.hpp) of the same templated
// function: one evaluation per input scalar, exact to round-off, so the
// forward and its derivative cannot drift apart.  Branches (the B-spline's
// pieces, the softplus' overflow guard) act on values only.
#pragma once

#include <cmath>

#include "kernels/coupling/dual.hpp"
#include "kernels/math/vec.hpp"

namespace pl {

using ::exp;
using ::log1p;

/// Parameters of the MPM <-> FEM penalty (SI units).
template <class Real>
struct MpmFemContactParams {
  Real stiffness;   // k [1/s^2]
  Real skin;        // contact begins at this distance in front of the surface [m] (~dx / 2)
  Real softness;    // s of the softplus ramp [m] (~skin / 4)
  Real friction;    // mu (regularized Coulomb)
  Real slip_speed;  // eps [m/s]: relative tangential speed below which friction acts as damping
};

/// softplus_s(d) = s log(1 + exp(d / s)), written to not overflow for d >> s.
template <class Real>
PL_HD PL_INLINE Real contact_softplus(Real d, Real s) {
  const Real z = d / s;
  return z > Real(0) ? d + s * log1p(exp(-z)) : s * log1p(exp(z));
}
/// Its derivative sigmoid(d / s) (also the Dual tangent below).
template <class Real>
PL_HD PL_INLINE Real contact_sigmoid(Real d, Real s) {
  const Real z = d / s;
  return z > Real(0) ? Real(1) / (Real(1) + exp(-z)) : exp(z) / (Real(1) + exp(z));
}
template <class Real>
PL_HD PL_INLINE Dual<Real> contact_softplus(const Dual<Real>& d, const Dual<Real>& s) {
  // s is a constant of the model (not differentiated): its tangent is ignored.
  return {contact_softplus(d.v, s.v), contact_sigmoid(d.v, s.v) * d.d};
}

/// The 1D quadratic B-spline N(u), u in cells (course notes eq. 123): the
/// same weights as QuadraticStencil, written on the offset so it can be
/// evaluated on Dual numbers.
template <class T>
PL_HD PL_INLINE T contact_bspline(const T& u) {
  const T a = fabs(u);
  if (a < T(0.5)) return T(0.75) - a * a;
  if (a < T(1.5)) {
    const T b = T(1.5) - a;
    return T(0.5) * b * b;
  }
  return T(0);
}

/// chi of the header on b = distance behind the vertex plane in cells:
/// 1 for b <= 1/2, 0 for b >= 1, the cubic smoothstep between (C1).
template <class T>
PL_HD PL_INLINE T contact_back_window(const T& b) {
  if (b <= T(0.5)) return T(1);
  if (b >= T(1)) return T(0);
  const T t = (b - T(0.5)) * T(2);
  return T(1) - t * t * (T(3) - T(2) * t);
}

/// Inputs of one (vertex, node) pair, in the scalar type T (Real or Dual).
template <class T>
struct ContactPairInput {
  T p[3];   // node momentum after P2G [kg m/s]
  T m;      // node mass [kg]
  T x[3];   // vertex position [m]
  T v[3];   // vertex velocity [m/s]
  T n[3];   // area-weighted outward vertex normal [m^2]
  T k, mu;  // stiffness, friction (the differentiable parameters)
};
constexpr int kContactPairInputs = 15;

/// i-th scalar of a ContactPairInput in the order p, m, x, v, n, k, mu.
template <class T>
PL_HD PL_INLINE T& contact_input(ContactPairInput<T>& in, int i) {
  if (i < 3) return in.p[i];
  if (i == 3) return in.m;
  if (i < 7) return in.x[i - 4];
  if (i < 10) return in.v[i - 7];
  if (i < 13) return in.n[i - 10];
  return i == 13 ? in.k : in.mu;
}
template <class T>
PL_HD PL_INLINE const T& contact_input(const ContactPairInput<T>& in, int i) {
  return contact_input(const_cast<ContactPairInput<T>&>(in), i);  // same layout, read only
}

/// dp of the header for one pair; all zero outside the B-spline support.
/// node_x: node position; dt [s]; inv_dx [1/m].
template <class T, class Real>
PL_HD PL_INLINE void pair_momentum(const ContactPairInput<T>& in, const Real (&node_x)[3],
                                   const MpmFemContactParams<Real>& prm, Real dt, Real inv_dx, T (&dp)[3]) {
  T r[3], w = T(1);
  for (int a = 0; a < 3; ++a) {
    r[a] = T(node_x[a]) - in.x[a];
    w = w * contact_bspline(r[a] * T(inv_dx));
  }
  for (int a = 0; a < 3; ++a) dp[a] = T(0);
  if (!(value_of(w) > Real(0))) return;
  const T area = sqrt(in.n[0] * in.n[0] + in.n[1] * in.n[1] + in.n[2] * in.n[2]);
  if (!(value_of(area) > Real(0))) return;  // a degenerate (zero-area) vertex exerts nothing
  T nh[3];
  for (int a = 0; a < 3; ++a) nh[a] = in.n[a] / area;
  const T d = T(prm.skin) - (r[0] * nh[0] + r[1] * nh[1] + r[2] * nh[2]);
  const T phi = contact_softplus(d, T(prm.softness));
  const T chi = contact_back_window((T(prm.skin) - d) * T(-inv_dx));  // -(r . n^) in cells
  if (!(value_of(chi) > Real(0))) return;
  const T a_n = in.k * w * chi * phi * area * T(inv_dx * inv_dx);
  T u[3];
  for (int a = 0; a < 3; ++a) u[a] = in.p[a] / in.m - in.v[a];
  const T un = u[0] * nh[0] + u[1] * nh[1] + u[2] * nh[2];
  T ut2 = T(prm.slip_speed * prm.slip_speed);
  for (int a = 0; a < 3; ++a) {
    u[a] = u[a] - un * nh[a];  // now u_T
    ut2 = ut2 + u[a] * u[a];
  }
  const T cdt = in.mu * a_n * T(dt) / sqrt(ut2);
  const T sigma = cdt / (T(1) + cdt);
  for (int a = 0; a < 3; ++a) dp[a] = in.m * (T(dt) * a_n * nh[a] - sigma * u[a]);
}

/// Vector-Jacobian product of pair_momentum: adj_in += (d dp / d in)^T adj_dp
/// (ACCUMULATES), by one Dual evaluation per input scalar.
template <class Real>
PL_HD PL_INLINE void pair_momentum_vjp(const ContactPairInput<Real>& in, const Real (&node_x)[3],
                                       const MpmFemContactParams<Real>& prm, Real dt, Real inv_dx,
                                       const Real (&adj_dp)[3], ContactPairInput<Real>& adj_in) {
  ContactPairInput<Dual<Real>> din;
  for (int i = 0; i < kContactPairInputs; ++i)
    contact_input(din, i) = Dual<Real>(contact_input(in, i));
  for (int i = 0; i < kContactPairInputs; ++i) {
    contact_input(din, i).d = Real(1);
    Dual<Real> dp[3];
    pair_momentum(din, node_x, prm, dt, inv_dx, dp);
    contact_input(din, i).d = Real(0);
    contact_input(adj_in, i) += adj_dp[0] * dp[0].d + adj_dp[1] * dp[1].d + adj_dp[2] * dp[2].d;
  }
}

/// Area-weighted normal share of one triangle (a, b, c) for each of its
/// vertices: n_t / 3 with n_t = 1/2 (b - a) x (c - a) (outward for a
/// counter-clockwise triangle seen from outside).
template <class Real>
PL_HD PL_INLINE void triangle_normal_share(const Real* a, const Real* b, const Real* c, Real (&share)[3]) {
  const Real e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, e2[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
  const Real s = Real(1) / Real(6);
  share[0] = s * (e1[1] * e2[2] - e1[2] * e2[1]);
  share[1] = s * (e1[2] * e2[0] - e1[0] * e2[2]);
  share[2] = s * (e1[0] * e2[1] - e1[1] * e2[0]);
}
/// Its adjoint: given adj_share (dL/d share), ACCUMULATES dL/da, dL/db, dL/dc.
/// d(e1 x e2) . g = de1 . (e2 x g) + de2 . (g x e1).
template <class Real>
PL_HD PL_INLINE void adj_triangle_normal_share(const Real* a, const Real* b, const Real* c, const Real (&adj_share)[3],
                                               Real* adj_a, Real* adj_b, Real* adj_c) {
  const Real e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, e2[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
  const Real s = Real(1) / Real(6);
  const Real* g = adj_share;
  const Real g1[3] = {s * (e2[1] * g[2] - e2[2] * g[1]), s * (e2[2] * g[0] - e2[0] * g[2]), s * (e2[0] * g[1] - e2[1] * g[0])};
  const Real g2[3] = {s * (g[1] * e1[2] - g[2] * e1[1]), s * (g[2] * e1[0] - g[0] * e1[2]), s * (g[0] * e1[1] - g[1] * e1[0])};
  for (int k = 0; k < 3; ++k) {
    adj_b[k] += g1[k];
    adj_c[k] += g2[k];
    adj_a[k] -= g1[k] + g2[k];
  }
}

}  // namespace pl
