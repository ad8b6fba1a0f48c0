#include "engine/optim/replay_scene.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "engine/core/error.hpp"

namespace pl::optim {

namespace fs = std::filesystem;

namespace {

/// Sets `key.path=value` in `root` like SceneDocument::apply_override (the
/// scene was already validated with the same overrides, so every path works).
void set_path(YAML::Node root, const std::string& assignment) {
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos) return;
  const std::string key = assignment.substr(0, eq);
  const YAML::Node value = YAML::Load(assignment.substr(eq + 1));
  std::vector<std::string> segs;
  for (std::size_t start = 0;;) {
    const std::size_t dot = key.find('.', start);
    segs.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  YAML::Node cur;
  cur.reset(root);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const bool last = i + 1 == segs.size();
    if (cur.IsSequence()) {
      const std::size_t k = std::stoul(segs[i]);
      if (last) {
        cur[k] = value;
        return;
      }
      YAML::Node next = cur[k];
      cur.reset(next);
    } else {
      if (last) {
        cur[segs[i]] = value;
        return;
      }
      const YAML::Node& c = cur;
      if (!c[segs[i]].IsDefined() || c[segs[i]].IsNull()) cur[segs[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = cur[segs[i]];
      cur.reset(next);
    }
  }
}

std::string absolute(const std::string& resolved) { return fs::absolute(resolved).lexically_normal().string(); }

}  // namespace

std::string replay_scene_yaml(const scene::SceneDesc& scene, const std::vector<std::string>& sets,
                              const std::vector<double>& physical, const std::string& comment) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(scene.path);
  } catch (const YAML::Exception& e) {
    throw InputError(scene.path + ": cannot re-read the scene to write the replay scene: " + e.what());
  }
  for (const auto& s : sets) set_path(root, s);
  std::size_t at = 0;
  for (const auto& c : scene.optimization.controls) {
    YAML::Node init(YAML::NodeType::Sequence);
    init.SetStyle(YAML::EmitterStyle::Flow);
    for (int k = 0; k < c.size(); ++k) init.push_back(physical[at + std::size_t(k)]);
    root["controls"][c.name]["init"] = c.size() == 1 ? YAML::Node(physical[at]) : init;
    at += std::size_t(c.size());
  }
  for (const auto& b : scene.bodies)
    if (b.shape.type == scene::ShapeType::Mesh) root["bodies"][b.name]["shape"]["file"] = absolute(b.shape.resolved_file);
  for (const auto& t : scene.optimization.objective)
    if (!t.resolved_file.empty()) root["objective"][t.name]["file"] = absolute(t.resolved_file);
  for (const auto& t : scene.tools)  // issue 7 (opt_tools): mesh tools (cups, bowls) read from the output directory too
    if (!t.resolved_file.empty()) root["tools"][t.name]["shape"]["file"] = absolute(t.resolved_file);
  for (const auto& b : scene.fem.bodies)  // issue 7 (opt_fold): FEM meshes (tet files, shell OBJs) too
    if (!b.resolved_file.empty()) root["fem"]["bodies"][b.name]["mesh"] = absolute(b.resolved_file);
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << YAML::Comment(comment) << YAML::Newline << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace pl::optim
