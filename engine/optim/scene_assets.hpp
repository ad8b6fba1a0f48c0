// The files a scene reads besides its own text (issue 10): meshes of MPM
// bodies, tools and FEM bodies, objective targets (.npy/.ply/.npz).  An
// executor that runs the scene elsewhere (a Ray worker) ships exactly these,
// so nothing is guessed: each entry names the scene key that holds the file,
// so that the worker can point the key at its own copy with an override
// (`<key_path>=<local copy>`), and the path the loader resolved.
//
// A TetGen mesh is two files: `.node` and `.ele` with the same stem
// (fem/tet_mesh_io.cpp); the companion is listed as an extra file of the same
// key (`companion` = true), to be written next to the main one.
//
// When a new scene key reads a file, it gets a line here; a file missing from
// this list is not shipped and the worker's loader names it as missing.
#pragma once

#include <string>
#include <vector>

#include "engine/scene/scene_desc.hpp"

namespace pl::optim {

struct SceneAsset {
  std::string key_path;  // "bodies.<name>.shape.file", "objective.<term>.file", ...
  std::string written;   // as written in the scene (or its override)
  std::string resolved;  // as the loader resolved it (against the scene's directory)
  bool companion = false;  // an extra file read next to `resolved` (TetGen .ele for a .node)
};

/// Every file the validated scene references, in scene order, without duplicates of (key, file).
std::vector<SceneAsset> scene_assets(const scene::SceneDesc& scene);

}  // namespace pl::optim
