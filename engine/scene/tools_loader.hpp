// The `tools:` section (issue 6): parsing and validation (called by the scene
// loader), and building the engine's tools for a world (called by build_world).
#pragma once

#include <yaml-cpp/yaml.h>

#include "engine/mpm/mpm_world.hpp"
#include "engine/scene/scene_desc.hpp"
#include "engine/scene/yaml_reader.hpp"

namespace pl::scene {

/// Reads root["tools"] (if present) into s.tools.  Needs s.simulation parsed.
/// Errors name the file, line and key: unknown shape or mode, zero-size
/// shapes, non-finite poses, tools outside the domain, unordered waypoints,
/// missing or non-closed meshes (unless open_mesh), more than kMaxTools tools.
void parse_tools(const YAML::Node& root, const detail::YamlReader& reader, SceneDesc& s);

/// Adds every tool of the scene to `world` (meshes are turned into distance
/// fields here).  Throws InputError naming the tool.
template <class Real, int D>
void add_scene_tools(const SceneDesc& scene, MpmWorld<Real, D>& world);

/// issue 6 (fem_tool): tool `t` for FEM bodies, planned with the FEM step
/// `fem_dt` (velocity segments resampled per FEM step).  The FEM contact is
/// always the smooth penalty (engine/fem/fem_tool_contact.hpp): in mode: soft
/// it uses the scene's stiffness and softness, otherwise the FEM defaults.
ToolSpec<3> fem_tool_spec(const SceneDesc& scene, const ToolDesc& t, double fem_dt);

}  // namespace pl::scene
