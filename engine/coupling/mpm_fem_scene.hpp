// The fem.coupling section of a scene made into an MpmFemCoupling between
// the scene's MPM world and its FEM bodies (issue 6).  Used by the scene
// runner (run and validate) and by tests that step a coupled scene themselves.
#pragma once

#include <memory>
#include <string>

#include "engine/coupling/mpm_fem_coupling.hpp"
#include "engine/scene/fem_loader.hpp"
#include "engine/scene/scene_desc.hpp"

namespace pl {

/// Null when the scene has no fem.coupling, no FEM run or no particles.  The
/// coupling acts on every tet body's boundary surface (shells are not
/// coupled).  Throws InputError naming fem.coupling (settings, dt, integrator,
/// backend, stability).
template <class Real>
std::unique_ptr<MpmFemCoupling<Real>> make_scene_coupling(const scene::SceneDesc& scene, MpmWorld<Real, 3>& world,
                                                          scene::FemSceneRun<Real>* fem);

// issue 7 (replay_fem) begin: an fem_coupling control's value (the optimizer's evaluation sets
// its candidate's, make_scene_coupling the scene's init, so a replay scene runs with the optimum)
/// parameter: "friction" or "stiffness" (the loader accepts no other).
template <class Real>
void set_coupling_control(MpmFemCoupling<Real>& coupling, const std::string& parameter, double value) {
  if (parameter == "friction") coupling.set_friction(Real(value));
  else coupling.set_stiffness(Real(value));
}
// issue 7 (replay_fem) end

}  // namespace pl
