// Tool controls of an optimization (issue 7): how the values of the control
// kinds tool_velocity, tool_waypoints and tool_contact act on a scene's tools,
// and where their gradients come from.
//
// The values are written into a copy of the scene's tools section before the
// world is built, so the rollout sees an ordinary velocity- or waypoint-driven
// tool (engine/coupling/tool.hpp) and `pliant run` of the replay scene moves
// the tools exactly as the optimizer did.
//
//   tool_velocity   piece k of `segments` equal pieces of the horizon holds the
//                   actions (linear [m/s], angular [rad/s]) of substeps
//                   n with floor(n segments / steps) = k (the actuation
//                   convention), so dL/d(piece k) = sum of dL/d(action n)
//                   over its substeps (Tool's action adjoint).
//   tool_waypoints  key k at times[k] sets the pose of the group's pivot (the
//                   first tool): position P_k [m] and/or rotation theta_k
//                   [deg, Euler XYZ in 3D].  Every tool i of the group keeps its
//                   offset r_i = c_i(0) - c_pivot(0) and its rotation relative
//                   to the pivot:  c_i,k = P_k + Q_k r_i,  R_i,k = Q_k R_i(0),
//                   Q_k = R(theta_k) R_pivot(0)^T.  The scene pose is key 0 at
//                   t = 0.  Gradients from Tool's key position and key
//                   rotation adjoints (add_waypoint_gradients in the .cpp).
//                   Between keys each tool follows its own Catmull-Rom path
//                   and eased rotation, so a group is rigid at the keys and
//                   nearly rigid between them (the chord of an arc).
//   tool_contact    the tool's friction coefficient or soft-contact stiffness;
//                   dL/dvalue is the Tool's friction / stiffness gradient.
#pragma once

#include <vector>

#include "engine/coupling/tool.hpp"
#include "engine/optim/controls.hpp"
#include "engine/scene/scene_desc.hpp"

namespace pl::optim {

/// True when the layout has a tool control.
bool has_tool_controls(const ControlLayout& layout);

/// Writes the physical values `p` of every tool control into `scene.tools`.
void apply_tool_controls(const ControlLayout& layout, const std::vector<double>& p, scene::SceneDesc& scene);

/// Adds dL/dp of every tool control at the physical values `p` to dL_dp from
/// the rollout's per-tool gradients (`tools` in scene.tools order, as MpmWorld
/// adds them); `scene` is the scene before apply_tool_controls.
template <int D>
void add_tool_control_gradients(const ControlLayout& layout, const scene::SceneDesc& scene, const std::vector<double>& p,
                                const std::vector<ToolGradients<D>>& tools, std::vector<double>& dL_dp);

}  // namespace pl::optim
