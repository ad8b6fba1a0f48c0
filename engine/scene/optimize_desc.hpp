// What a scene's optimization sections say, after validation: `controls`
// (what is optimized), `objective` (what is minimized) and `optimizer` (how).
// Plain data in SI units; filled by optimize_loader.cpp, consumed by
// engine/optim/.  A scene without these sections has an empty
// OptimizationDesc (present() is false) and runs exactly as before.
//
// Control kinds and objective term types are strings so that a new kind (tool
// waypoints, FEM quantities) is one row in the loader's table
// (optimize_loader.cpp) plus one class in engine/optim/ — nothing here changes.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace pl::scene {

/// One entry under `controls:`.  Values are physical (SI); the optimizer sees
/// each value through a map onto [0, 1] between `lower` and `upper` (log-spaced
/// when log_space), engine/optim/controls.hpp.
struct ControlDesc {
  std::string name;  // key under `controls:`
  std::string kind;  // "initial_velocity" | "actuation" | "material" | "tool_velocity" | "tool_waypoints" | "tool_contact"
  // initial_velocity, actuation: the body (index into SceneDesc::bodies)
  std::string body;
  int body_index = -1;
  // material: the material and parameter ("density" or a model parameter)
  std::string material;
  int material_index = -1;
  std::string parameter;
  int parameter_index = -1;  // model parameter index; -1 = density
  // actuation: the horizon is split into `segments` equal pieces, each with a
  // constant total force [N] on the body (spread evenly over its particles)
  int segments = 0;
  // --- tool controls (issue 7, opt_tools): the control replaces the named
  // tools' motion (tool_velocity, tool_waypoints) or contact value (tool_contact).
  std::vector<std::string> tools;  // tool names; tool_waypoints may move several as one rigid group
  std::vector<int> tool_indices;   // into SceneDesc::tools; [0] is the group's pivot
  bool linear = true, angular = false;    // tool_velocity: values per piece (segments pieces)
  bool position = true, rotation = false; // tool_waypoints: values per key
  std::vector<double> times;              // tool_waypoints: key times [s], > 0, increasing
  // (tool_contact uses `parameter`: friction | stiffness)
  std::vector<double> init, lower, upper;  // one entry per value (size())
  bool log_space = false;
  std::string loc;  // "file:line:col" of the entry, for messages

  int size() const { return int(init.size()); }

  // --- FEM controls (issue 7, opt_fold; engine/optim/evaluate_fem.cpp) ---
  // fem_drive: waypoints of the body's `drive` group (its rigid motion replaces
  // the drive's velocity/rotation rate): `waypoints` keys at equal times in
  // (drive.start, drive.end], each [angle about drive.rotation's axis (rad),
  // then tx, ty, tz (m) when fem_translate]; fem_material: one parameter of the
  // body's energy terms (`parameter`: youngs_modulus, poisson_ratio, thickness,
  // bending_stiffness, yield_angle).  `body` names the FEM body.
  int fem_body_index = -1;  // into SceneDesc::fem.bodies
  int waypoints = 0;
  bool fem_translate = true;
};

/// One entry under `objective:` (a weighted term of the loss).
struct ObjectiveTermDesc {
  std::string name;  // key under `objective:`
  std::string type;  // com | mass_in_region | chamfer | density | smoothness | trajectory
  double weight = 1;
  std::vector<int> frames;          // frames the term reads (0 = initial state .. simulation.frames);
                                    // trajectory: empty = every frame its file holds
  std::string body;                 // "" = all particles
  int body_index = -1;
  std::array<double, 3> target{};   // com: target centre of mass [m]
  std::array<double, 3> lower{}, upper{};  // mass_in_region: the box [m]
  double softness = 0;              // mass_in_region: width of the smooth indicator's edge [m]
  std::string file, resolved_file;  // chamfer, density: target points (.npy/.ply); trajectory: observed .npz
  std::string norm = "l2";          // density: l1 | l2
  std::string control;              // smoothness: an actuation control
  int control_index = -1;
  std::string tool;                 // tool_force: the tool whose reaction force is penalized (issue 6)
  int tool_index = -1;              // into SceneDesc::tools
  std::string loc;

  // --- FEM terms (issue 7, opt_fold; engine/optim/fem_objective_terms.hpp) ---
  // fem_vertices: the FEM body's vertices inside `region` (rest positions) to
  // `target` (every one) or to the rows of `file` (.npy, one per vertex);
  // fem_crease: its hinges with both edge vertices inside `region` to the
  // dihedral angle `angle_deg`.  `body` names the FEM body.
  int fem_body_index = -1;  // into SceneDesc::fem.bodies
  std::array<double, 3> region_lower{}, region_upper{};
  double angle_deg = 0;
};

struct OptimizerDesc {
  std::string method = "adam";  // adam | cmaes | hybrid
  int iterations = 50;          // the cap on iterations (Adam steps + CMA-ES generations)
  std::uint64_t seed = 0;
  // adam
  double learning_rate = 0.05;     // in units of each control's [0, 1] range
  std::string schedule = "constant";  // constant | exponential | cosine
  double decay = 0.97;             // exponential: lr_k = lr decay^k
  double clip_norm = 0;            // clip the gradient (w.r.t. the [0, 1] variables) to this norm; 0 = off
  double beta1 = 0.9, beta2 = 0.999;
  // cmaes
  int population = 0;              // 0 = 4 + floor(3 ln n)
  double sigma = 0.2;              // initial step size, in units of each range
  // hybrid: cmaes_iterations generations, then the best refine_candidates points
  // found are each refined by refine_iterations Adam steps
  int cmaes_iterations = 10;
  int refine_candidates = 2;
  int refine_iterations = 10;
  // stopping
  double target_loss = -std::numeric_limits<double>::infinity();  // stop when the best loss is <= this
  double rel_tolerance = 0;        // stop when the best loss improved by < rel_tolerance (relative) ...
  int patience = 10;               // ... over the last `patience` iterations
  double grad_tolerance = 0;       // adam: stop when the gradient norm is below this
  std::string loc;
};

struct OptimizationDesc {
  std::vector<ControlDesc> controls;
  std::vector<ObjectiveTermDesc> objective;
  OptimizerDesc optimizer;
  bool has_controls_section = false, has_objective_section = false, has_optimizer_section = false;

  bool present() const { return has_controls_section || has_objective_section || has_optimizer_section; }
  int control_index(const std::string& name) const {
    for (std::size_t i = 0; i < controls.size(); ++i)
      if (controls[i].name == name) return int(i);
    return -1;
  }
};

}  // namespace pl::scene
