#include "engine/coupling/rotation.hpp"

#include <algorithm>

namespace pl::rotation {

Mat<double, 3> from_euler_deg(const std::array<double, 3>& xyz_deg) {
  const double k = M_PI / 180.0;
  const double a = xyz_deg[0] * k, b = xyz_deg[1] * k, c = xyz_deg[2] * k;
  Mat<double, 3> rx = Mat<double, 3>::identity(), ry = rx, rz = rx;
  rx(1, 1) = std::cos(a), rx(1, 2) = -std::sin(a), rx(2, 1) = std::sin(a), rx(2, 2) = std::cos(a);
  ry(0, 0) = std::cos(b), ry(0, 2) = std::sin(b), ry(2, 0) = -std::sin(b), ry(2, 2) = std::cos(b);
  rz(0, 0) = std::cos(c), rz(0, 1) = -std::sin(c), rz(1, 0) = std::sin(c), rz(1, 1) = std::cos(c);
  return rz * ry * rx;
}

Mat<double, 2> planar(double angle) {
  Mat<double, 2> r;
  r(0, 0) = std::cos(angle), r(0, 1) = -std::sin(angle);
  r(1, 0) = std::sin(angle), r(1, 1) = std::cos(angle);
  return r;
}

// Through the quaternion (robust near pi, unlike acos of the trace alone).
Vec<double, 3> log_map(const Mat<double, 3>& R) {
  std::array<double, 4> q = to_quaternion(R);
  if (q[0] < 0)
    for (double& c : q) c = -c;
  const double s = std::sqrt(q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  const double angle = 2.0 * std::atan2(s, q[0]);
  const double f = s > 1e-12 ? angle / s : 2.0;  // angle / sin(angle / 2) -> 2
  return {{f * q[1], f * q[2], f * q[3]}};
}

// Shepperd's method: pick the largest of w, x, y, z to divide by.
std::array<double, 4> to_quaternion(const Mat<double, 3>& R) {
  const double tr = R(0, 0) + R(1, 1) + R(2, 2);
  std::array<double, 4> q;
  if (tr > 0) {
    const double s = std::sqrt(tr + 1.0) * 2;
    q = {0.25 * s, (R(2, 1) - R(1, 2)) / s, (R(0, 2) - R(2, 0)) / s, (R(1, 0) - R(0, 1)) / s};
  } else if (R(0, 0) > R(1, 1) && R(0, 0) > R(2, 2)) {
    const double s = std::sqrt(1.0 + R(0, 0) - R(1, 1) - R(2, 2)) * 2;
    q = {(R(2, 1) - R(1, 2)) / s, 0.25 * s, (R(0, 1) + R(1, 0)) / s, (R(0, 2) + R(2, 0)) / s};
  } else if (R(1, 1) > R(2, 2)) {
    const double s = std::sqrt(1.0 + R(1, 1) - R(0, 0) - R(2, 2)) * 2;
    q = {(R(0, 2) - R(2, 0)) / s, (R(0, 1) + R(1, 0)) / s, 0.25 * s, (R(1, 2) + R(2, 1)) / s};
  } else {
    const double s = std::sqrt(1.0 + R(2, 2) - R(0, 0) - R(1, 1)) * 2;
    q = {(R(1, 0) - R(0, 1)) / s, (R(0, 2) + R(2, 0)) / s, (R(1, 2) + R(2, 1)) / s, 0.25 * s};
  }
  return q;
}

Mat<double, 3> from_quaternion(const std::array<double, 4>& q) {
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  Mat<double, 3> R;
  R(0, 0) = 1 - 2 * (y * y + z * z), R(0, 1) = 2 * (x * y - w * z), R(0, 2) = 2 * (x * z + w * y);
  R(1, 0) = 2 * (x * y + w * z), R(1, 1) = 1 - 2 * (x * x + z * z), R(1, 2) = 2 * (y * z - w * x);
  R(2, 0) = 2 * (x * z - w * y), R(2, 1) = 2 * (y * z + w * x), R(2, 2) = 1 - 2 * (x * x + y * y);
  return R;
}

std::array<double, 4> slerp(std::array<double, 4> a, const std::array<double, 4>& b, double s) {
  double c = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  if (c < 0) {  // the shorter arc
    for (double& x : a) x = -x;
    c = -c;
  }
  std::array<double, 4> q;
  if (c > 1 - 1e-12) {  // nearly equal: linear, renormalized below
    for (int i = 0; i < 4; ++i) q[i] = a[i] + s * (b[i] - a[i]);
  } else {
    const double theta = std::acos(std::min(1.0, c));
    const double wa = std::sin((1 - s) * theta) / std::sin(theta), wb = std::sin(s * theta) / std::sin(theta);
    for (int i = 0; i < 4; ++i) q[i] = wa * a[i] + wb * b[i];
  }
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (double& x : q) x /= n;
  return q;
}

}  // namespace pl::rotation
