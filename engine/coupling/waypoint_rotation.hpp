// The rotation of a waypoint trajectory, templated on its scalar so that one
// evaluation with Dual<double> gives its derivative with respect to a
// rotation perturbation of one key: the adjoint of Tool's waypoint rotations
// (tool.cpp) evaluates the slerp, the rotation matrix and the substep's
// angular velocity once per key and axis, instead of differentiating acos,
// slerp and the logarithm by hand.
//
// Conventions (the same as rotation.cpp): unit quaternions (w, x, y, z) with
// the Hamilton product, R(p q) = R(p) R(q).  A key perturbed by delta,
// R_k -> exp([delta]x) R_k, has the quaternion q(delta) q_k with
// q(delta) = (cos(|delta|/2), sin(|delta|/2) delta/|delta|) = (1, delta/2) + O(delta^2),
// so the tangent along axis a is (0, e_a / 2) q_k.
//
// Sources: slerp (Shoemake 1985) along the shorter arc, linear (renormalized)
// when the keys nearly coincide, exactly as rotation::slerp; the rotation
// vector of a quaternion, 2 atan2(|v|, w) v / |v| (e.g. Sola, "Quaternion
// kinematics for the error-state Kalman filter", 2017, eq. 105), with the
// series atan(z)/z = 1 - z^2/3 for tiny |v| so that its derivative stays finite
// when two substeps share a rotation.
#pragma once

#include <array>
#include <cmath>

#include "kernels/coupling/dual.hpp"
#include "kernels/math/mat.hpp"

namespace pl::waypoint_rotation {

template <class T>
using Quat = std::array<T, 4>;

inline double acos_of(double c) { return std::acos(c); }
inline Dual<double> acos_of(const Dual<double>& c) { return {std::acos(c.v), -c.d / std::sqrt(1 - c.v * c.v)}; }
inline double sin_of(double t) { return std::sin(t); }
inline Dual<double> sin_of(const Dual<double>& t) { return {std::sin(t.v), std::cos(t.v) * t.d}; }
inline double atan2_of(double y, double x) { return std::atan2(y, x); }
inline Dual<double> atan2_of(const Dual<double>& y, const Dual<double>& x) {
  const double r2 = x.v * x.v + y.v * y.v;
  return {std::atan2(y.v, x.v), (x.v * y.d - y.v * x.d) / r2};
}

/// Hamilton product p q.
template <class T>
Quat<T> multiply(const Quat<T>& p, const Quat<T>& q) {
  return {p[0] * q[0] - p[1] * q[1] - p[2] * q[2] - p[3] * q[3], p[0] * q[1] + p[1] * q[0] + p[2] * q[3] - p[3] * q[2],
          p[0] * q[2] - p[1] * q[3] + p[2] * q[0] + p[3] * q[1], p[0] * q[3] + p[1] * q[2] - p[2] * q[1] + p[3] * q[0]};
}

template <class T>
Quat<T> conjugate(const Quat<T>& q) {
  return {q[0], -q[1], -q[2], -q[3]};
}

/// q as a Dual quaternion whose tangent is the perturbation exp([eps e_axis]x) R_q.
inline Quat<Dual<double>> perturbed(const Quat<double>& q, int axis) {
  Quat<double> e{0, 0, 0, 0};
  e[std::size_t(axis) + 1] = 0.5;
  const Quat<double> t = multiply(e, q);
  Quat<Dual<double>> out;
  for (int i = 0; i < 4; ++i) out[std::size_t(i)] = Dual<double>(q[std::size_t(i)], t[std::size_t(i)]);
  return out;
}

inline Quat<Dual<double>> constant(const Quat<double>& q) {
  return {Dual<double>(q[0]), Dual<double>(q[1]), Dual<double>(q[2]), Dual<double>(q[3])};
}

/// rotation::slerp for any scalar (same branches, same thresholds).
template <class T>
Quat<T> slerp(Quat<T> a, const Quat<T>& b, double s) {
  T c = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  if (value_of(c) < 0) {
    for (T& x : a) x = -x;
    c = -c;
  }
  Quat<T> q;
  if (value_of(c) > 1 - 1e-12) {
    for (int i = 0; i < 4; ++i) q[std::size_t(i)] = a[std::size_t(i)] + T(s) * (b[std::size_t(i)] - a[std::size_t(i)]);
  } else {
    const T theta = acos_of(c);
    const T st = sin_of(theta);
    const T wa = sin_of(T(1 - s) * theta) / st, wb = sin_of(T(s) * theta) / st;
    for (int i = 0; i < 4; ++i) q[std::size_t(i)] = wa * a[std::size_t(i)] + wb * b[std::size_t(i)];
  }
  const T n = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (T& x : q) x = x / n;
  return q;
}

/// rotation::from_quaternion for any scalar (unit q).
template <class T>
Mat<T, 3> matrix(const Quat<T>& q) {
  const T w = q[0], x = q[1], y = q[2], z = q[3];
  const T one(1.0), two(2.0);
  Mat<T, 3> R;
  R(0, 0) = one - two * (y * y + z * z), R(0, 1) = two * (x * y - w * z), R(0, 2) = two * (x * z + w * y);
  R(1, 0) = two * (x * y + w * z), R(1, 1) = one - two * (x * x + z * z), R(1, 2) = two * (y * z - w * x);
  R(2, 0) = two * (x * z - w * y), R(2, 1) = two * (y * z + w * x), R(2, 2) = one - two * (x * x + y * y);
  return R;
}

/// Rotation vector of the unit quaternion q (the shorter way, |result| <= pi).
template <class T>
Vec<T, 3> log(Quat<T> q) {
  if (value_of(q[0]) < 0)
    for (T& x : q) x = -x;
  const T s2 = q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
  T f;  // angle / |v| = 2 atan2(|v|, w) / |v|
  if (value_of(s2) < 1e-16 * value_of(q[0] * q[0])) {
    f = T(2.0) / q[0] * (T(1.0) - s2 / (T(3.0) * q[0] * q[0]));
  } else {
    const T s = sqrt(s2);
    f = T(2.0) * atan2_of(s, q[0]) / s;
  }
  return {{f * q[1], f * q[2], f * q[3]}};
}

}  // namespace pl::waypoint_rotation
