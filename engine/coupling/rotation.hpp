// Rotations for tool kinematics (host side, double precision): Euler angles,
// the exponential map (Rodrigues), its inverse, quaternions and slerp.
//
// Sources: Rodrigues' formula R = I + sin(t) K + (1 - cos(t)) K^2 with K the
// cross-product matrix of the unit axis (e.g. Murray, Li & Sastry, "A
// Mathematical Introduction to Robotic Manipulation", 1994, eq. 2.14); slerp
// (Shoemake, "Animating rotation with quaternion curves", SIGGRAPH 1985).
// exp_map is templated on its scalar so that a Dual evaluation gives its
// derivative with respect to the rotation vector (tool.cpp's adjoint).
#pragma once

#include <array>
#include <cmath>

#include "kernels/coupling/dual.hpp"
#include "kernels/math/mat.hpp"

namespace pl::rotation {

/// R = Rz(z) Ry(y) Rx(x), angles in degrees (the convention of mesh
/// transforms, engine/geometry/triangle_mesh.hpp).
Mat<double, 3> from_euler_deg(const std::array<double, 3>& xyz_deg);
/// 2D rotation by `angle` radians.
Mat<double, 2> planar(double angle);

inline double sin_of(double t) { return std::sin(t); }
inline double cos_of(double t) { return std::cos(t); }
inline Dual<double> sin_of(const Dual<double>& t) { return {std::sin(t.v), std::cos(t.v) * t.d}; }
inline Dual<double> cos_of(const Dual<double>& t) { return {std::cos(t.v), -std::sin(t.v) * t.d}; }

/// exp([w]x): rotation by |w| radians about w / |w|.  Near w = 0 the
/// coefficients sin(t)/t and (1 - cos t)/t^2 switch to their Taylor series.
template <class T>
Mat<T, 3> exp_map(const Vec<T, 3>& w) {
  const T t2 = dot(w, w);
  T a, b;  // sin(t)/t, (1 - cos t)/t^2
  if (value_of(t2) < 1e-12) {
    a = T(1.0) - t2 * T(1.0 / 6.0);
    b = T(0.5) - t2 * T(1.0 / 24.0);
  } else {
    const T t = sqrt(t2);
    a = sin_of(t) / t;
    b = (T(1.0) - cos_of(t)) / t2;
  }
  Mat<T, 3> K = Mat<T, 3>::zero();
  K(0, 1) = -w[2], K(0, 2) = w[1];
  K(1, 0) = w[2], K(1, 2) = -w[0];
  K(2, 0) = -w[1], K(2, 1) = w[0];
  Mat<T, 3> R = Mat<T, 3>::identity();
  const Mat<T, 3> K2 = K * K;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) R(i, j) = R(i, j) + a * K(i, j) + b * K2(i, j);
  return R;
}

/// The rotation vector w with exp_map(w) = R (|w| <= pi).
Vec<double, 3> log_map(const Mat<double, 3>& R);

/// Unit quaternion (w, x, y, z) <-> rotation matrix.
std::array<double, 4> to_quaternion(const Mat<double, 3>& R);
Mat<double, 3> from_quaternion(const std::array<double, 4>& q);
/// Spherical linear interpolation along the shorter arc, s in [0, 1].
std::array<double, 4> slerp(std::array<double, 4> a, const std::array<double, 4>& b, double s);

}  // namespace pl::rotation
