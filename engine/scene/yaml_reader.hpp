// Strict reading of a YAML tree: every accessor checks the type and range of
// what it reads and throws pl::InputError naming the file, line, column, key
// path and what was expected.  Used by the scene loader; new scene sections
// (tools, controls, objective, optimizer in later format versions) should read
// their keys through it so that every section is equally strict.
//
// Rules that make a scene file hard to get silently wrong:
//  - a mapping may only hold the keys its reader lists (check_map); an unknown
//    key is an error that suggests the nearest valid key by edit distance;
//  - duplicate keys are errors (yaml-cpp would keep both and we would read one);
//  - numbers are parsed by us (the whole scalar must be a number; integers must
//    be integral), so "1e-4" works and "1e-4s" or "ten" do not.
//
// Values set on the command line (--set a.b=c) carry no useful line number;
// the reader reports them by their option text instead (see locate()).
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/scene/scene_desc.hpp"

namespace pl::scene::detail {

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions),
/// case-insensitive.
std::size_t edit_distance(const std::string& a, const std::string& b);
/// " did you mean 'x'?" for the candidate nearest to `key`, or "" when none is close.
std::string suggestion(const std::string& key, const std::vector<std::string>& candidates);
/// "a, b, c"
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");
/// "parent.key" (or "key" at the top level).
std::string join_path(const std::string& parent, const std::string& key);

class YamlReader {
 public:
  YamlReader(std::string file, std::vector<OverrideRecord> overrides)
      : file_(std::move(file)), overrides_(std::move(overrides)) {}

  const std::string& file() const { return file_; }
  /// Locations of every value read so far through the typed accessors, by key path.
  const std::map<std::string, SourceLoc>& locations() const { return locations_; }

  /// Where `node` (at `path`) came from: a --set option when `path` lies in an
  /// overridden subtree, else the node's mark, else just the file.
  SourceLoc locate(const YAML::Node& node, const std::string& path) const;
  /// Throws InputError "<loc>: <path>: <what>".
  [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& what) const;

  /// `node` must be a mapping with unique scalar keys, each in `allowed`.
  /// `reserved` keys get `reserved_message` instead of a suggestion.
  void check_map(const YAML::Node& node, const std::string& path, const std::vector<std::string>& allowed,
                 const std::vector<std::string>& reserved = {}, const std::string& reserved_message = "") const;
  /// The key nodes of a mapping, in file order (check_map first).
  std::vector<std::pair<YAML::Node, YAML::Node>> entries(const YAML::Node& map) const;
  /// The value under `key`, or an undefined node when absent.
  YAML::Node find(const YAML::Node& map, const std::string& key) const;
  /// The value under `key`; fails "missing required key" when absent.
  YAML::Node require(const YAML::Node& map, const std::string& path, const std::string& key,
                     const std::string& expectation) const;
  bool has(const YAML::Node& map, const std::string& key) const { return find(map, key).IsDefined(); }

  double number(const YAML::Node& node, const std::string& path, const std::string& expectation) const;
  long long integer(const YAML::Node& node, const std::string& path, const std::string& expectation) const;
  bool boolean(const YAML::Node& node, const std::string& path) const;
  std::string string(const YAML::Node& node, const std::string& path, const std::string& expectation) const;
  /// One of `options` (suggests the nearest on a typo).
  std::string choice(const YAML::Node& node, const std::string& path, const std::vector<std::string>& options) const;
  /// A sequence of exactly `n` finite numbers; `scalar_broadcast` also accepts one number for all entries.
  std::array<double, 3> vector(const YAML::Node& node, const std::string& path, int n, const std::string& unit,
                               bool scalar_broadcast = false) const;

 private:
  void remember(const YAML::Node& node, const std::string& path) const { locations_[path] = locate(node, path); }

  std::string file_;
  std::vector<OverrideRecord> overrides_;
  mutable std::map<std::string, SourceLoc> locations_;
  // An empty value ("dt:") has the mark of the token after it; its key's mark is
  // where the user should look.  Filled by check_map.
  mutable std::map<std::string, YAML::Mark> empty_value_keys_;
};

}  // namespace pl::scene::detail
