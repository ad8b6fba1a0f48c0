// The evaluation function for coupled MPM + FEM scenes (fem.coupling; issue 7,
// task "Grasp"): Problem::evaluate hands them here (evaluate.cpp).
//
// One candidate = the scene's MPM world, its FEM bodies and the coupling
// (engine/coupling/mpm_fem_scene.hpp) rolled out by CoupledRollout
// (engine/diff/coupled_rollout.hpp), which checkpoints both worlds and runs
// their adjoints through the coupling.
//
// Controls: fem_drive (waypoints of an FEM body's drive group: an angle about
// the drive's axis and a translation, fem_drive_motion.hpp); the prescribed
// trajectory it writes gets its gradient from CoupledRollout; and
// fem_coupling (the contact's friction or stiffness; dL/dmu, dL/dk likewise).
// Terms: the MPM state terms (com, mass_in_region, chamfer, density,
// trajectory) on the particles, the FEM vertex terms (fem_vertices,
// fem_crease) on the FEM bodies, at any frames; control terms as elsewhere.
// Not here: MPM controls (initial velocity, material, actuation, tools) and
// drives with `release` (CoupledRollout keeps one prescription for the whole
// horizon) - InputErrors naming the key.
#pragma once

#include <memory>
#include <vector>

#include "engine/optim/evaluate.hpp"

namespace pl::optim {

/// Whether Problem hands the scene to evaluate_coupled: fem.coupling and MPM bodies.
bool uses_coupled_evaluation(const scene::SceneDesc& scene);

/// InputError (naming the key) for controls/terms the coupled evaluation cannot use.
void check_coupled_problem(const scene::SceneDesc& scene, const std::vector<std::unique_ptr<ObjectiveTerm>>& terms);

Evaluation evaluate_coupled(const scene::SceneDesc& scene, const ControlLayout& layout,
                            const std::vector<std::unique_ptr<ObjectiveTerm>>& terms, const std::vector<double>& u,
                            bool gradient, RolloutOutputs* outputs);

}  // namespace pl::optim
