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
//
// Gravity is simulation.gravity; 3D scenes only.  Frames write
// fem_NNNNN.ply (the bodies' boundary surfaces) next to the MPM frames.
#pragma once

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

 private:
  const SceneDesc& scene_;
  std::unique_ptr<fem::FemWorld<Real>> world_;
  std::vector<fem::TetSurface> surfaces_;
  std::vector<int> first_vertex_;
};

/// A FemSceneRun when the scene has a fem section, else nullptr.
template <class Real>
std::unique_ptr<FemSceneRun<Real>> make_fem_scene_run(const SceneDesc& scene) {
  return scene.fem.enabled ? std::make_unique<FemSceneRun<Real>>(scene) : nullptr;
}

/// "fem_NNNNN.ply".
std::string fem_frame_file_name(int frame);

}  // namespace pl::scene
