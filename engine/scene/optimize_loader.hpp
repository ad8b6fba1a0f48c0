// Reading the optimization sections of a scene — `controls`, `objective`,
// `optimizer` (docs/scene_format.md, "Optimization") — into OptimizationDesc.
//
// Called by the scene loader after bodies and materials are known (controls
// and objective terms name them).  Every problem is an InputError naming the
// file, line, key and what was expected, like the rest of the loader.
//
// Adding a control kind or an objective term type: add a row to kControlKinds /
// kTermTypes in optimize_loader.cpp (its keys and how many values it has) and a
// class in engine/optim/controls.cpp / objective_terms.cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include "engine/scene/scene_desc.hpp"
#include "engine/scene/yaml_reader.hpp"

namespace pl::scene {

/// Reads the `controls`, `objective` and `optimizer` sections of `root` (each
/// optional) into s.optimization.  `s` must already hold the simulation,
/// materials and bodies.
void parse_optimization(const YAML::Node& root, const detail::YamlReader& reader, SceneDesc& s);

/// Control kinds and objective term types this build knows.
const std::vector<std::string>& control_kinds();
const std::vector<std::string>& objective_term_types();

}  // namespace pl::scene
