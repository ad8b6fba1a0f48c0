// `pliant gradcheck SCENE` for scenes with FEM bodies (issue 6): the rows of
// engine/diff/scene_gradcheck.hpp (same table, same ok / FAIL / kink rules) for
//  * FEM-only scenes (with or without tools), through FemRollout
//    (gradcheck_fem_scene, this file);
//  * coupled MPM + FEM scenes (fem.coupling), through CoupledRollout
//    (gradcheck_coupled_scene, engine/diff/coupled_scene_gradcheck.hpp).
//
// Loss: a random linear functional of the final state, L = sum_i (w_x . x_i +
// w_v . v_i) / N over the FEM vertices (and, coupled, the MPM particles), with
// weights from `seed`; the backward pass is linear in dL/ds, so a random one
// exercises every path (as the MPM check argues).  Prescribed (drive, move)
// vertices keep the trajectory the scene gives them at step 0; drive releases
// later in the run are not applied within the checked steps.  FEM rollouts
// run in double only (the implicit Newton tolerance needs it), so the "float
// err" column is n/a (printed as nan).
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/diff/scene_gradcheck.hpp"
#include "engine/fem/fem_world.hpp"

namespace pl {

/// FEM-only scene (fem section, no MPM bodies); `steps` counts FEM steps.
GradcheckReport gradcheck_fem_scene(const scene::SceneDesc& scene, const GradcheckOptions& options);

/// Random directions in a FEM world's quantities, shared by the FEM-only and
/// the coupled check: initial positions and velocities (zero on prescribed
/// vertices, which follow their trajectory), loss weights, and the prescribed
/// trajectory (per step, 3 per prescribed vertex).  Uniform in [-1, 1].
struct FemDirections {
  std::vector<double> dx, dv, wx, wv;
  std::vector<std::vector<double>> prescribed;
  FemDirections(const fem::FemWorld<double>& world, std::mt19937_64& rng);
  /// Moves the world's prescribed trajectory by t along `prescribed`.
  void perturb_prescribed(fem::FemWorld<double>& world, double t) const;
  /// sum_n dL/dtrajectory_n . prescribed_n.
  double prescribed_dot(const std::vector<std::vector<double>>& gradient) const;
  /// sum_i (wx_i x_i + wv_i v_i) / N over the world's vertices.
  double loss(const fem::FemWorld<double>& world) const;
};

double dot(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace pl
