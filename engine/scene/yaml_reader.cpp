#include "engine/scene/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "engine/core/error.hpp"

namespace pl::scene::detail {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_plain_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

/// What a node is, for "expected X, got Y" messages.
std::string describe(const YAML::Node& node) {
  if (!node.IsDefined()) return "nothing";
  switch (node.Type()) {
    case YAML::NodeType::Null: return "an empty value (null)";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: {
      std::string s = node.Scalar();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return (is_plain_scalar(node) ? "'" : "the quoted string '") + s + "'";
    }
    default: return "nothing";
  }
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return false;
  // strtod also reads hex floats, "inf" and "nan"; a scene wants decimal numbers.
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && errno != ERANGE && std::isfinite(out);
}

}  // namespace

std::size_t edit_distance(const std::string& a_in, const std::string& b_in) {
  const std::string a = lower(a_in), b = lower(b_in);
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string suggestion(const std::string& key, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& c : candidates) {
    const std::size_t dist = edit_distance(key, c);
    if (dist < best_distance) best_distance = dist, best = c;
  }
  // Close enough to be a typo: a third of the key's length, at least 2 edits.
  const std::size_t limit = std::max<std::size_t>(2, key.size() / 3);
  if (best.empty() || best_distance > limit || best_distance >= std::max(key.size(), best.size())) return "";
  return " did you mean '" + best + "'?";
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

SourceLoc YamlReader::locate(const YAML::Node& node, const std::string& path) const {
  SourceLoc loc;
  loc.file = file_;
  // The latest override wins, as it does when applied.
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    const std::string& o = it->key_path;
    if (path == o || (path.size() > o.size() && path.compare(0, o.size(), o) == 0 &&
                                    (path[o.size()] == '.' || path[o.size()] == '['))) {
      loc.origin = it->text;
      return loc;
    }
  }
  if (node.IsDefined()) {
    YAML::Mark m = node.Mark();
    if (node.IsNull())
      if (const auto it = empty_value_keys_.find(path); it != empty_value_keys_.end()) m = it->second;
    if (!m.is_null()) {
      loc.line = m.line + 1;
      loc.column = m.column + 1;
    }
  }
  return loc;
}

void YamlReader::fail(const YAML::Node& node, const std::string& path, const std::string& what) const {
  throw InputError(context(locate(node, path), path) + ": " + what);
}

std::vector<std::pair<YAML::Node, YAML::Node>> YamlReader::entries(const YAML::Node& map) const {
  std::vector<std::pair<YAML::Node, YAML::Node>> out;
  if (!map.IsMap()) return out;
  for (auto it = map.begin(); it != map.end(); ++it) out.emplace_back(it->first, it->second);
  return out;
}

void YamlReader::check_map(const YAML::Node& node, const std::string& path, const std::vector<std::string>& allowed,
                           const std::vector<std::string>& reserved, const std::string& reserved_message) const {
  if (!node.IsMap()) fail(node, path, "expected a mapping (key: value lines), got " + describe(node));
  std::set<std::string> seen;
  for (const auto& [key, value] : entries(node)) {
    if (!key.IsScalar())
      fail(key, path, "keys must be plain names, got " + describe(key));
    const std::string& name = key.Scalar();
    const std::string key_path = join_path(path, name);
    if (!seen.insert(name).second) fail(key, key_path, "duplicate key '" + name + "'");
    if (value.IsNull()) empty_value_keys_[key_path] = key.Mark();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) fail(key, key_path, reserved_message);
    fail(key, key_path,
         "unknown key '" + name + "'" + (path.empty() ? "" : " in '" + path + "'") + "." +
             suggestion(name, allowed) + " Valid keys: " + join(allowed) + ".");
  }
}

YAML::Node YamlReader::find(const YAML::Node& map, const std::string& key) const {
  if (map.IsMap())
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node YamlReader::require(const YAML::Node& map, const std::string& path, const std::string& key,
                               const std::string& expectation) const {
  YAML::Node value = find(map, key);
  if (!value.IsDefined())
    fail(map, path, "missing required key '" + key + "' (" + expectation + ")");
  return value;
}

double YamlReader::number(const YAML::Node& node, const std::string& path, const std::string& expectation) const {
  double v = 0;
  if (!is_plain_scalar(node) || !parse_double(node.Scalar(), v))
    fail(node, path, "expected " + expectation + ", got " + describe(node));
  remember(node, path);
  return v;
}

long long YamlReader::integer(const YAML::Node& node, const std::string& path, const std::string& expectation) const {
  double v = 0;
  if (!is_plain_scalar(node) || !parse_double(node.Scalar(), v) || v != std::floor(v) || std::fabs(v) > 9.0e15)
    fail(node, path, "expected " + expectation + ", got " + describe(node));
  remember(node, path);
  return static_cast<long long>(v);
}

bool YamlReader::boolean(const YAML::Node& node, const std::string& path) const {
  if (is_plain_scalar(node)) {
    remember(node, path);
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  fail(node, path, "expected true or false, got " + describe(node));
}

std::string YamlReader::string(const YAML::Node& node, const std::string& path, const std::string& expectation) const {
  if (!node.IsScalar() || node.Scalar().empty()) fail(node, path, "expected " + expectation + ", got " + describe(node));
  remember(node, path);
  return node.Scalar();
}

std::string YamlReader::choice(const YAML::Node& node, const std::string& path,
                               const std::vector<std::string>& options) const {
  const std::string expectation = "one of " + join(options);
  const std::string s = string(node, path, expectation);
  if (std::find(options.begin(), options.end(), s) == options.end())
    fail(node, path, "expected " + expectation + ", got '" + s + "'." + suggestion(s, options));
  return s;
}

std::array<double, 3> YamlReader::vector(const YAML::Node& node, const std::string& path, int n,
                                         const std::string& unit, bool scalar_broadcast) const {
  const std::string what = "a list of " + std::to_string(n) + " numbers" + (unit.empty() ? "" : " [" + unit + "]") +
                           (scalar_broadcast ? " or a single number" : "");
  std::array<double, 3> out{};
  if (scalar_broadcast && node.IsScalar()) {
    const double v = number(node, path, what);
    for (int a = 0; a < n; ++a) out[a] = v;
    remember(node, path);
    return out;
  }
  if (!node.IsSequence()) fail(node, path, "expected " + what + ", got " + describe(node));
  if (int(node.size()) != n) {
    std::ostringstream os;
    os << "expected " << what << " (one per axis for dim " << n << "), got " << node.size()
       << (node.size() == 1 ? " entry" : " entries");
    fail(node, path, os.str());
  }
  for (int a = 0; a < n; ++a) out[a] = number(node[a], path + "[" + std::to_string(a) + "]", "a number");
  remember(node, path);
  return out;
}

}  // namespace pl::scene::detail
