// Discrete-shell bending of one hinge (an edge with its two triangles), with
// plastic rest angles.  Energy, gradient, Hessian and their adjoints side by
// side; the geometry of the angle itself is in dihedral_angle.hpp.
//
// Energy (Grinspun et al. 2003, "Discrete Shells", eq. 3, with the stiffness
// of Tamstorf & Grinspun 2013):
//   E = ½ k_b w (θ - θ̄)²,   w = |ē|² / (Ā_A + Ā_B),   k_b = E_Y h³ / (12 (1 - ν²)).
// Grinspun's weight |ē| / h̄_e, with h̄_e a third of the average height of the
// two triangles, equals 3 |ē|² / (Ā_A + Ā_B); we fold the 3 into the constant
// so that k_b is the plate modulus D: a sheet meshed as a grid of right
// triangles and bent into a cylinder of curvature κ stores (D/2) κ² per unit
// area, the Kirchhoff plate energy (tested in test_shell_hinge.cpp).
//
// Derivatives (with g = ∂θ/∂x, H_θ = ∂²θ/∂x², dihedral_angle.hpp):
//   ∂E/∂x   = k_b w (θ - θ̄) g
//   ∂²E/∂x² = k_b w (g gᵀ + (θ - θ̄) H_θ)
// The second term is indefinite; Newton asks for the per-hinge PSD projection.
//
// Plastic bending (ThinShellLab, Wang et al. 2024, plastic hinge model): after
// each step the rest angle follows the angle when the elastic bend exceeds the
// yield angle θ_y:
//   θ̄' = θ - clamp(θ - θ̄, -θ_y, θ_y)   (differences wrapped into [-π, π])
// so a sheet folded past θ_y keeps a crease of θ - θ_y.  Its derivative is
// piecewise constant; at |θ - θ̄| = θ_y it has a kink (one-sided derivatives
// differ), which finite-difference checks must avoid.
//
// Degenerate hinges (hinge_is_degenerate: a triangle thinner than a tiny
// fraction of the edge, or a zero-length edge): the bending direction is
// undefined, so the hinge applies no force and no stiffness there (gradient and
// Hessian zero) while the energy keeps its atan2 value, which stays finite.
// The membrane term resists the collapse; one Newton step later the hinge is
// regular again.
#pragma once

#include "kernels/fem/dihedral_angle.hpp"
#include "kernels/fem/shell_psd_projection.hpp"

namespace pl::fem {

/// θ - θ̄ wrapped into [-π, π]: angles live on a circle, so a hinge whose
/// rest angle is near π (a flat-folded crease) and whose angle passes through
/// ±π sees a small, continuous difference rather than a 2π jump.  The wrap is
/// a locally constant offset, so it does not change any derivative.
template <class Real>
PL_HD inline Real wrapped_angle_difference(Real angle, Real rest_angle) {
  const Real pi = Real(3.14159265358979323846);
  Real d = angle - rest_angle;
  if (d > pi) d -= Real(2) * pi;
  if (d < -pi) d += Real(2) * pi;
  return d;
}

/// D = E h³ / (12 (1 - ν²)) in J (N·m): the plate bending modulus
/// (Timoshenko & Woinowsky-Krieger; Tamstorf & Grinspun 2013 sec. 2).
template <class Real>
PL_HD inline Real plate_bending_stiffness(Real youngs_modulus, Real poisson_ratio, Real thickness) {
  return youngs_modulus * thickness * thickness * thickness / (Real(12) * (Real(1) - poisson_ratio * poisson_ratio));
}

/// Accumulates the VJP of plate_bending_stiffness.
template <class Real>
PL_HD inline void adj_plate_bending_stiffness(Real youngs_modulus, Real poisson_ratio, Real thickness, Real adj_D,
                                              Real& adj_E, Real& adj_nu, Real& adj_h) {
  const Real one_m = Real(1) - poisson_ratio * poisson_ratio;
  const Real h3 = thickness * thickness * thickness;
  adj_E += adj_D * h3 / (Real(12) * one_m);
  adj_h += adj_D * youngs_modulus * Real(3) * thickness * thickness / (Real(12) * one_m);
  adj_nu += adj_D * youngs_modulus * h3 * Real(2) * poisson_ratio / (Real(12) * one_m * one_m);
}

/// w = |ē|² / (Ā_A + Ā_B) from the rest positions.  0 when the rest hinge has
/// no area (the caller rejects such meshes with an InputError).
template <class Real>
PL_HD inline Real hinge_weight(const V3<Real> (&rest)[4]) {
  const V3<Real> e = rest[1] - rest[0];
  const Real area_sum =
      Real(0.5) * (norm(cross(e, rest[2] - rest[0])) + norm(cross(rest[3] - rest[0], e)));
  return area_sum > Real(0) ? squared_norm(e) / area_sum : Real(0);
}

template <class Real>
PL_HD inline Real hinge_energy(const V3<Real> (&x)[4], Real weight, Real stiffness, Real rest_angle) {
  const Real d = wrapped_angle_difference(dihedral_angle(x), rest_angle);
  return Real(0.5) * stiffness * weight * d * d;
}

/// grad[3 v + axis] = ∂E/∂x_v[axis]  (overwritten, 12 entries).
template <class Real>
PL_HD inline void hinge_gradient(const V3<Real> (&x)[4], Real weight, Real stiffness, Real rest_angle,
                                 Real (&grad)[12]) {
  for (int i = 0; i < 12; ++i) grad[i] = Real(0);
  if (hinge_is_degenerate(x)) return;
  V3<Real> g[4];
  dihedral_angle_gradient(x, g);
  const Real s = stiffness * weight * wrapped_angle_difference(dihedral_angle(x), rest_angle);
  for (int v = 0; v < 4; ++v)
    for (int a = 0; a < 3; ++a) grad[3 * v + a] = s * g[v][a];
}

/// hess[3 v + a][3 u + b] = ∂²E/∂x_v[a]∂x_u[b]  (overwritten).  With
/// project_psd, the nearest PSD matrix (shell_psd_projection.hpp).
template <class Real>
PL_HD inline void hinge_hessian(const V3<Real> (&x)[4], Real weight, Real stiffness, Real rest_angle, bool project,
                                Real (&hess)[12][12]) {
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 12; ++j) hess[i][j] = Real(0);
  if (hinge_is_degenerate(x)) return;
  V3<Real> g[4];
  M3<Real> H[4][4];
  dihedral_angle_gradient(x, g);
  dihedral_angle_hessian(x, H);
  const Real kw = stiffness * weight;
  const Real d = wrapped_angle_difference(dihedral_angle(x), rest_angle);
  for (int v = 0; v < 4; ++v)
    for (int a = 0; a < 3; ++a)
      for (int u = 0; u < 4; ++u)
        for (int b = 0; b < 3; ++b) hess[3 * v + a][3 * u + b] = kw * (g[v][a] * g[u][b] + d * H[v][u](a, b));
  // k_b w g gᵀ alone is PSD: at the rest angle there is nothing to project.
  if (project && d != Real(0)) project_psd_translation_invariant<Real, 4>(hess);
}

/// VJPs of the gradient with respect to the stiffness and the rest angle,
/// with w12 a 12-vector (accumulating):
///   adj_stiffness  += w (θ - θ̄) gᵀ w12
///   adj_rest_angle += -k_b w gᵀ w12
template <class Real>
PL_HD inline void hinge_gradient_vjp(const V3<Real> (&x)[4], Real weight, Real stiffness, Real rest_angle,
                                     const Real (&w12)[12], Real& adj_stiffness, Real& adj_rest_angle) {
  if (hinge_is_degenerate(x)) return;
  V3<Real> g[4];
  dihedral_angle_gradient(x, g);
  Real gw = Real(0);
  for (int v = 0; v < 4; ++v)
    for (int a = 0; a < 3; ++a) gw += g[v][a] * w12[3 * v + a];
  adj_stiffness += weight * wrapped_angle_difference(dihedral_angle(x), rest_angle) * gw;
  adj_rest_angle += -stiffness * weight * gw;
}

/// θ̄' = θ - clamp(θ - θ̄, -θ_y, θ_y)  (the plastic rest-angle update).
template <class Real>
PL_HD inline Real plastic_rest_angle(Real angle, Real rest_angle, Real yield_angle) {
  const Real d = wrapped_angle_difference(angle, rest_angle);
  if (d > yield_angle) return wrapped_angle_difference(angle - yield_angle, Real(0));
  if (d < -yield_angle) return wrapped_angle_difference(angle + yield_angle, Real(0));
  return rest_angle;
}

/// Adjoint of plastic_rest_angle (accumulating), the branch chosen as in the
/// forward: yielding passes adj_out to θ (and -sign(d) adj_out to θ_y);
/// elastic passes it to θ̄.
template <class Real>
PL_HD inline void adj_plastic_rest_angle(Real angle, Real rest_angle, Real yield_angle, Real adj_out, Real& adj_angle,
                                         Real& adj_rest_angle, Real& adj_yield_angle) {
  const Real d = wrapped_angle_difference(angle, rest_angle);
  if (d > yield_angle) {
    adj_angle += adj_out;
    adj_yield_angle -= adj_out;
  } else if (d < -yield_angle) {
    adj_angle += adj_out;
    adj_yield_angle += adj_out;
  } else {
    adj_rest_angle += adj_out;
  }
}

}  // namespace pl::fem
