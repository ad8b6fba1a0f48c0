// Rigid tools and static colliders: shape, contact model and a 6-DoF
// trajectory, turned into the per-substep ToolState the grid kernels read
// (kernels/coupling/tool_state.hpp), plus the adjoint of that trajectory.
//
// Usage:
//   ToolSpec<3> spec;
//   spec.name = "pin"; spec.shape = ToolShape::Capsule; spec.radius = 0.04; spec.half_height = 0.3;
//   spec.rotation_deg = {0, 0, 90};                     // capsule axis (local y) along x
//   spec.position = {0.5, 0.3, 0.5};
//   spec.motion = ToolMotion::Velocity;
//   spec.actions.assign(steps, ToolAction<3>{{0.2, -0.05, 0}, {0, 0, 0}});
//   world.add_tool(Tool<3>(spec, world.settings().dt, "my tool"));
//
// Motions:
//   static     the pose never changes (bowls, tables, cups standing still).
//   velocity   per-substep actions a_n = (linear u_n [m/s], angular omega_n
//              [rad/s]), the differentiable control:  c_{n+1} = c_n + dt u_n,
//              R_{n+1} = exp(dt [omega_n]x) R_n (3D; 2D: theta += dt omega).
//              Substeps past the last action hold the tool at rest.  Speeds
//              above max_speed / max_angular_speed are scaled down to the
//              limit (a norm clamp; its derivative is part of the adjoint).
//   waypoints  (time, position, rotation) keys.  Position: cubic Hermite with
//              Catmull-Rom tangents m_k = (P_{k+1} - P_{k-1}) / (t_{k+1} - t_{k-1})
//              and zero tangents at the first and last key (the tool starts and
//              ends at rest); rotation: slerp between consecutive keys with the
//              smoothstep parameter 3s^2 - 2s^3 (zero angular velocity at each
//              key, so the motion is C^1).  Before the first / after the last
//              key the tool holds still.  The velocity handed to the kernels in
//              substep n is (c_{n+1} - c_n) / dt (and the rotation analogue),
//              so the material sees exactly the motion of the pose.  Speeds
//              above the limits are an InputError naming the time.  Gradients
//              reach every key's position and rotation.
//
// The material sees the tool at pose (c_n, R_n) moving with (u_n, omega_n)
// during substep n.
#pragma once

#include <array>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine/coupling/mesh_sdf.hpp"
#include "kernels/coupling/tool_state.hpp"

namespace pl {

enum class ToolMotion { Static, Velocity, Waypoints };
const char* tool_shape_name(ToolShape s);
const char* contact_mode_name(ContactMode m);
const char* tool_motion_name(ToolMotion m);

template <int D>
struct ToolAction {
  std::array<double, D> linear{};                   // [m/s]
  std::array<double, kAngularDim<D>> angular{};     // [rad/s]
};

template <int D>
struct ToolWaypoint {
  double time = 0;                    // [s]
  std::array<double, D> position{};   // [m]
  std::array<double, 3> rotation_deg{};  // 3D: Euler XYZ (R = Rz Ry Rx); 2D: [0] about z
};

template <int D>
struct ToolSpec {
  std::string name;
  ToolShape shape = ToolShape::Box;
  std::array<double, D> half_extents{};  // box, rounded box [m]
  double radius = 0;                     // sphere, capsule, cylinder; rounded box corners [m]
  double half_height = 0;                // capsule segment, cylinder: half length along local y [m]
  std::shared_ptr<const MeshSdf> mesh;   // mesh tools (3D)

  ContactMode mode = ContactMode::Sticky;
  double friction = 0;       // Coulomb mu (friction, soft)
  double stiffness = 1e5;    // soft penalty [1/s^2]
  double softness = 0;       // soft: softplus length [m], > 0 (scenes default to dx / 4)
  double smoothing = 1e-2;   // soft friction smoothing speed [m/s]

  std::array<double, D> position{};      // initial pose [m]
  std::array<double, 3> rotation_deg{};  // initial rotation (as ToolWaypoint)
  ToolMotion motion = ToolMotion::Static;
  std::vector<ToolAction<D>> actions;      // velocity motion, one per substep
  std::vector<ToolWaypoint<D>> waypoints;  // waypoint motion, strictly increasing times
  double max_speed = std::numeric_limits<double>::infinity();          // [m/s]
  double max_angular_speed = std::numeric_limits<double>::infinity();  // [rad/s]
};

/// Gradients of a loss with respect to one tool's controls, from a rollout.
template <int D>
struct ToolGradients {
  std::vector<ToolAction<D>> actions;                   // dL/d(action n), velocity motion
  std::vector<std::array<double, D>> waypoint_positions;  // dL/d(waypoint k position)
  /// dL/d delta_k for the key rotation R_k -> exp([delta_k]x) R_k (3D, delta in
  /// radians about the world axes); 2D: dL/d(key angle) [per radian].
  std::vector<std::array<double, kAngularDim<D>>> waypoint_rotations;
  std::array<double, D> initial_position{};
  std::array<double, kAngularDim<D>> initial_rotation{};  // dL/d delta for R_0 -> exp([delta]x) R_0
  double friction = 0;
  double stiffness = 0;
};

template <int D>
class Tool {
 public:
  static constexpr int A = kAngularDim<D>;
  struct Pose {
    Vec<double, D> position;
    Mat<double, D> rotation;
    Vec<double, D> velocity;  // during the substep that starts at this pose
    Vec<double, A> angular;
  };

  /// Validates `spec` (InputError prefixed with `context`: zero-size shapes,
  /// NaN poses, bad contact parameters, unordered waypoints, waypoint speeds
  /// above the limits) and plans its motion for substeps of `dt` seconds.
  Tool(ToolSpec<D> spec, double dt, const std::string& context);

  const ToolSpec<D>& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  /// Replaces the velocity actions (the optimizer's handle) and replans.
  void set_actions(std::vector<ToolAction<D>> actions);
  void set_friction(double mu);
  void set_stiffness(double k);

  /// The grid speed limit (issue 6): the tool's surface must not move more than
  /// kMaxCellsPerSubstep * dx in one substep, or material tunnels through it
  /// (the grid sees the tool only at nodes, dx apart).  The surface speed is
  /// bounded by |u_n| + |omega_n| r, with r the largest distance of the tool's
  /// surface from its position (clipped to the domain); checked over every
  /// planned substep (velocity actions, waypoints).  InputError naming the tool,
  /// the substep time, the speed and the limit.
  static constexpr double kMaxCellsPerSubstep = 0.5;
  void check_grid_speed(double dx, const std::array<double, D>& domain_lo, const std::array<double, D>& domain_hi) const;
  /// Largest distance of the tool's surface from its position [m] (infinite for planes).
  double extent() const;

  /// Pose and velocity during substep `step` (planned on demand).
  const Pose& pose(long step) const;
  /// The kernels' view of substep `step`; `field` is the mesh grid in kernel
  /// memory (the backend's copy), null for analytic shapes.
  template <class Real>
  ToolState<Real, D> state(long step, const Real* field) const;

  // ---- adjoint of the trajectory -------------------------------------------------
  /// Starts a backward pass over substeps [first, end).
  void adjoint_begin(long first, long end);
  /// Adds the kernels' gradient block of substep `step` (ToolAdjointIndex<D>
  /// layout).  Call for every step from end - 1 down to first.
  /// (initial_position / initial_rotation then hold dL/d(pose at `first`).)
  void adjoint_step(long step, const double* block);
  ToolGradients<D> adjoint_end();

 private:
  void replan();
  Pose waypoint_pose(double t) const;
  /// The keys i, j whose rotations are interpolated at time t, and the eased parameter s.
  void waypoint_segment(double t, std::size_t& i, std::size_t& j, double& s) const;
  void adjoint_waypoint_rotations(long step, const Mat<double, D>& g_rot, const Vec<double, A>& g_ang);
  std::vector<double> waypoint_weights(double t) const;  // c(t) = sum_k w_k P_k
  Pose advance(const Pose& p, long step) const;
  Vec<double, D> limited_linear(long step) const;
  Vec<double, A> limited_angular(long step) const;

  ToolSpec<D> spec_;
  double dt_;
  std::string context_;
  mutable std::vector<Pose> plan_;  // plan_[n]: substep n

  // backward-pass state
  long adj_first_ = 0, adj_next_ = -1;
  Vec<double, D> carry_position_;  // dL/dc_{n+1}
  Mat<double, D> carry_rotation_;  // dL/dR_{n+1}
  ToolGradients<D> grad_;
};

/// Rotation matrix of `rotation_deg` (see ToolWaypoint).
template <int D>
Mat<double, D> tool_rotation(const std::array<double, 3>& rotation_deg);

/// Force [N] and torque [N m] (about the tool position) that the material
/// exerted on a tool during one substep; torque has 3 components (2D: z only).
struct ToolReaction {
  std::array<double, 3> force{};
  std::array<double, 3> torque{};
};

}  // namespace pl
