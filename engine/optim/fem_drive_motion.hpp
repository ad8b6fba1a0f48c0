// The motion an `fem_drive` control gives an FEM body's drive group (issue 7,
// task "Fold"): a few waypoints, each an angle about the drive's rotation axis
// and (optionally) a translation, interpolated to one rigid target per step.
//
// Interpolation: a C1 cubic Hermite spline in the waypoint index s
// (0 = drive.start, K = drive.end, K waypoints) through q_0 = 0 (the rest pose)
// and the K waypoints, with Catmull-Rom tangents m_j = (q_{j+1} - q_{j-1}) / 2
// inside and m_0 = m_K = 0, so the grasp starts and stops at rest (no
// velocity jump at drive.start or at a release after drive.end); before
// drive.start q = 0, after drive.end q = q_K.  (Catmull & Rom 1974; Hermite
// basis h00 = 2u^3 - 3u^2 + 1, h10 = u^3 - 2u^2 + u, h01 = -2u^3 + 3u^2,
// h11 = u^3 - u^2.)  q(s) is linear in the waypoints, q(s) = sum_j w_j(s) q_j,
// so the gradient of a waypoint is sum over steps of w_j(s_n) dL/dq(s_n).
//
// Rigid target of a driven vertex with rest position r (Rodrigues' formula,
// unit axis k through point c, angle theta, translation d):
//   y = c + R(theta) (r - c) + d,   dy/dtheta = k x (R(theta) (r - c)),   dy/dd = I.
#pragma once

#include <array>
#include <vector>

#include "engine/scene/fem_desc.hpp"

namespace pl::optim {

/// w_0..w_K of q(s) = sum_j w_j q_j for K waypoints at s = 1..K (q_0 = 0 at s = 0).
std::vector<double> waypoint_weights(int waypoints, double s);

/// R(theta) (r - c) rotated about the unit axis k (Rodrigues).
std::array<double, 3> rotate_about(const std::array<double, 3>& r, const std::array<double, 3>& c,
                                   const std::array<double, 3>& k, double theta);

// issue 7 (opt_grasp) begin: the pose of one fem_drive control, shared by the coupled evaluation
/// Angle and translation at waypoint parameter s from the control's values
/// (K waypoints, each [theta] or [theta, tx, ty, tz] when translate): q(s) = sum_j w_j(s) q_j.
struct DrivePose {
  double theta = 0;
  std::array<double, 3> d{0, 0, 0};
};
DrivePose drive_pose(const double* values, int waypoints, bool translate, double s);
/// Adds the chain rule of drive_pose into grad (same layout as values):
/// dL/dq_j += w_j(s) (dL/dtheta, dL/dd).
void add_drive_pose_gradient(int waypoints, bool translate, double s, const DrivePose& dL_dpose, double* grad);
// issue 7 (opt_grasp) end

// issue 7 (replay_fem) begin: one drive motion for the optimizer's evaluations and `pliant run`
/// The target at time t of a vertex (rest position `rest`) of body b's drive
/// group moved by an fem_drive control's values (K waypoints):
///   y = c + R(theta(s)) (rest - c) + d(s),  s = K (t - drive.start) / (drive.end - drive.start).
/// FemSceneRun prescribes it with the control's init (so a replay scene,
/// best_scene.yaml, moves the drive as the optimizer's best rollout did);
/// evaluate_fem / evaluate_coupled with the candidate's values.
std::array<double, 3> fem_drive_target(const scene::FemBodyDesc& b, const double* values, int waypoints, bool translate,
                                       const std::array<double, 3>& rest, double t);
// issue 7 (replay_fem) end

}  // namespace pl::optim
