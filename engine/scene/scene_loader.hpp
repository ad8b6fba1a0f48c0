// Loading scene files: YAML text -> SceneDocument -> (overrides) -> SceneDesc.
//
// Usage:
//   pl::scene::SceneDesc s = pl::scene::load_scene("scenes/jelly_drop_3d.yaml",
//                                                  {"simulation.frames=10", "output.dir=/tmp/jelly"});
// or, step by step (what `pliant run --set` does):
//   auto doc = pl::scene::SceneDocument::from_file(path);        // YAML syntax errors
//   doc.apply_override("bodies.jelly.velocity=[0, -2, 0]");      // malformed assignments
//   pl::scene::SceneDesc s = doc.parse();                        // everything else
//
// Every failure is a pl::InputError whose message starts with where the problem
// is — "scenes/x.yaml:12:5: simulation.gravty: unknown key 'gravty' in
// 'simulation'. did you mean 'gravity'? Valid keys: ..." — or, for a value set
// on the command line, with the option that set it ("--set simulation.dt=-1:
// simulation.dt: expected a time step > 0 [s], got '-1'").
//
// Overrides are applied to the YAML tree before validation, so a value given
// with --set is checked exactly like one written in the file (and may add keys
// or whole sections that the file lacks).  The value is parsed as YAML: numbers,
// lists "[0, -9.81, 0]", mappings "{type: sticky}" and strings all work.  A key
// path is dot-separated; a number selects a list entry ("simulation.gravity.1=-3").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/scene/scene_desc.hpp"

namespace pl::scene {

/// A parsed (but not yet validated) scene: the YAML tree, where it came from
/// and the overrides applied to it.  Copies are independent.
class SceneDocument {
 public:
  /// Reads and parses `path`.  Throws InputError for an unreadable file or a
  /// YAML syntax error (with line and column).
  static SceneDocument from_file(const std::string& path);
  /// Parses scene text held in memory; `display_name` stands for the file name
  /// in messages and relative paths (mesh files) resolve against `base_dir`.
  static SceneDocument from_string(const std::string& text, const std::string& display_name = "<string>",
                                   const std::string& base_dir = ".");

  SceneDocument(const SceneDocument& other);
  SceneDocument& operator=(const SceneDocument& other);
  SceneDocument(SceneDocument&&) noexcept;
  SceneDocument& operator=(SceneDocument&&) noexcept;
  ~SceneDocument();

  /// Applies "key.path=value".  `origin` names the override in messages
  /// (default "--set <assignment>"); e.g. the CLI passes "--frames 10" for
  /// its shortcut options.  Throws InputError when the assignment is malformed
  /// or its path runs through a value that is not a mapping or list.
  void apply_override(const std::string& assignment, const std::string& origin = "");

  /// Validates the tree and converts it.  Throws InputError on the first problem.
  SceneDesc parse() const;

  const std::string& path() const;
  const std::string& base_dir() const;
  const std::vector<OverrideRecord>& overrides() const;

 private:
  struct Impl;
  explicit SceneDocument(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// from_file + apply_override for each entry of `overrides` + parse.
SceneDesc load_scene(const std::string& path, const std::vector<std::string>& overrides = {});

/// from_string + overrides + parse (tests, Python, generated scenes).
SceneDesc parse_scene(const std::string& text, const std::string& display_name = "<string>",
                      const std::string& base_dir = ".", const std::vector<std::string>& overrides = {});

/// Free-function spelling of SceneDocument::apply_override.
void apply_override(SceneDocument& doc, const std::string& assignment, const std::string& origin = "");

/// The top-level sections this version accepts, and those reserved for later versions.
const std::vector<std::string>& scene_sections();
const std::vector<std::string>& reserved_scene_sections();

}  // namespace pl::scene
