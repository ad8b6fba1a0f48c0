// The scene file that replays an optimization's best controls
// (best_scene.yaml): the original scene text with the command line's --set
// overrides applied and every control's `init` replaced by its best value.
// `pliant run best_scene.yaml` then evaluates the objective at exactly those
// controls (pliant_main.cpp: a scene with controls runs through
// optim::replay) and `pliant optimize best_scene.yaml` continues from them.
// Relative file names (meshes, targets, observations) are made absolute, so
// the file works from the output directory.
#pragma once

#include <string>
#include <vector>

#include "engine/scene/scene_desc.hpp"

namespace pl::optim {

/// YAML text; `physical` holds every control's values (ControlLayout order).
std::string replay_scene_yaml(const scene::SceneDesc& scene, const std::vector<std::string>& sets,
                              const std::vector<double>& physical, const std::string& comment);

}  // namespace pl::optim
