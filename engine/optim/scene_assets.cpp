#include "engine/optim/scene_assets.hpp"

namespace pl::optim {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string with_extension(const std::string& path, const std::string& ext) {
  const std::size_t dot = path.find_last_of('.');
  return (dot == std::string::npos ? path : path.substr(0, dot)) + ext;
}

void add(std::vector<SceneAsset>& out, const std::string& key, const std::string& written, const std::string& resolved) {
  if (resolved.empty()) return;
  out.push_back({key, written, resolved, false});
  // TetGen meshes: read_tet_mesh reads the .ele next to a .node and vice versa.
  if (ends_with(resolved, ".node")) out.push_back({key, written, with_extension(resolved, ".ele"), true});
  if (ends_with(resolved, ".ele")) out.push_back({key, written, with_extension(resolved, ".node"), true});
}

}  // namespace

std::vector<SceneAsset> scene_assets(const scene::SceneDesc& s) {
  std::vector<SceneAsset> out;
  for (const auto& b : s.bodies)
    if (b.shape.type == scene::ShapeType::Mesh) add(out, "bodies." + b.name + ".shape.file", b.shape.file, b.shape.resolved_file);
  for (const auto& t : s.tools) add(out, "tools." + t.name + ".shape.file", t.file, t.resolved_file);
  for (const auto& b : s.fem.bodies) add(out, "fem.bodies." + b.name + ".mesh", b.file, b.resolved_file);
  for (const auto& t : s.optimization.objective) add(out, "objective." + t.name + ".file", t.file, t.resolved_file);
  return out;
}

}  // namespace pl::optim
