// Objective term `tool_force` (issue 6): the mean squared reaction force a tool
// feels, a regularizer for gentle manipulation (press no harder than needed).
// It reads the tool's per-substep reactions (engine/coupling/tool.hpp,
// ToolReaction) instead of particle states; its gradient reaches the controls
// through the reaction adjoint (RolloutOptions::reaction_gradient).
#pragma once

#include <memory>

#include "engine/optim/objective_terms.hpp"

namespace pl::optim {

std::unique_ptr<ObjectiveTerm> make_tool_force_term(const scene::ObjectiveTermDesc& desc, const scene::SceneDesc& scene);

}  // namespace pl::optim
