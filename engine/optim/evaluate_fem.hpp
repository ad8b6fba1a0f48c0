// The evaluation function for scenes whose bodies are FEM bodies only (issue 7,
// task "Fold"): Problem::evaluate hands them here (evaluate.cpp), the MPM path
// is untouched.
//
// Controls: fem_drive (waypoints of a drive group's rigid motion,
// fem_drive_motion.hpp) and fem_material (a parameter of a body's energy
// terms).  Terms: fem_vertices, fem_crease (fem_objective_terms.hpp); the
// control-only terms (smoothness) need MPM controls, so none here yet.
//
// Why not FemRollout: a drive with `release: true` frees its vertices
// mid-rollout, which changes the world's prescription (FemRollout keeps one
// for the whole horizon), and the crease lives in the hinges' plastic rest
// angles, whose adjoint must flow across the release.  So this file runs the
// world's own step/adjoint_step in phases (one prescription per phase),
// storing every step's state (x, v, term states).  That is O(steps x state)
// memory, fine for the small sheets an optimization runs (a 66-vertex sheet,
// 80 steps: ~0.2 MB); large meshes would want FemRollout's checkpoints.
#pragma once

#include <memory>
#include <vector>

#include "engine/optim/evaluate.hpp"

namespace pl::optim {

/// Whether Problem hands the scene to evaluate_fem: FEM bodies and no MPM bodies.
bool uses_fem_evaluation(const scene::SceneDesc& scene);

/// InputError (naming the key) for controls/terms the FEM evaluation cannot use.
void check_fem_problem(const scene::SceneDesc& scene, const std::vector<std::unique_ptr<ObjectiveTerm>>& terms);

Evaluation evaluate_fem(const scene::SceneDesc& scene, const ControlLayout& layout,
                        const std::vector<std::unique_ptr<ObjectiveTerm>>& terms, const std::vector<double>& u,
                        bool gradient, RolloutOutputs* outputs);

}  // namespace pl::optim
