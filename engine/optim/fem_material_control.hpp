// The value an `fem_material` control gives one parameter of an FEM body
// (issue 7): set on every energy term of the body that has the parameter
// (membrane and hinge of a shell, the tet term of a solid).  Shared by the
// optimizer's evaluation (evaluate_fem.cpp, the candidate's value) and
// FemSceneRun (the control's init), so that `pliant run` of a replay scene
// (best_scene.yaml) simulates the material the optimizer found.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/fem/fem_world.hpp"

namespace pl::optim {

/// A term's parameter: index of the energy term in world.terms(), index in its parameters().
struct FemParameterRef {
  std::size_t term = 0, index = 0;
};

/// Sets `parameter` of every energy term of FEM body `body` (terms named
/// "... '<body>'") to value; returns where it was set (empty: no term has it).
/// Throws InputError when a term refuses the value (its message).
template <class Real>
std::vector<FemParameterRef> set_fem_body_parameter(fem::FemWorld<Real>& world, const std::string& body,
                                                    const std::string& parameter, double value);

}  // namespace pl::optim
