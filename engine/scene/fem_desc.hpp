// The `fem:` section of a scene (issue 5): tetrahedral soft bodies simulated by
// a FemWorld next to the MPM world (no coupling between them yet), as plain
// validated data in SI units.  Read by fem_loader.cpp; docs/fem.md has the format.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace pl::scene {

enum class FemBodySource { Mesh, Box, Cylinder };

struct FemBodyDesc {
  std::string name;      // key under fem.bodies
  std::string material;  // a label under `materials:` with a tet model
  int material_index = -1;
  FemBodySource source = FemBodySource::Box;
  std::string file, resolved_file;                // mesh (.msh, .node, .ele)
  std::array<double, 3> lower{}, upper{};         // box [m]
  std::array<int, 3> cells{1, 1, 1};              // box
  std::array<double, 3> base{};                   // cylinder: centre of the bottom disk [m]
  double radius = 0, height = 0;                  // cylinder along z [m]
  int radial_cells = 4, axial_cells = 4;          // cylinder
  std::array<double, 3> translation{};            // added to every vertex [m]
  std::array<double, 3> velocity{};               // initial [m/s]
  bool pin = false;                               // pin vertices with x[pin_axis] <= pin_below
  int pin_axis = 1;
  double pin_below = 0;
  bool move = false;                              // vertices with x[move_axis] >= move_above move
  int move_axis = 1;                              // at move_velocity (a plate / gripper)
  double move_above = 0;
  std::array<double, 3> move_velocity{};
  std::string where;  // "file:line:col: fem.bodies.<name>" for messages
};

struct FemSceneDesc {
  bool enabled = false;
  bool implicit = true;        // integrator: implicit | explicit
  int steps_per_frame = 1;     // FEM dt = frame duration / steps_per_frame
  double damping_mass = 0;     // alpha [1/s]
  double damping_stiffness = 0;  // beta [s]
  bool ground = false;
  std::array<double, 3> ground_normal{0, 1, 0};
  double ground_offset = 0, ground_stiffness = 1e5, ground_delta = 1e-3, ground_friction = 0.5,
         ground_slip_speed = 1e-3;
  std::vector<FemBodyDesc> bodies;
};

}  // namespace pl::scene
