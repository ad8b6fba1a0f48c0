// Gradients with respect to the rotations of waypoint keys (R_k ->
// exp([delta]x) R_k through the eased slerp and the substep's angular
// velocity, engine/coupling/tool.cpp) against central differences of a short
// rollout, in double.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/coupling/rotation.hpp"
#include "tests/coupling/tool_rollout_fixture.hpp"

namespace pl {
namespace {

using test::central_difference;
using test::run_tool_rollout;
using test::ToolRolloutCase;

/// Euler XYZ angles [deg] of R = Rz Ry Rx (away from gimbal lock).
std::array<double, 3> euler_deg(const Mat<double, 3>& R) {
  const double k = 180.0 / M_PI;
  return {std::atan2(R(2, 1), R(2, 2)) * k, std::asin(-R(2, 0)) * k, std::atan2(R(1, 0), R(0, 0)) * k};
}

void expect_close(double adjoint, double fd, const std::string& what) {
  const double err = std::abs(adjoint - fd) / std::max(1e-6, std::abs(fd));
  EXPECT_LT(err, 1e-6) << what << ": adjoint " << adjoint << ", finite difference " << fd;
}

template <int D>
ToolSpec<D> rotating_capsule() {
  ToolSpec<D> spec;
  spec.name = "paddle";
  spec.shape = ToolShape::Capsule;  // not round: its rotation moves material
  spec.radius = 0.06;
  spec.half_height = 0.12;
  spec.mode = ContactMode::Soft;
  spec.friction = 0.3;
  spec.stiffness = 2e4;
  spec.softness = 0.01;
  spec.smoothing = 0.05;
  spec.motion = ToolMotion::Waypoints;
  return spec;
}

TEST(ToolWaypointRotation, GradientsMatchFiniteDifferences3D) {
  ToolSpec<3> spec = rotating_capsule<3>();
  // Three keys sweeping the capsule through the block's face; the substeps
  // (dt = 2 ms, 8 of them) span both segments and the hold after the last key.
  // (About 20 degrees per key: fast, yet within the grid speed limit of half a cell per substep.)
  spec.waypoints = {{0.0, {0.33, 0.5, 0.5}, {10, 20, 5}},
                    {0.006, {0.35, 0.5, 0.5}, {18, 12, 25}},
                    {0.012, {0.36, 0.51, 0.49}, {14, 4, 40}}};
  ToolRolloutCase<3> c;
  const auto base = run_tool_rollout<3>(spec, c, true);
  const auto& g = base.grad.tools.at(0).waypoint_rotations;
  ASSERT_EQ(g.size(), 3u);
  double largest = 0;
  for (std::size_t k = 0; k < 3; ++k)
    for (int a = 0; a < 3; ++a) {
      const double fd = central_difference<3>(spec, c, 1e-6, [&](ToolSpec<3>& s, ToolRolloutCase<3>&, double h) {
        Vec<double, 3> delta = Vec<double, 3>::zero();
        delta[a] = h;
        s.waypoints[k].rotation_deg =
            euler_deg(rotation::exp_map(delta) * rotation::from_euler_deg(s.waypoints[k].rotation_deg));
      });
      expect_close(g[k][std::size_t(a)], fd, "key " + std::to_string(k) + " axis " + std::to_string(a));
      largest = std::max(largest, std::abs(fd));
    }
  EXPECT_GT(largest, 1e-3) << "the rotations hardly matter: the test checks nothing";
}

TEST(ToolWaypointRotation, GradientsMatchFiniteDifferences2D) {
  ToolSpec<2> spec = rotating_capsule<2>();
  spec.waypoints = {{0.0, {0.33, 0.5}, {10, 0, 0}}, {0.008, {0.35, 0.5}, {30, 0, 0}}, {0.02, {0.36, 0.52}, {50, 0, 0}}};
  ToolRolloutCase<2> c;
  c.steps = 12;
  const auto base = run_tool_rollout<2>(spec, c, true);
  const auto& g = base.grad.tools.at(0).waypoint_rotations;
  ASSERT_EQ(g.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const double fd = central_difference<2>(spec, c, 1e-6, [&](ToolSpec<2>& s, ToolRolloutCase<2>&, double h) {
      s.waypoints[k].rotation_deg[0] += h * 180.0 / M_PI;  // the gradient is per radian
    });
    expect_close(g[k][0], fd, "key " + std::to_string(k));
    EXPECT_GT(std::abs(fd), 1e-4) << "key " << k;
  }
}

}  // namespace
}  // namespace pl
