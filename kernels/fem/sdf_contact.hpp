// Penalty contact of one FEM vertex against a static sphere: the same C2 cubic
// penalty as the ground plane (kernels/fem/tet_ground_contact.hpp), with the
// plane's signed distance replaced by the sphere's, phi(x) = |x - c| - r
// (sdf_primitives.hpp, "sphere").
//
//   p = max(0, -phi),  E = m k p^3 / (3 delta),
//   dE/dx = -m k p^2 / delta * n,                 n = (x - c)/|x - c|,
//   d2E/dx2 = 2 m k p / delta * n n^T - m k p^2 / delta * (I - n n^T)/|x - c|,
// the last term from dn/dx = (I - n n^T)/|x - c| (the sphere's curvature).
// That curvature term is negative semi-definite (pushing a vertex inside the
// sphere sideways lowers its penetration), so the PSD projection Newton asks
// for drops it; the adjoint uses the exact Hessian.
#pragma once

#include <cmath>

#include "kernels/math/vec.hpp"

namespace pl::fem {

template <class Real>
struct SphereCollider {
  Vec<Real, 3> center;  // [m]
  Real radius;          // [m]
  Real stiffness;       // k [1/s^2], per unit vertex mass
  Real delta;           // [m]
};

/// Penetration p and outward unit normal n (undefined at the centre: +y).
template <class Real>
PL_HD PL_INLINE Real sphere_penetration(const SphereCollider<Real>& s, const Vec<Real, 3>& x, Vec<Real, 3>& n,
                                        Real& dist) {
  const Vec<Real, 3> d = x - s.center;
  dist = norm(d);
  if (dist > Real(0)) {
    n = (Real(1) / dist) * d;
  } else {
    n = Vec<Real, 3>{Real(0), Real(1), Real(0)};
  }
  const Real phi = dist - s.radius;
  return phi < Real(0) ? -phi : Real(0);
}

template <class Real>
PL_HD PL_INLINE Real sphere_contact_energy(const SphereCollider<Real>& s, Real m, const Vec<Real, 3>& x) {
  Vec<Real, 3> n;
  Real dist;
  const Real p = sphere_penetration(s, x, n, dist);
  return m * s.stiffness * p * p * p / (Real(3) * s.delta);
}

template <class Real>
PL_HD PL_INLINE Vec<Real, 3> sphere_contact_gradient(const SphereCollider<Real>& s, Real m, const Vec<Real, 3>& x) {
  Vec<Real, 3> n;
  Real dist;
  const Real p = sphere_penetration(s, x, n, dist);
  return (-m * s.stiffness * p * p / s.delta) * n;
}

/// The 3x3 Hessian, row-major into h[9]; with project_psd the (negative)
/// curvature term is dropped.
template <class Real>
PL_HD PL_INLINE void sphere_contact_hessian(const SphereCollider<Real>& s, Real m, const Vec<Real, 3>& x,
                                            bool project_psd, Real* h) {
  Vec<Real, 3> n;
  Real dist;
  const Real p = sphere_penetration(s, x, n, dist);
  const Real a = Real(2) * m * s.stiffness * p / s.delta;
  const Real b = (project_psd || !(dist > Real(0))) ? Real(0) : -m * s.stiffness * p * p / (s.delta * dist);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) h[3 * i + j] = (a - b) * n[i] * n[j] + (i == j ? b : Real(0));
}

}  // namespace pl::fem
