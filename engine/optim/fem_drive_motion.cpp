#include "engine/optim/fem_drive_motion.hpp"

#include <algorithm>
#include <cmath>

namespace pl::optim {

std::vector<double> waypoint_weights(int K, double s) {
  std::vector<double> w(std::size_t(K) + 1, 0.0);
  if (K < 1 || !(s > 0)) return w;  // before the start: the rest pose q_0 = 0
  if (s >= K) {
    w[std::size_t(K)] = 1;
    return w;
  }
  const int i = std::min(int(std::floor(s)), K - 1);
  const double u = s - i, u2 = u * u, u3 = u2 * u;
  const double h00 = 2 * u3 - 3 * u2 + 1, h10 = u3 - 2 * u2 + u, h01 = -2 * u3 + 3 * u2, h11 = u3 - u2;
  w[std::size_t(i)] += h00;
  w[std::size_t(i) + 1] += h01;
  // Tangent m_j = (q_{j+1} - q_{j-1}) / 2 for 0 < j < K; m_0 = m_K = 0.
  const auto tangent = [&](int j, double h) {
    if (j <= 0 || j >= K) return;
    w[std::size_t(j) + 1] += 0.5 * h;
    w[std::size_t(j) - 1] -= 0.5 * h;
  };
  tangent(i, h10);
  tangent(i + 1, h11);
  return w;
}

std::array<double, 3> rotate_about(const std::array<double, 3>& x, const std::array<double, 3>& c,
                                   const std::array<double, 3>& k, double theta) {
  const std::array<double, 3> r{x[0] - c[0], x[1] - c[1], x[2] - c[2]};
  const double co = std::cos(theta), si = std::sin(theta);
  const double kr = k[0] * r[0] + k[1] * r[1] + k[2] * r[2];
  const std::array<double, 3> kxr{k[1] * r[2] - k[2] * r[1], k[2] * r[0] - k[0] * r[2], k[0] * r[1] - k[1] * r[0]};
  std::array<double, 3> y;
  for (std::size_t a = 0; a < 3; ++a) y[a] = r[a] * co + kxr[a] * si + k[a] * kr * (1 - co);
  return y;
}

// issue 7 (opt_grasp) begin
DrivePose drive_pose(const double* values, int K, bool translate, double s) {
  const int stride = translate ? 4 : 1;
  const std::vector<double> w = waypoint_weights(K, s);
  DrivePose q;
  for (int j = 1; j <= K; ++j) {
    const double* v = values + (j - 1) * stride;
    q.theta += w[std::size_t(j)] * v[0];
    if (translate)
      for (std::size_t a = 0; a < 3; ++a) q.d[a] += w[std::size_t(j)] * v[1 + a];
  }
  return q;
}

void add_drive_pose_gradient(int K, bool translate, double s, const DrivePose& g, double* grad) {
  const int stride = translate ? 4 : 1;
  const std::vector<double> w = waypoint_weights(K, s);
  for (int j = 1; j <= K; ++j) {
    double* o = grad + (j - 1) * stride;
    o[0] += w[std::size_t(j)] * g.theta;
    if (translate)
      for (std::size_t a = 0; a < 3; ++a) o[1 + a] += w[std::size_t(j)] * g.d[a];
  }
}
// issue 7 (opt_grasp) end

// issue 7 (replay_fem) begin
std::array<double, 3> fem_drive_target(const scene::FemBodyDesc& b, const double* values, int K, bool translate,
                                       const std::array<double, 3>& rest, double t) {
  const double s = K * (t - b.drive_start) / (b.drive_end - b.drive_start);
  const DrivePose q = drive_pose(values, K, translate, s);
  const std::array<double, 3> y = rotate_about(rest, b.drive_point, b.drive_axis, q.theta);
  std::array<double, 3> out;
  for (std::size_t a = 0; a < 3; ++a) out[a] = b.drive_point[a] + y[a] + q.d[a];
  return out;
}
// issue 7 (replay_fem) end

}  // namespace pl::optim
