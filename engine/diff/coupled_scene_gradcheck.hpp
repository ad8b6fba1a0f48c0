// `pliant gradcheck SCENE` for coupled MPM + FEM scenes (fem.coupling, issue
// 6): rows through CoupledRollout for the MPM particles' initial positions and
// velocities, the FEM vertices' initial positions and velocities, the
// prescribed (drive / move) trajectory, and the coupling's stiffness and
// friction.  Loss, row rules and table: engine/diff/fem_scene_gradcheck.hpp.
// `steps` counts MPM substeps (one FEM step each).
#pragma once

#include "engine/diff/scene_gradcheck.hpp"

namespace pl {

GradcheckReport gradcheck_coupled_scene(const scene::SceneDesc& scene, const GradcheckOptions& options);

}  // namespace pl
