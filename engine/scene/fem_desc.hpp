// The `fem:` section of a scene (issue 5): tetrahedral soft bodies simulated by
// a FemWorld next to the MPM world (no coupling between them yet), as plain
// validated data in SI units.  Read by fem_loader.cpp; docs/fem.md has the format.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace pl::scene {

enum class FemBodySource { Mesh, Box, Cylinder, Sheet, ShellMesh };

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

  // ---- shells (kind: shell): a procedural sheet or an OBJ triangle mesh ----
  bool shell = false;
  std::array<double, 3> sheet_origin{}, sheet_u{}, sheet_v{};  // [m]
  std::array<int, 2> sheet_cells{1, 1};
  int membrane = 0;                 // fem::MembraneModel: 0 stvk, 1 neo_hookean
  double youngs_modulus = 0, poisson_ratio = 0.3, thickness = 0, shell_density = 0;  // Pa, -, m, kg/m^3
  double bending_stiffness = -1;    // [J]; < 0: plate_bending_stiffness(E, nu, thickness)
  double yield_angle = -1;          // [rad]; < 0: elastic bending
  // ---- drive: vertices inside a box move rigidly (tets and shells) ----
  bool drive = false;
  std::array<double, 3> drive_lower{}, drive_upper{};   // selection box, after translation [m]
  std::array<double, 3> drive_velocity{};               // [m/s]
  std::array<double, 3> drive_point{}, drive_axis{0, 0, 1};  // rotation axis through point
  double drive_rate = 0;                                // angular velocity [rad/s]
  double drive_start = 0, drive_end = 1e300;            // [s]
  bool drive_release = false;                           // free the vertices after drive_end
  // issue 6 (mpm_fem) begin: drive.then, a second translation phase after drive_end
  bool drive_then = false;
  std::array<double, 3> then_velocity{};  // [m/s]
  double then_start = 0, then_end = 0;    // [s]
  // issue 6 (mpm_fem) end
};

/// A static sphere the FEM vertices collide with (engine/fem/sdf_contact_term.hpp).
struct FemSphereDesc {
  std::string name;
  std::array<double, 3> center{};
  double radius = 0, stiffness = 1e5, delta = 1e-3;
};

struct FemSceneDesc {
  bool enabled = false;
  bool implicit = true;        // integrator: implicit | explicit
  int steps_per_frame = 1;     // FEM dt = frame duration / steps_per_frame
  int newton_max_iterations = 50;
  double newton_tolerance = 1e-9;  // Newton step / rest bounding box size
  double damping_mass = 0;     // alpha [1/s]
  double damping_stiffness = 0;  // beta [s]
  bool ground = false;
  std::array<double, 3> ground_normal{0, 1, 0};
  double ground_offset = 0, ground_stiffness = 1e5, ground_delta = 1e-3, ground_friction = 0.5,
         ground_slip_speed = 1e-3;
  std::vector<FemBodyDesc> bodies;
  std::vector<FemSphereDesc> spheres;  // fem.colliders
  // issue 6 (mpm_fem) begin: fem.coupling, two-way MPM <-> FEM contact of the tet bodies (engine/coupling/mpm_fem_coupling.hpp)
  bool coupling = false;
  double coupling_stiffness = 1e5, coupling_skin = -1, coupling_softness = -1, coupling_friction = 0.5,
         coupling_slip_speed = 1e-2;  // [1/s^2], [m] (< 0: dx / 2), [m] (< 0: skin / 4), -, [m/s]
  std::string coupling_where;  // "file:line:col: fem.coupling"
  // issue 6 (mpm_fem) end
};

}  // namespace pl::scene
