// Ground-plane contact and friction for one FEM vertex (tets and shells alike;
// the file is named for the tet half of the FEM work that owns it).
//
// Model (why: it must serve the explicit integrator, the implicit one and the
// adjoint, so it has to be a smooth function of the positions with no
// feasibility requirement):
//
//   Normal: a C2 cubic penalty on the penetration p = max(0, -(n.x - c)),
//     E_n = m k p^3 / (3 delta)       force m k p^2 / delta,  stiffness 2 m k p / delta.
//   k [1/s^2] is a stiffness per unit vertex mass (so the contact does not
//   change with mesh resolution) and delta [m] the penetration at which the
//   stiffness reaches 2 m k.  An IPC barrier (Li et al. 2020) would guarantee no
//   penetration but needs every iterate to stay feasible, which the explicit
//   integrator and a plain backtracking line search do not guarantee; the
//   penalty's cost is a small, bounded penetration (about sqrt(g delta / k)).
//
//   Friction: IPC's smoothed lazy friction (Li et al. 2020, "Incremental
//   Potential Contact", Sec. 5): with the tangential step u = T (x - x_prev),
//   T = I - n n^T, and the normal force lambda = m k p_prev^2 / delta frozen at
//   the start of the step,
//     D = mu lambda f0(|u|),
//     f0(y) = -y^3/(3 eps^2) + y^2/eps + eps/3  (y < eps),  y  (y >= eps),
//     f1 = f0' = -y^2/eps^2 + 2 y/eps            (y < eps),  1  (y >= eps),
//   eps = slip_speed * dt: below that tangential speed the contact sticks
//   elastically, above it the force is mu lambda (Coulomb).  Its Hessian
//     d^2 D/du^2 = mu lambda (a(y) T + b(y) u u^T),  a = f1(y)/y,  b = a'(y)/y,
//   a = 2/eps - y/eps^2, b u u^T = -u u^T/(eps^2 y) (-> 0 as y -> 0) below eps,
//   a = 1/y, b = -1/y^3 above: eigenvalues a + b y^2 = 2/eps - 2 y/eps^2 >= 0
//   and a > 0 below eps, 0 and 1/y above, so it is PSD everywhere (Newton needs
//   no projection).  The explicit integrator uses the same D with
//   u = dt * T v (the friction force is then the smoothed Coulomb force of the
//   current velocity).
#pragma once

#include "kernels/math/vec.hpp"

namespace pl::fem {

template <class Real>
struct GroundPlane {
  Vec<Real, 3> normal;  // unit, pointing out of the ground
  Real offset;          // plane: normal . x = offset
  Real stiffness;       // k [1/s^2], per unit vertex mass
  Real delta;           // [m]
  Real friction;        // mu
  Real slip_eps;        // eps = slip_speed * dt [m]
};

template <class Real>
PL_HD PL_INLINE Real ground_penetration(const GroundPlane<Real>& g, const Vec<Real, 3>& x) {
  const Real d = dot(g.normal, x) - g.offset;
  return d < Real(0) ? -d : Real(0);
}

/// E_n for a vertex of mass m.
template <class Real>
PL_HD PL_INLINE Real ground_normal_energy(const GroundPlane<Real>& g, Real m, const Vec<Real, 3>& x) {
  const Real p = ground_penetration(g, x);
  return m * g.stiffness * p * p * p / (Real(3) * g.delta);
}
/// dE_n/dx = -m k p^2/delta n.
template <class Real>
PL_HD PL_INLINE Vec<Real, 3> ground_normal_gradient(const GroundPlane<Real>& g, Real m, const Vec<Real, 3>& x) {
  const Real p = ground_penetration(g, x);
  return (-m * g.stiffness * p * p / g.delta) * g.normal;
}
/// Scalar c with d^2E_n/dx^2 = c n n^T (c = 2 m k p / delta).
template <class Real>
PL_HD PL_INLINE Real ground_normal_curvature(const GroundPlane<Real>& g, Real m, const Vec<Real, 3>& x) {
  return Real(2) * m * g.stiffness * ground_penetration(g, x) / g.delta;
}
/// Normal force magnitude lambda = m k p^2 / delta (frozen for friction).
template <class Real>
PL_HD PL_INLINE Real ground_normal_force(const GroundPlane<Real>& g, Real m, const Vec<Real, 3>& x) {
  const Real p = ground_penetration(g, x);
  return m * g.stiffness * p * p / g.delta;
}
/// d lambda / dx = -2 m k p / delta n.
template <class Real>
PL_HD PL_INLINE Vec<Real, 3> ground_normal_force_gradient(const GroundPlane<Real>& g, Real m, const Vec<Real, 3>& x) {
  return (Real(-2) * m * g.stiffness * ground_penetration(g, x) / g.delta) * g.normal;
}

/// Tangential part T u.
template <class Real>
PL_HD PL_INLINE Vec<Real, 3> tangential(const GroundPlane<Real>& g, const Vec<Real, 3>& u) {
  return u - dot(g.normal, u) * g.normal;
}

/// f0 of the header.
template <class Real>
PL_HD PL_INLINE Real friction_f0(Real y, Real eps) {
  return y < eps ? -y * y * y / (Real(3) * eps * eps) + y * y / eps + eps / Real(3) : y;
}
/// a(y) = f1(y)/y (finite at 0: 2/eps).
template <class Real>
PL_HD PL_INLINE Real friction_a(Real y, Real eps) {
  return y < eps ? Real(2) / eps - y / (eps * eps) : Real(1) / y;
}
/// b(y) y (so that b u u^T = (b y) (u/y)(u/y)^T y; returned as the factor of u u^T / y).
/// Below eps: -1/eps^2; above: -1/y^2.
template <class Real>
PL_HD PL_INLINE Real friction_b_times_y(Real y, Real eps) {
  return y < eps ? Real(-1) / (eps * eps) : Real(-1) / (y * y);
}

/// D = mu lambda f0(|u_T|) (u any step; only its tangential part counts).
template <class Real>
PL_HD PL_INLINE Real friction_energy(const GroundPlane<Real>& g, Real lambda, const Vec<Real, 3>& u) {
  return g.friction * lambda * friction_f0(norm(tangential(g, u)), g.slip_eps);
}
/// dD/du = mu lambda a(y) u_T.
template <class Real>
PL_HD PL_INLINE Vec<Real, 3> friction_gradient(const GroundPlane<Real>& g, Real lambda, const Vec<Real, 3>& u) {
  const Vec<Real, 3> ut = tangential(g, u);
  return (g.friction * lambda * friction_a(norm(ut), g.slip_eps)) * ut;
}
/// (d^2 D/du^2) w = mu lambda (a T w + b (u_T . w) u_T).
template <class Real>
PL_HD PL_INLINE Vec<Real, 3> friction_hessian_vector(const GroundPlane<Real>& g, Real lambda, const Vec<Real, 3>& u,
                                                     const Vec<Real, 3>& w) {
  const Vec<Real, 3> ut = tangential(g, u);
  const Real y = norm(ut);
  Vec<Real, 3> r = friction_a(y, g.slip_eps) * tangential(g, w);
  if (y > Real(0)) r += (friction_b_times_y(y, g.slip_eps) * dot(ut, w) / y) * ut;
  return (g.friction * lambda) * r;
}

}  // namespace pl::fem
