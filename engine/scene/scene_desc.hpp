// What a scene file says, after validation: plain data in SI units.
//
// The data path is  scene file -> SceneDocument (YAML tree + overrides,
// scene_loader.hpp) -> SceneDesc (this file) -> MpmWorld (build_world.hpp).
// Everything here has already been checked by the loader: dimensions match
// `simulation.dim`, ranges hold, material labels resolve, mesh files exist.
// Code that consumes a SceneDesc may therefore assume it is valid, but errors it
// finds later (a body outside the domain, an unstable dt) should still name the
// scene file and key: every entry keeps the SourceLoc it came from.
//
// Vectors are std::array<double, 3> whatever the dimension; in 2D the third
// component is 0 and unused.  That keeps SceneDesc free of the dimension
// template, which only appears when a world is built.
//
// Format version 1 has the sections version, description, simulation,
// materials, bodies, output and preview (docs/scene_format.md), and the optional
// optimization sections controls, objective and optimizer (optimize_desc.hpp).
// The section tools is reserved for a later version and is rejected by the
// loader with an explicit message.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/scene/optimize_desc.hpp"  // issue 7: controls / objective / optimizer
#include "engine/scene/tools_desc.hpp"     // issue 6: the tools section
#include "engine/scene/fem_desc.hpp"       // issue 5: the fem section (FEM tet bodies)
#include "kernels/mpm/boundary.hpp"
#include "materials/registry.hpp"

namespace pl::scene {

/// The scene format version this build reads (the `version:` key).
constexpr int kSceneFormatVersion = 1;

/// Where a value came from, for error messages.
struct SourceLoc {
  std::string file;    // the scene file as given by the user
  int line = 0;        // 1-based; 0 when unknown (e.g. a default)
  int column = 0;      // 1-based
  std::string origin;  // non-empty when the value came from the command line, e.g. "--set simulation.dt=1e-4"

  /// "file:line:column", "file" or the command-line origin.
  std::string str() const;
};

/// "<loc>: <key_path>" — the prefix of every message about a scene entry, and
/// the `context` handed to engine functions (materials, worlds, meshes).
std::string context(const SourceLoc& loc, const std::string& key_path);

enum class Precision { Float, Double };
const char* precision_name(Precision p);

/// One domain face's boundary condition (kernels/mpm/boundary.hpp).
struct WallDesc {
  WallType type = WallType::Separate;
  double friction = 0.0;  // Coulomb coefficient, used by `separate`
};
const char* wall_type_name(WallType t);

struct SimulationDesc {
  int dim = 3;                              // 2 or 3
  Precision precision = Precision::Float;
  std::string backend = "auto";             // "cpu" | "cuda" | "auto"
  double dt = 0;                            // substep [s]
  int substeps_per_frame = 1;
  int frames = 1;                           // frames simulated after the initial state
  double dx = 0;                            // grid spacing [m]
  std::array<double, 3> origin{};           // world position of grid node 0 [m]
  std::array<int, 3> cells{};               // grid cells per axis (nodes = cells + 1)
  std::array<double, 3> gravity{};          // [m/s^2]
  int bound_cells = 3;                      // wall layer thickness [cells]
  double cfl = 1.0;                         // stability guard factor
  bool allow_unstable_dt = false;
  std::array<std::array<WallDesc, 2>, 3> walls{};  // [axis][low, high]
  SourceLoc loc;                            // the `simulation:` section

  double frame_duration() const { return dt * substeps_per_frame; }  // [s]
  /// Upper corner of the grid, origin + cells * dx [m].
  std::array<double, 3> domain_upper() const;
};

struct MaterialEntry {
  std::string label;                     // key under `materials:`
  std::string model;                     // registry name, e.g. "fixed_corotated"
  double density = 1000;                 // [kg/m^3]
  std::map<std::string, double> params;  // as written (defaults not filled in)
  materials::MaterialDesc desc;          // resolved by materials::make_material
  SourceLoc loc;
};

enum class ShapeType { Box, Sphere, Cylinder, Mesh };
const char* shape_type_name(ShapeType t);

/// A body's initial region.  Which fields are meaningful depends on `type`.
struct ShapeDesc {
  ShapeType type = ShapeType::Box;
  std::array<double, 3> lower{}, upper{};  // box corners [m]
  std::array<double, 3> center{};          // sphere / cylinder centre [m]
  double radius = 0;                       // sphere / cylinder [m]
  double height = 0;                       // cylinder length along `axis` [m]
  int axis = 1;                            // cylinder axis: 0 = x, 1 = y, 2 = z
  std::string file;                        // mesh: as written in the scene
  std::string resolved_file;               // mesh: path resolved against the scene's directory
  std::array<double, 3> scale{1, 1, 1};    // mesh: per-axis factor
  std::array<double, 3> rotation_deg{};    // mesh: Euler XYZ, degrees (R = Rz Ry Rx)
  std::array<double, 3> translation{};     // mesh [m]
  SourceLoc loc;
};

struct BodyDesc {
  std::string name;          // key under `bodies:`
  std::string material;      // a label under `materials:`
  int material_index = -1;   // index into SceneDesc::materials (= the world's material table)
  ShapeDesc shape;
  int particles_per_cell = 0;
  std::uint64_t seed = 0;
  std::array<double, 3> velocity{};  // initial [m/s]
  SourceLoc loc;
};

struct OutputDesc {
  std::string dir;          // relative paths are relative to the working directory
  int every_n_frames = 1;   // frame f is written when f % every_n_frames == 0 (f = 0 is the initial state)
  std::vector<std::string> formats = {"ply"};  // "ply" (frame_NNNNN.ply) and/or "npz" (trajectory.npz)
  SourceLoc loc;

  bool writes(const std::string& format) const;
};

/// What previews color particles by.
enum class ColorBy { Material, Body, Speed, Plastic };
const char* color_by_name(ColorBy c);

/// A perspective camera (3D previews): engine/render/camera.hpp.
struct CameraDesc {
  std::array<double, 3> position{};  // [m]
  std::array<double, 3> look_at{};   // [m]
  std::array<double, 3> up{0, 1, 0};
  double fov_deg = 40;               // vertical field of view [deg]
};

/// The `preview:` section: PNG images rendered in software during a run.
/// The loader fills in every default, so the values here are the ones used.
struct PreviewDesc {
  bool enabled = false;
  int every_n_frames = 1;            // frame f is rendered when f % every_n_frames == 0
  int width = 640, height = 480;     // [pixels]; 2D: the height follows the domain's aspect unless given
  CameraDesc camera;                 // 3D only
  ColorBy color_by = ColorBy::Material;
  std::string colormap = "viridis";  // for speed and plastic
  bool fixed_range = false;          // false: the range grows with the values seen so far in the run
  std::array<double, 2> range{};     // color scale [low, high] when fixed_range
  double particle_radius = 0;        // [m]; 0 = 0.6 x each particle's spacing (volume^(1/dim))
  std::array<double, 3> background{1, 1, 1};  // RGB in [0, 1]
  SourceLoc loc;
};

/// One `--set key.path=value` that was applied to the scene.
struct OverrideRecord {
  std::string key_path;
  std::string text;  // as the user wrote it, for messages and run.json
};

struct SceneDesc {
  int version = kSceneFormatVersion;
  std::string path;      // scene file as given ("<string>" for scenes parsed from memory)
  std::string base_dir;  // directory that relative file names in the scene resolve against
  std::string description;
  std::string source_sha256;  // SHA-256 (hex) of the scene text as read, before overrides
  SimulationDesc simulation;
  std::vector<MaterialEntry> materials;  // in file order; index = material id in the world
  std::vector<BodyDesc> bodies;          // in file order; index = body id in the world
  OutputDesc output;
  PreviewDesc preview;
  std::vector<OverrideRecord> overrides;
  std::vector<ToolDesc> tools;  // issue 6: rigid tools and static colliders (tools_desc.hpp), in file order
  FemSceneDesc fem;             // issue 5: FEM tet bodies next to the MPM world (fem_desc.hpp)
  // --- issue 7 (optimization): the controls, objective and optimizer sections
  // (optimize_desc.hpp); empty when the scene has none.
  OptimizationDesc optimization;
  // --- end issue 7
  /// Where each value that was read came from, by key path ("simulation.dt",
  /// "bodies.cube.velocity", ...).  Defaults have no entry.
  std::map<std::string, SourceLoc> locations;

  /// context(location of key_path, key_path); just "<path>: key_path" for a default.
  std::string where(const std::string& key_path) const;
  /// -1 when absent.
  int material_index(const std::string& label) const;
  int body_index(const std::string& name) const;
  /// The engine's material table, in order.
  std::vector<materials::MaterialDesc> material_table() const;
};

}  // namespace pl::scene
