// Signed distance functions of rigid tool shapes, with their gradients, in
// the tool's local frame (negative inside the solid).
//
// Every function is templated on its scalar T, which is Real in the forward
// pass and Dual<Real> (kernels/coupling/dual.hpp) in the adjoint: evaluating
// the gradient with a dual query point gives the Hessian-vector product the
// adjoint of the contact normal needs, without hand-written Hessians.
// Derivatives with respect to the tool pose follow from the chain rule through
// x_local = R^T (x - c) (grid_tool_collision.hpp).
//
// Shapes (local frame; the "axis" of capsule, cylinder and plane is local y):
//   box          half extents h:         q = |p| - h,
//                phi = |max(q, 0)| + min(max_i q_i, 0)
//   sphere       radius r:               phi = |p| - r
//   capsule      radius r, half length l: phi = |p - clamp(p_y, -l, l) e_y| - r
//   cylinder     radius r, half height l: d = (rho - r, |p_y| - l),
//                phi = min(max(d0, d1), 0) + |max(d, 0)|   (rho: distance to the
//                axis; in 2D the cylinder is the rectangle |p_x| <= r, |p_y| <= l)
//   plane        the half-space p_y <= 0: phi = p_y
//   rounded box  box with half extents h - r, inflated by r: phi = box(p, h - r) - r
//   mesh         trilinear samples of a narrow-band grid (sdf_grid.hpp)
// Source: the standard exact distance functions, e.g. I. Quilez, "distance
// functions" (iquilezles.org/articles/distfunctions) for box, capsule and
// capped cylinder; the gradients are their analytic derivatives (the unit
// vector to the nearest surface point).  On the medial axis (several nearest
// faces), the first axis in order wins: a one-sided, deterministic choice.
#pragma once

#include "kernels/coupling/dual.hpp"
#include "kernels/coupling/sdf_grid.hpp"
#include "kernels/math/vec.hpp"

namespace pl {

enum class ToolShape : int { Box = 0, Sphere = 1, Capsule = 2, Cylinder = 3, Plane = 4, RoundedBox = 5, Mesh = 6 };

/// A tool's shape in its local frame.  Which fields matter depends on `shape`.
template <class Real, int D>
struct ToolGeometry {
  ToolShape shape;
  Vec<Real, D> half;  // box / rounded box half extents [m]
  Real radius;        // sphere, capsule, cylinder radius; rounded box corner radius [m]
  Real half_height;   // capsule segment / cylinder half length along local y [m]
  SdfGridView<Real> grid;  // mesh tools (3D)
};

namespace sdf_detail {

template <class T>
PL_HD PL_INLINE T sign_of(const T& x) {
  return x < T(0) ? T(-1) : T(1);
}

/// Box with half extents h (Real) at point p (T).  Writes the gradient.
template <class T, class Real, int D>
PL_HD PL_INLINE T box(const Vec<Real, D>& h, const Vec<T, D>& p, Vec<T, D>& grad) {
  Vec<T, D> q;
  bool outside = false;
  int k = 0;
  for (int a = 0; a < D; ++a) {
    q[a] = fabs(p[a]) - T(h[a]);
    if (q[a] > T(0)) outside = true;
    if (q[a] > q[k]) k = a;
  }
  if (outside) {
    T len2 = T(0);
    for (int a = 0; a < D; ++a) {
      if (!(q[a] > T(0))) q[a] = T(0);
      len2 += q[a] * q[a];
    }
    const T len = sqrt(len2);
    for (int a = 0; a < D; ++a) grad[a] = sign_of(p[a]) * q[a] / len;
    return len;
  }
  for (int a = 0; a < D; ++a) grad[a] = T(0);
  grad[k] = sign_of(p[k]);
  return q[k];
}

/// |w| with its unit direction; `fallback` when w is zero.
template <class T, int D>
PL_HD PL_INLINE T length_dir(const Vec<T, D>& w, Vec<T, D>& dir, int fallback_axis) {
  const T len2 = dot(w, w);
  if (!(len2 > T(0))) {
    for (int a = 0; a < D; ++a) dir[a] = T(0);
    dir[fallback_axis] = T(1);
    return T(0);
  }
  const T len = sqrt(len2);
  for (int a = 0; a < D; ++a) dir[a] = w[a] / len;
  return len;
}

template <class T, class Real, int D>
PL_HD PL_INLINE T cylinder(Real radius, Real half_height, const Vec<T, D>& p, Vec<T, D>& grad) {
  Vec<T, D> radial_vec = p;  // p minus its axial part
  radial_vec[1] = T(0);
  Vec<T, D> radial;
  const T rho = length_dir(radial_vec, radial, 0);
  const T d0 = rho - T(radius);
  const T d1 = fabs(p[1]) - T(half_height);
  const T s1 = sign_of(p[1]);
  if (d0 > T(0) || d1 > T(0)) {
    const T e0 = d0 > T(0) ? d0 : T(0);
    const T e1 = d1 > T(0) ? d1 : T(0);
    const T len = sqrt(e0 * e0 + e1 * e1);
    for (int a = 0; a < D; ++a) grad[a] = e0 * radial[a] / len;
    grad[1] += e1 * s1 / len;
    return len;
  }
  if (d0 > d1) {
    grad = radial;
    return d0;
  }
  for (int a = 0; a < D; ++a) grad[a] = T(0);
  grad[1] = s1;
  return d1;
}

}  // namespace sdf_detail

/// Signed distance [m] of local point p to the tool surface (negative inside),
/// and its gradient with respect to p in `grad` (unit length except on the
/// mesh sampler, whose trilinear gradient is only approximately unit).
template <class T, class Real, int D>
PL_HD PL_INLINE T tool_sdf(const ToolGeometry<Real, D>& g, const Vec<T, D>& p, Vec<T, D>& grad) {
  switch (g.shape) {
    case ToolShape::Box:
      return sdf_detail::box(g.half, p, grad);
    case ToolShape::Sphere:
      return sdf_detail::length_dir(p, grad, 1) - T(g.radius);
    case ToolShape::Capsule: {
      Vec<T, D> w = p;
      const T l = T(g.half_height);
      w[1] = p[1] > l ? p[1] - l : (p[1] < -l ? p[1] + l : T(0));
      return sdf_detail::length_dir(w, grad, 0) - T(g.radius);
    }
    case ToolShape::Cylinder:
      return sdf_detail::cylinder(g.radius, g.half_height, p, grad);
    case ToolShape::Plane:
      for (int a = 0; a < D; ++a) grad[a] = T(0);
      grad[1] = T(1);
      return p[1];
    case ToolShape::RoundedBox: {
      Vec<Real, D> inner = g.half;
      for (int a = 0; a < D; ++a) inner[a] -= g.radius;
      return sdf_detail::box(inner, p, grad) - T(g.radius);
    }
    case ToolShape::Mesh:
      return sample_sdf_grid(g.grid, p, grad);
  }
  for (int a = 0; a < D; ++a) grad[a] = T(0);
  return T(1e30);
}

}  // namespace pl
