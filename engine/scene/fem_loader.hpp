// The `fem:` section of a scene (issue 5): parsing and validation (called by
// the scene loader), and running the FEM bodies next to the MPM world (called
// by the scene runner).  Format:
//
//   fem:
//     integrator: implicit          # or explicit
//     steps_per_frame: 4            # FEM dt = frame duration / steps_per_frame
//     damping: {mass: 1.0, stiffness: 0.0}
//     ground: {normal: [0, 1, 0], offset: 0, stiffness: 1e5, delta: 1e-3, friction: 0.5, slip_speed: 1e-3}
//     bodies:
//       cube:
//         material: rubber          # a label under materials: with a tet model
//         mesh: ../assets/tets/soft_cube.msh   # or box: {lower, upper, cells}
//                                              # or cylinder: {base, radius, height, radial_cells, axial_cells}
//         translation: [0.45, 0.0, 0.45]
//         velocity: [0, 0, 0]
//         pin: {axis: 1, below: 0.001}          # Dirichlet: vertices with x[axis] <= below
//         move: {axis: 1, above: 0.099, velocity: [0, -0.05, 0]}   # a plate pressing down
//       paper:                      # a thin shell (membrane + discrete-shell hinges)
//         kind: shell
//         sheet: {origin: [0, 0, 0], edge_u: [0.2, 0, 0], edge_v: [0, 0, 0.1], cells: [20, 10]}
//                                   # or mesh: ../assets/shells/x.obj (a triangle mesh)
//         shell: {E: 3e9, nu: 0.3, density: 800, thickness: 1e-4, membrane: stvk,   # or neo_hookean
//                 bending_stiffness: 1e-4,  # optional [J]; default E h^3 / (12 (1 - nu^2))
//                 yield_angle: 0.2}         # optional [rad]: plastic bending
//         pin: {axis: 0, below: 0.1}
//         drive: {region: {lower: [...], upper: [...]},           # vertices inside the box
//                 velocity: [0, 0, 0],                             # translate [m/s]
//                 rotation: {point: [0.1, 0, 0], axis: [0, 0, 1], rate: 3.0},  # [rad/s]
//                 start: 0, end: 1, release: true}                 # [s]; freed after end
//     colliders:
//       ball: {type: sphere, center: [0, 0.1, 0], radius: 0.1, stiffness: 1e5, delta: 1e-3}
//
// Gravity is simulation.gravity; 3D scenes only.  Frames write
// fem_NNNNN.ply (the bodies' boundary surfaces) next to the MPM frames.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "engine/fem/fem_world.hpp"
#include "engine/fem/tet_surface.hpp"
#include "engine/scene/scene_desc.hpp"
#include "engine/scene/yaml_reader.hpp"

namespace pl::scene {

/// Reads root["fem"] (if present) into s.fem.  Needs s.simulation and
/// s.materials parsed.  Errors name the file, line and key.
void parse_fem(const YAML::Node& root, const detail::YamlReader& reader, SceneDesc& s);

/// The FEM half of a scene run.
template <class Real>
class FemSceneRun {
 public:
  explicit FemSceneRun(const SceneDesc& scene);
  /// Advances one frame (steps_per_frame FEM steps).
  void step_frame();
  /// Writes fem_NNNNN.ply (all bodies' surfaces, atomically) into dir; returns its path.
  std::string write_frame(const std::string& dir, int frame);
  const fem::FemWorld<Real>& world() const { return *world_; }
  /// Each body's surface at the current positions, what write_frame writes (for previews).
  std::vector<TriangleMesh> surface_meshes();
  // issue 6 (mpm_fem) begin: the MPM <-> FEM coupling steps the FEM world once per MPM substep
  /// One FEM step (drive releases included); step_frame is steps_per_frame of these.
  void step_once();
  /// The tet bodies' outward boundary triangles in FEM world vertex ids (shells are not coupled).
  std::vector<std::array<int, 3>> tet_surface_triangles() const;
  fem::FemWorld<Real>& coupled_world() { return *world_; }
  // issue 6 (mpm_fem) end
  // issue 7 (opt_fold): `pliant optimize` steps the world itself (engine/optim/evaluate_fem.cpp)
  fem::FemWorld<Real>& mutable_world() { return *world_; }
  /// The world indices of the vertices fem.bodies[body]'s drive moves (empty without a drive).
  std::vector<int> drive_vertices(int body) const;
  /// World index of fem.bodies[body]'s first vertex (its vertices are consecutive).
  int first_vertex(int body) const { return first_vertex_[std::size_t(body)]; }

 private:
  const SceneDesc& scene_;
  std::unique_ptr<fem::FemWorld<Real>> world_;
  std::vector<fem::TetSurface> surfaces_;
  std::vector<int> first_vertex_;

  // Prescribed motion: tet `move` groups (forever) and `drive` groups (until
  // their release step, if any), re-prescribed whenever a group is released.
  struct DriveGroup {
    const FemBodyDesc* body;
    bool is_move;                  // the tet `move` selection (constant velocity from t = 0)
    std::vector<int> vertices;
    int release_step = -1;         // step count at which the vertices are freed; -1 never
    bool released = false;
    // issue 7 (replay_fem): the scene's fem_drive control of this drive, if any: its init
    // values move the group as the optimizer's evaluation does (fem_drive_motion.hpp)
    const ControlDesc* control = nullptr;
  };
  std::array<double, 3> drive_target(const DriveGroup& g, const std::array<double, 3>& rest, double t) const;
  void prescribe_from(int step);
  std::vector<DriveGroup> groups_;
};

/// A FemSceneRun when the scene has a fem section, else nullptr.
template <class Real>
std::unique_ptr<FemSceneRun<Real>> make_fem_scene_run(const SceneDesc& scene) {
  return scene.fem.enabled ? std::make_unique<FemSceneRun<Real>>(scene) : nullptr;
}

/// "fem_NNNNN.ply".
std::string fem_frame_file_name(int frame);

}  // namespace pl::scene
