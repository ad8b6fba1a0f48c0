// The `tools:` section of a scene (issue 6), after validation: rigid tools
// and static colliders as plain data in SI units.  Read by tools_loader.cpp,
// turned into engine/coupling Tools by add_scene_tools (tools_loader.hpp).
// Vectors are 3-arrays whatever the dimension, as elsewhere in SceneDesc.
#pragma once

#include <array>
#include <limits>
#include <string>
#include <vector>

#include "kernels/coupling/tool_state.hpp"

namespace pl::scene {


struct ToolSegmentDesc {  // motion.type: velocity
  double until = 0;                 // end time of this segment [s] (segments follow each other from t = 0)
  std::array<double, 3> linear{};   // [m/s]
  std::array<double, 3> angular{};  // [rad/s]; 2D: [0] about z
};

struct ToolWaypointDesc {  // motion.type: waypoints
  double time = 0;                       // [s]
  std::array<double, 3> position{};      // [m]
  std::array<double, 3> rotation_deg{};  // 3D Euler XYZ; 2D: [0] about z
};

enum class ToolMotionType { Static, Velocity, Waypoints };

struct ToolDesc {
  std::string name;  // key under `tools:`
  ToolShape shape = ToolShape::Box;
  std::array<double, 3> half_extents{};  // box, rounded_box [m]
  double radius = 0;                     // sphere, capsule, cylinder, rounded_box corners [m]
  double half_height = 0;                // capsule, cylinder (local y) [m]
  // mesh
  std::string file, resolved_file;
  std::array<double, 3> scale{1, 1, 1};
  bool open_mesh = false;
  double thickness = 0;     // open meshes [m]
  double sdf_spacing = 0;   // [m]; resolved (default dx / 2)

  std::array<double, 3> position{};
  std::array<double, 3> rotation_deg{};
  ContactMode mode = ContactMode::Friction;
  double friction = 0.5;
  double stiffness = 0;   // soft [1/s^2]; resolved
  double softness = 0;    // soft [m]; resolved
  double smoothing = 0.01;
  ToolMotionType motion = ToolMotionType::Static;
  std::vector<ToolSegmentDesc> segments;
  std::vector<ToolWaypointDesc> waypoints;
  double max_speed = std::numeric_limits<double>::infinity();
  double max_angular_speed = std::numeric_limits<double>::infinity();
  std::string where;  // "file:line:col: tools.<name>" for messages
};

}  // namespace pl::scene
