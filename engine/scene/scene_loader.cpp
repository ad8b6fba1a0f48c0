#include "engine/scene/scene_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/render/camera.hpp"
#include "engine/render/colormap.hpp"
#include "engine/scene/optimize_loader.hpp"  // issue 7
#include "engine/scene/tools_loader.hpp"     // issue 6
#include "engine/scene/fem_loader.hpp"       // issue 5
#include "engine/scene/sha256.hpp"
#include "engine/scene/yaml_reader.hpp"

#ifndef PLIANT_VERSION
#define PLIANT_VERSION "unknown"
#endif

namespace pl::scene {

namespace fs = std::filesystem;
using detail::join;
using detail::join_path;
using detail::YamlReader;

// ---------------------------------------------------------------------------
// Small pieces of scene_desc.hpp

std::string SourceLoc::str() const {
  if (!origin.empty()) return origin;
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string context(const SourceLoc& loc, const std::string& key_path) {
  const std::string where = loc.str();
  if (key_path.empty()) return where;
  return where.empty() ? key_path : where + ": " + key_path;
}

const char* precision_name(Precision p) { return p == Precision::Double ? "double" : "float"; }

const char* wall_type_name(WallType t) {
  switch (t) {
    case WallType::Sticky: return "sticky";
    case WallType::Slip: return "slip";
    case WallType::Separate: return "separate";
  }
  return "?";
}

const char* shape_type_name(ShapeType t) {
  switch (t) {
    case ShapeType::Box: return "box";
    case ShapeType::Sphere: return "sphere";
    case ShapeType::Cylinder: return "cylinder";
    case ShapeType::Mesh: return "mesh";
  }
  return "?";
}

const char* color_by_name(ColorBy c) {
  switch (c) {
    case ColorBy::Material: return "material";
    case ColorBy::Body: return "body";
    case ColorBy::Speed: return "speed";
    case ColorBy::Plastic: return "plastic";
  }
  return "?";
}

bool OutputDesc::writes(const std::string& format) const {
  return std::find(formats.begin(), formats.end(), format) != formats.end();
}

std::array<double, 3> SimulationDesc::domain_upper() const {
  std::array<double, 3> u{};
  for (int a = 0; a < dim; ++a) u[a] = origin[a] + cells[a] * dx;
  return u;
}

int SceneDesc::material_index(const std::string& label) const {
  for (std::size_t i = 0; i < materials.size(); ++i)
    if (materials[i].label == label) return int(i);
  return -1;
}

int SceneDesc::body_index(const std::string& name) const {
  for (std::size_t i = 0; i < bodies.size(); ++i)
    if (bodies[i].name == name) return int(i);
  return -1;
}

std::string SceneDesc::where(const std::string& key_path) const {
  const auto it = locations.find(key_path);
  if (it != locations.end()) return context(it->second, key_path);
  return path + ": " + key_path;
}

std::vector<materials::MaterialDesc> SceneDesc::material_table() const {
  std::vector<materials::MaterialDesc> table;
  for (const auto& m : materials) table.push_back(m.desc);
  return table;
}

const std::vector<std::string>& scene_sections() {
  static const std::vector<std::string> s = {"version",   "description", "simulation", "materials",
                                             "bodies",    "output",      "preview",
                                             "controls",  "objective",   "optimizer",  // issue 7: optimization
                                             "tools",    // issue 6
                                             "fem"};     // issue 5: FEM tet bodies (fem_loader.cpp)
  return s;
}

const std::vector<std::string>& reserved_scene_sections() {
  static const std::vector<std::string> s = {};  // issue 6: tools is read now (tools_loader.cpp)
  return s;
}

// ---------------------------------------------------------------------------
// SceneDocument

struct SceneDocument::Impl {
  std::string path;
  std::string base_dir;
  std::string sha256;
  YAML::Node root;
  std::vector<OverrideRecord> overrides;
};

namespace {

YAML::Node parse_yaml(const std::string& text, const std::string& display_name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    std::ostringstream os;
    os << display_name;
    if (!e.mark.is_null()) os << ":" << e.mark.line + 1 << ":" << e.mark.column + 1;
    os << ": YAML syntax error: " << e.msg;
    throw InputError(os.str());
  }
}

}  // namespace

SceneDocument::SceneDocument(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SceneDocument::SceneDocument(const SceneDocument& other) : impl_(std::make_unique<Impl>(*other.impl_)) {
  impl_->root.reset(YAML::Clone(other.impl_->root));  // assignment would alias both trees
}
SceneDocument& SceneDocument::operator=(const SceneDocument& other) {
  if (this != &other) *this = SceneDocument(other);
  return *this;
}
SceneDocument::SceneDocument(SceneDocument&&) noexcept = default;
SceneDocument& SceneDocument::operator=(SceneDocument&&) noexcept = default;
SceneDocument::~SceneDocument() = default;

const std::string& SceneDocument::path() const { return impl_->path; }
const std::string& SceneDocument::base_dir() const { return impl_->base_dir; }
const std::vector<OverrideRecord>& SceneDocument::overrides() const { return impl_->overrides; }

SceneDocument SceneDocument::from_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": scene file not found");
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a directory, expected a scene file (.yaml)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the scene file for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path + ": error while reading the scene file");
  std::string dir = fs::path(path).parent_path().string();
  return from_string(text.str(), path, dir.empty() ? "." : dir);
}

SceneDocument SceneDocument::from_string(const std::string& text, const std::string& display_name,
                                         const std::string& base_dir) {
  auto impl = std::make_unique<Impl>();
  impl->path = display_name;
  impl->base_dir = base_dir.empty() ? "." : base_dir;
  impl->sha256 = sha256_hex(text);
  impl->root.reset(parse_yaml(text, display_name));
  return SceneDocument(std::move(impl));
}

void SceneDocument::apply_override(const std::string& assignment, const std::string& origin_in) {
  const std::string origin = origin_in.empty() ? "--set " + assignment : origin_in;
  const auto bad = [&](const std::string& why) { throw InputError(origin + ": " + why); };
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    bad("expected key.path=value, e.g. simulation.frames=10 or bodies.jelly.velocity=[0,-1,0]");
  const std::string key = assignment.substr(0, eq);
  const std::string value_text = assignment.substr(eq + 1);

  std::vector<std::string> segments;
  for (std::size_t start = 0;;) {
    const std::size_t dot = key.find('.', start);
    segments.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (segments.back().empty()) bad("empty component in key path '" + key + "'");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (value_text.empty()) bad("missing value after '=' (write key=value)");
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::ParserException& e) {
    bad("the value '" + value_text + "' is not valid YAML: " + e.msg);
  }

  if (!impl_->root.IsDefined() || impl_->root.IsNull()) impl_->root.reset(YAML::Node(YAML::NodeType::Map));
  // Node handles alias the tree: re-seat with reset(), never assign, while walking.
  YAML::Node cur;
  cur.reset(impl_->root);
  std::string path;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& seg = segments[i];
    const bool last = i + 1 == segments.size();
    const bool numeric = std::all_of(seg.begin(), seg.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (cur.IsSequence()) {
      if (!numeric) bad("'" + path + "' is a list; select an entry by number, e.g. '" + path + ".0'");
      const std::size_t index = seg.size() > 9 ? std::size_t(-1) : std::stoul(seg);
      if (index >= cur.size())
        bad("'" + path + "' has " + std::to_string(cur.size()) + " entries; index " + seg + " is out of range");
      path += "[" + seg + "]";
      if (last) {
        cur[index] = value;
        break;
      }
      YAML::Node next = cur[index];
      cur.reset(next);
      continue;
    }
    if (cur.IsScalar())
      bad("'" + path + "' is a value, not a section, so it has no key '" + seg + "'");
    path = join_path(path, seg);
    if (last) {
      cur[seg] = value;
      break;
    }
    const YAML::Node& const_cur = cur;
    if (!const_cur[seg].IsDefined() || const_cur[seg].IsNull()) cur[seg] = YAML::Node(YAML::NodeType::Map);
    YAML::Node next = cur[seg];
    cur.reset(next);
  }
  impl_->overrides.push_back({path, origin});
}

// ---------------------------------------------------------------------------
// Validation and conversion

namespace {

const std::vector<std::string> kWallTypes = {"sticky", "slip", "separate"};
const std::vector<std::string> kShapeTypes = {"box", "sphere", "cylinder", "mesh"};
const std::vector<std::string> kAxisNames = {"x", "y", "z"};
constexpr long long kMaxGridNodes = 1LL << 30;
constexpr long long kMaxParticlesPerCell = 4096;

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

std::string vec_str(const std::array<double, 3>& v, int n) {
  std::string s = "[";
  for (int a = 0; a < n; ++a) s += (a ? ", " : "") + fmt(v[a]);
  return s + "]";
}

bool valid_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

struct ParseInput {
  const std::string& path;
  const std::string& base_dir;
  const std::string& sha256;
  const YAML::Node& root;
  const std::vector<OverrideRecord>& overrides;
};

class Parser {
 public:
  explicit Parser(const ParseInput& doc) : doc_(doc), r_(doc.path, doc.overrides) {}

  SceneDesc run() {
    SceneDesc s;
    s.path = doc_.path;
    s.base_dir = doc_.base_dir;
    s.source_sha256 = doc_.sha256;
    s.overrides = doc_.overrides;
    const YAML::Node& root = doc_.root;
    if (!root.IsDefined() || root.IsNull())
      throw InputError(doc_.path + ": the scene is empty; it needs at least 'version: 1' and the sections "
                                   "simulation, materials and bodies (see docs/scene_format.md)");
    if (!root.IsMap())
      r_.fail(root, "", "a scene must be a mapping of sections (version, simulation, materials, bodies, output)");

    // The version decides how the rest is read, so it is checked first.
    const YAML::Node version = r_.find(root, "version");
    if (!version.IsDefined())
      r_.fail(root, "", "missing required key 'version' (add 'version: 1' at the top of the scene)");
    s.version = int(r_.integer(version, "version", "the scene format version, an integer"));
    if (s.version != kSceneFormatVersion)
      r_.fail(version, "version",
              "scene format version " + std::to_string(s.version) + " is not supported; Pliant " PLIANT_VERSION
              " reads version " + std::to_string(kSceneFormatVersion));

    r_.check_map(root, "", scene_sections(), reserved_scene_sections(),
                 "this section is not supported in scene format version 1 (Pliant " PLIANT_VERSION
                 "); it is reserved for a later version. Remove it from the scene.");

    if (const YAML::Node d = r_.find(root, "description"); d.IsDefined())
      s.description = r_.string(d, "description", "a text");

    parse_simulation(r_.require(root, "", "simulation", "the section with dim, dt, substeps_per_frame, frames, dx and domain"),
                     s.simulation);
    // A scene of FEM bodies only may also leave out `materials:` (shells carry their material inline).
    if (r_.find(root, "materials").IsDefined() || !r_.find(root, "fem").IsDefined())
      parse_materials(r_.require(root, "", "materials", "a mapping from material labels to {model, density, parameters}"),
                      s);
    // issue 5: a scene of FEM bodies only (a `fem:` section) may leave out the MPM `bodies:`.
    if (r_.find(root, "bodies").IsDefined() || !r_.find(root, "fem").IsDefined())
      parse_bodies(r_.require(root, "", "bodies",
                              "a mapping from body names to {material, shape, ...} (or FEM bodies under fem.bodies)"),
                   s);
    parse_output(r_.find(root, "output"), s);
    parse_preview(r_.find(root, "preview"), s);
    parse_tools(root, r_, s);         // issue 6: tools (tools_loader.cpp); before the controls, which may name tools
    parse_optimization(root, r_, s);  // issue 7: controls, objective, optimizer (optimize_loader.cpp)
    parse_fem(root, r_, s);           // issue 5: fem (fem_loader.cpp)
    if (s.bodies.empty() && s.fem.bodies.empty())  // issue 5: e.g. an empty fem section
      r_.fail(root, "", "the scene has no bodies: add MPM bodies under 'bodies:' or FEM bodies under 'fem.bodies:'");
    s.locations = r_.locations();
    return s;
  }

 private:
  // --- helpers -------------------------------------------------------------
  double number_in(const YAML::Node& map, const std::string& path, const std::string& key, double fallback,
                   bool required, const std::string& expectation, bool (*ok)(double)) {
    const std::string p = join_path(path, key);
    const YAML::Node n = required ? r_.require(map, path, key, expectation) : r_.find(map, key);
    if (!n.IsDefined()) return fallback;
    const double v = r_.number(n, p, expectation);
    if (!ok(v)) r_.fail(n, p, "expected " + expectation + ", got " + fmt(v));
    return v;
  }
  long long integer_in(const YAML::Node& map, const std::string& path, const std::string& key, long long fallback,
                       bool required, const std::string& expectation, long long lo, long long hi) {
    const std::string p = join_path(path, key);
    const YAML::Node n = required ? r_.require(map, path, key, expectation) : r_.find(map, key);
    if (!n.IsDefined()) return fallback;
    const long long v = r_.integer(n, p, expectation);
    if (v < lo || v > hi) r_.fail(n, p, "expected " + expectation + ", got " + std::to_string(v));
    return v;
  }
  static bool positive(double v) { return v > 0; }
  static bool non_negative(double v) { return v >= 0; }
  static bool any(double) { return true; }

  // --- simulation ----------------------------------------------------------
  void parse_simulation(const YAML::Node& sim, SimulationDesc& s) {
    const std::string sp = "simulation";
    s.loc = r_.locate(sim, sp);
    r_.check_map(sim, sp,
                 {"dim", "precision", "backend", "dt", "substeps_per_frame", "frames", "dx", "domain", "gravity",
                  "bound_cells", "cfl", "allow_unstable_dt", "walls"});
    s.dim = int(integer_in(sim, sp, "dim", 3, true, "the number of space dimensions, 2 or 3", 2, 3));
    if (const YAML::Node n = r_.find(sim, "precision"); n.IsDefined())
      s.precision = r_.choice(n, sp + ".precision", {"float", "double"}) == "double" ? Precision::Double
                                                                                   : Precision::Float;
    if (const YAML::Node n = r_.find(sim, "backend"); n.IsDefined())
      s.backend = r_.choice(n, sp + ".backend", {"cpu", "cuda", "auto"});
    s.dt = number_in(sim, sp, "dt", 0, true, "a substep length > 0 [s]", positive);
    s.substeps_per_frame = int(integer_in(sim, sp, "substeps_per_frame", 1, true,
                                          "the number of substeps per output frame, an integer >= 1", 1, 100000000));
    s.frames = int(integer_in(sim, sp, "frames", 1, true, "the number of frames to simulate, an integer >= 0", 0,
                              100000000));
    s.dx = number_in(sim, sp, "dx", 0, true, "a grid spacing > 0 [m]", positive);
    s.bound_cells = int(integer_in(sim, sp, "bound_cells", 3, false, "the wall layer thickness, an integer >= 1 [cells]",
                                   1, 1000));
    s.cfl = number_in(sim, sp, "cfl", 1.0, false, "a CFL factor > 0", positive);
    if (const YAML::Node n = r_.find(sim, "allow_unstable_dt"); n.IsDefined())
      s.allow_unstable_dt = r_.boolean(n, sp + ".allow_unstable_dt");
    if (const YAML::Node n = r_.find(sim, "gravity"); n.IsDefined())
      s.gravity = r_.vector(n, sp + ".gravity", s.dim, "m/s^2");
    parse_domain(r_.require(sim, sp, "domain", "{origin, size} or {origin, resolution}"), s);
    parse_walls(r_.find(sim, "walls"), s);
  }

  void parse_domain(const YAML::Node& dom, SimulationDesc& s) {
    const std::string dp = "simulation.domain";
    r_.check_map(dom, dp, {"origin", "size", "resolution"});
    if (const YAML::Node n = r_.find(dom, "origin"); n.IsDefined()) s.origin = r_.vector(n, dp + ".origin", s.dim, "m");
    const YAML::Node size = r_.find(dom, "size"), res = r_.find(dom, "resolution");
    if (size.IsDefined() == res.IsDefined())
      r_.fail(dom, dp,
              size.IsDefined() ? "give either 'size' [m] or 'resolution' [cells], not both"
                               : "missing required key 'size' (domain extent [m] per axis) or 'resolution' "
                                 "(grid cells per axis)");
    if (size.IsDefined()) {
      const auto ext = r_.vector(size, dp + ".size", s.dim, "m", true);
      for (int a = 0; a < s.dim; ++a) {
        if (!(ext[a] > 0)) r_.fail(size, dp + ".size", "every extent must be > 0 [m], got " + vec_str(ext, s.dim));
        const double n = ext[a] / s.dx;
        // A size that is a whole number of cells up to rounding gives exactly that many.
        const double nearest = std::round(n);
        const double cells = std::fabs(n - nearest) <= 1e-6 * std::max(1.0, nearest) ? nearest : std::ceil(n);
        if (cells > 1e9) r_.fail(size, dp + ".size", "the domain is more than 1e9 cells of dx = " + fmt(s.dx) + " m wide");
        s.cells[a] = int(cells);
      }
    } else {
      const auto cells = r_.vector(res, dp + ".resolution", s.dim, "cells", true);
      for (int a = 0; a < s.dim; ++a) {
        if (cells[a] != std::floor(cells[a]) || cells[a] < 1 || cells[a] > 1e9)
          r_.fail(res, dp + ".resolution", "expected whole numbers of grid cells >= 1, got " + vec_str(cells, s.dim));
        s.cells[a] = int(cells[a]);
      }
    }
    const YAML::Node at = size.IsDefined() ? size : res;
    const std::string at_path = dp + (size.IsDefined() ? ".size" : ".resolution");
    long long nodes = 1;
    for (int a = 0; a < s.dim; ++a) {
      const int min_cells = 2 * s.bound_cells + 3;
      if (s.cells[a] < min_cells)
        r_.fail(at, at_path,
                "the grid has " + std::to_string(s.cells[a]) + " cells along axis " + kAxisNames[a] +
                    "; it needs at least 2 * bound_cells + 3 = " + std::to_string(min_cells) +
                    " (enlarge the domain or reduce dx)");
      nodes *= (s.cells[a] + 1);
      if (nodes > kMaxGridNodes)
        r_.fail(at, at_path, "the grid would have more than 2^30 nodes; is dx = " + fmt(s.dx) + " m in meters?");
    }
  }

  void parse_walls(const YAML::Node& walls, SimulationDesc& s) {
    const std::string wp = "simulation.walls";
    if (!walls.IsDefined()) return;  // defaults: separate, friction 0
    std::vector<std::string> faces = {"all", "x_low", "x_high", "y_low", "y_high"};
    std::vector<std::string> reserved;
    if (s.dim == 3) {
      faces.push_back("z_low");
      faces.push_back("z_high");
    } else {
      reserved = {"z_low", "z_high"};
    }
    r_.check_map(walls, wp, faces, reserved, "a 2D scene (simulation.dim: 2) has no z walls");
    // `all` first, then the named faces on top of it (a face may give only its friction).
    struct Partial {
      bool has_type = false, has_friction = false;
      WallType type = WallType::Separate;
      double friction = 0;
      YAML::Node node;
      std::string path;
    };
    const auto read = [&](const std::string& face) {
      Partial p;
      p.path = wp + "." + face;
      p.node = r_.find(walls, face);
      if (!p.node.IsDefined()) return p;
      r_.check_map(p.node, p.path, {"type", "friction"});
      if (const YAML::Node t = r_.find(p.node, "type"); t.IsDefined()) {
        const std::string name = r_.choice(t, p.path + ".type", kWallTypes);
        p.type = name == "sticky" ? WallType::Sticky : name == "slip" ? WallType::Slip : WallType::Separate;
        p.has_type = true;
      }
      p.friction = number_in(p.node, p.path, "friction", 0, false, "a Coulomb friction coefficient >= 0", non_negative);
      p.has_friction = r_.has(p.node, "friction");
      return p;
    };
    const Partial all = read("all");
    const auto friction_error = [&](const Partial& at, WallType type) {
      r_.fail(at.node, at.path,
              std::string("friction applies only to walls of type 'separate', but this wall is '") +
                  wall_type_name(type) + "' (sticky walls stop all motion, slip walls are frictionless)");
    };
    if (all.has_type && all.type != WallType::Separate && all.has_friction && all.friction != 0)
      friction_error(all, all.type);
    for (int a = 0; a < s.dim; ++a)
      for (int side = 0; side < 2; ++side) {
        const Partial face = read(kAxisNames[a] + (side ? "_high" : "_low"));
        WallDesc w;
        w.type = face.has_type ? face.type : all.has_type ? all.type : WallType::Separate;
        if (face.has_friction) {
          if (w.type != WallType::Separate && face.friction != 0) friction_error(face, w.type);
          w.friction = face.friction;
        } else if (w.type == WallType::Separate) {
          w.friction = all.friction;  // `all`'s friction applies to the faces that end up separate
        }
        s.walls[a][side] = w;
      }
  }

  // --- materials -----------------------------------------------------------
  void parse_materials(const YAML::Node& mats, SceneDesc& s) {
    const std::string mp = "materials";
    if (!mats.IsMap() || mats.size() == 0)
      r_.fail(mats, mp, "expected a mapping from material labels to {model, density, parameters}, e.g. "
                        "'jelly: {model: fixed_corotated, density: 1000, E: 1e4, nu: 0.3}'");
    r_.check_map(mats, mp, keys_of(mats));  // duplicates
    const std::vector<std::string> models = materials::model_names();
    for (const auto& [key, value] : r_.entries(mats)) {
      MaterialEntry m;
      m.label = key.Scalar();
      const std::string path = mp + "." + m.label;
      if (!valid_name(m.label))
        r_.fail(key, path, "material labels may only use letters, digits, '_' and '-'");
      m.loc = r_.locate(value, path);
      if (!value.IsMap()) r_.fail(value, path, "expected a mapping {model, density, parameters...}");
      const YAML::Node model = r_.find(value, "model");
      if (!model.IsDefined()) {
        r_.check_map(value, path, {"model", "density"});  // a typo of 'model' gets its suggestion
        r_.fail(value, path, "missing required key 'model' (one of " + join(models) + ")");
      }
      m.model = r_.choice(model, path + ".model", models);
      const int id = int(std::find(models.begin(), models.end(), m.model) - models.begin());
      const materials::ModelInfo info = materials::model_info(id);
      std::vector<std::string> allowed = {"model", "density"};
      for (int i = 0; i < info.num_params; ++i) allowed.emplace_back(info.params[i].name);
      r_.check_map(value, path, allowed);
      m.density = number_in(value, path, "density", 1000.0, false, "a density > 0 [kg/m^3]", positive);
      for (int i = 0; i < info.num_params; ++i) {
        const std::string name = info.params[i].name;
        if (const YAML::Node p = r_.find(value, name); p.IsDefined())
          m.params[name] = r_.number(p, path + "." + name,
                                     std::string("a number [") + info.params[i].unit + "] (" + info.params[i].meaning + ")");
      }
      try {
        m.desc = materials::make_material(m.label, m.model, m.params, m.density, "");
      } catch (const InputError& e) {
        // Point at the parameter the model complains about, when it names one.
        const std::string message = e.what();
        for (const auto& name : allowed)
          if (message.find("'" + name + "'") != std::string::npos && r_.has(value, name))
            r_.fail(r_.find(value, name), path + "." + name, message);
        r_.fail(value, path, message);
      }
      s.materials.push_back(std::move(m));
    }
  }

  // --- bodies --------------------------------------------------------------
  void parse_bodies(const YAML::Node& bodies, SceneDesc& s) {
    const std::string bp = "bodies";
    if (!bodies.IsMap() || bodies.size() == 0)
      r_.fail(bodies, bp, "expected a mapping from body names to {material, shape, ...}, e.g. "
                          "'cube: {material: jelly, shape: {type: box, lower: [...], upper: [...]}}'");
    r_.check_map(bodies, bp, keys_of(bodies));
    std::vector<std::string> labels;
    for (const auto& m : s.materials) labels.push_back(m.label);
    const int D = s.simulation.dim;
    for (const auto& [key, value] : r_.entries(bodies)) {
      BodyDesc b;
      b.name = key.Scalar();
      const std::string path = bp + "." + b.name;
      if (!valid_name(b.name)) r_.fail(key, path, "body names may only use letters, digits, '_' and '-'");
      b.loc = r_.locate(value, path);
      r_.check_map(value, path, {"material", "shape", "particles_per_cell", "seed", "velocity"});
      const YAML::Node mat = r_.require(value, path, "material", "a label from the 'materials' section");
      b.material = r_.string(mat, path + ".material", "a material label");
      b.material_index = s.material_index(b.material);
      if (b.material_index < 0)
        r_.fail(mat, path + ".material",
                "unknown material '" + b.material + "'." + detail::suggestion(b.material, labels) +
                    " Materials defined in this scene: " + join(labels) + ".");
      b.particles_per_cell = int(integer_in(value, path, "particles_per_cell", D == 2 ? 4 : 8, false,
                                            "particles per grid cell, an integer in [1, 4096]", 1, kMaxParticlesPerCell));
      b.seed = std::uint64_t(integer_in(value, path, "seed", 0, false, "a random seed, an integer >= 0", 0,
                                        std::numeric_limits<long long>::max()));
      if (const YAML::Node v = r_.find(value, "velocity"); v.IsDefined())
        b.velocity = r_.vector(v, path + ".velocity", D, "m/s");
      parse_shape(r_.require(value, path, "shape", "{type: box|sphere|cylinder|mesh, ...}"), path + ".shape", s, b);
      s.bodies.push_back(std::move(b));
    }
  }

  void parse_shape(const YAML::Node& shape, const std::string& path, const SceneDesc& s, BodyDesc& b) {
    const int D = s.simulation.dim;
    ShapeDesc& sh = b.shape;
    sh.loc = r_.locate(shape, path);
    const YAML::Node type = r_.find(shape, "type");
    if (!shape.IsMap() || !type.IsDefined()) {
      r_.check_map(shape, path, {"type", "lower", "upper", "center", "radius", "height", "axis", "file", "scale",
                                 "rotation_deg", "translation"});
      r_.fail(shape, path, "missing required key 'type' (one of " + join(kShapeTypes) + ")");
    }
    const std::string t = r_.choice(type, path + ".type", kShapeTypes);
    if (D == 2 && (t == "cylinder" || t == "mesh"))
      r_.fail(type, path + ".type", "shape type '" + t + "' needs simulation.dim: 3; in 2D use box or sphere (a disk)");
    if (t == "box") {
      sh.type = ShapeType::Box;
      r_.check_map(shape, path, {"type", "lower", "upper"});
      sh.lower = r_.vector(r_.require(shape, path, "lower", "the lower corner [m]"), path + ".lower", D, "m");
      const YAML::Node up = r_.require(shape, path, "upper", "the upper corner [m]");
      sh.upper = r_.vector(up, path + ".upper", D, "m");
      for (int a = 0; a < D; ++a)
        if (!(sh.upper[a] > sh.lower[a]))
          r_.fail(up, path + ".upper",
                  "upper " + vec_str(sh.upper, D) + " must exceed lower " + vec_str(sh.lower, D) + " on every axis (axis " +
                      kAxisNames[a] + " does not)");
    } else if (t == "sphere" || t == "cylinder") {
      const bool cyl = t == "cylinder";
      sh.type = cyl ? ShapeType::Cylinder : ShapeType::Sphere;
      if (cyl)
        r_.check_map(shape, path, {"type", "center", "radius", "height", "axis"});
      else
        r_.check_map(shape, path, {"type", "center", "radius"});
      sh.center = r_.vector(r_.require(shape, path, "center", "the centre [m]"), path + ".center", D, "m");
      sh.radius = number_in(shape, path, "radius", 0, true, "a radius > 0 [m]", positive);
      if (cyl) {
        sh.height = number_in(shape, path, "height", 0, true, "the full length along the axis, > 0 [m]", positive);
        if (const YAML::Node ax = r_.find(shape, "axis"); ax.IsDefined()) {
          const std::string name = r_.choice(ax, path + ".axis", kAxisNames);
          sh.axis = int(std::find(kAxisNames.begin(), kAxisNames.end(), name) - kAxisNames.begin());
        }
      }
    } else {
      sh.type = ShapeType::Mesh;
      r_.check_map(shape, path, {"type", "file", "scale", "rotation_deg", "translation"});
      const YAML::Node file = r_.require(shape, path, "file", "an OBJ file, relative to the scene's directory");
      sh.file = r_.string(file, path + ".file", "an OBJ file path");
      const fs::path p(sh.file);
      sh.resolved_file = (p.is_absolute() ? p : fs::path(s.base_dir) / p).lexically_normal().string();
      std::error_code ec;
      if (fs::is_directory(sh.resolved_file, ec))
        r_.fail(file, path + ".file", "'" + sh.file + "' is a directory ('" + sh.resolved_file +
                                          "'); expected an OBJ mesh file");
      if (!fs::is_regular_file(sh.resolved_file, ec))
        r_.fail(file, path + ".file",
                "mesh file '" + sh.file + "' not found (looked for '" + sh.resolved_file +
                    "'; relative paths are resolved against the scene file's directory '" + s.base_dir + "')");
      if (const YAML::Node n = r_.find(shape, "scale"); n.IsDefined()) {
        sh.scale = r_.vector(n, path + ".scale", 3, "1", true);
        for (int a = 0; a < 3; ++a)
          if (sh.scale[a] == 0) r_.fail(n, path + ".scale", "scale factors must be non-zero, got " + vec_str(sh.scale, 3));
      }
      if (const YAML::Node n = r_.find(shape, "rotation_deg"); n.IsDefined())
        sh.rotation_deg = r_.vector(n, path + ".rotation_deg", 3, "deg");
      if (const YAML::Node n = r_.find(shape, "translation"); n.IsDefined())
        sh.translation = r_.vector(n, path + ".translation", 3, "m");
      return;  // its extent is known once the mesh is loaded (build_world checks it)
    }
    check_inside_domain(shape, path, s.simulation, sh);
  }

  /// The shape's bounding box must lie in the domain minus the wall layers:
  /// the world refuses particles there, and the message is better here.
  void check_inside_domain(const YAML::Node& at, const std::string& path, const SimulationDesc& sim,
                           const ShapeDesc& sh) {
    std::array<double, 3> lo{}, hi{};
    for (int a = 0; a < sim.dim; ++a) {
      if (sh.type == ShapeType::Box) {
        lo[a] = sh.lower[a], hi[a] = sh.upper[a];
      } else {
        const double half = sh.type == ShapeType::Cylinder && a == sh.axis ? sh.height / 2 : sh.radius;
        lo[a] = sh.center[a] - half, hi[a] = sh.center[a] + half;
      }
    }
    for (int a = 0; a < sim.dim; ++a) {
      const double inner_lo = sim.origin[a] + sim.bound_cells * sim.dx;
      const double inner_hi = sim.origin[a] + (sim.cells[a] - sim.bound_cells) * sim.dx;
      const double tol = 1e-9 * sim.dx;
      if (lo[a] < inner_lo - tol || hi[a] > inner_hi + tol)
        r_.fail(at, path,
                std::string("the ") + shape_type_name(sh.type) + " spans " + fmt(lo[a]) + " to " + fmt(hi[a]) +
                    " m along " + kAxisNames[a] + ", outside the domain interior [" + fmt(inner_lo) + ", " +
                    fmt(inner_hi) + "] m (the domain minus the " + std::to_string(sim.bound_cells) +
                    "-cell wall layer)");
    }
  }

  // --- output --------------------------------------------------------------
  void parse_output(const YAML::Node& out, SceneDesc& s) {
    const std::string op = "output";
    const std::string stem = fs::path(doc_.path).stem().string();
    s.output.dir = "out/" + (stem.empty() || stem.front() == '<' ? std::string("scene") : stem);
    s.output.loc = r_.locate(out, op);
    if (!out.IsDefined()) return;
    r_.check_map(out, op, {"dir", "every_n_frames", "format"});
    if (const YAML::Node n = r_.find(out, "dir"); n.IsDefined()) s.output.dir = r_.string(n, op + ".dir", "a directory");
    s.output.every_n_frames = int(integer_in(out, op, "every_n_frames", 1, false,
                                             "write every n-th frame, an integer >= 1", 1, 100000000));
    if (const YAML::Node n = r_.find(out, "format"); n.IsDefined()) {
      // One format or a list of them: `format: ply`, `format: [ply, npz]`.
      const std::vector<std::string> known = {"ply", "npz"};
      const std::string fp = op + ".format";
      s.output.formats.clear();
      if (n.IsSequence()) {
        if (n.size() == 0) r_.fail(n, fp, "expected at least one of " + join(known) + ", got an empty list");
        for (std::size_t i = 0; i < n.size(); ++i) {
          const std::string f = r_.choice(n[i], fp, known);
          if (s.output.writes(f)) r_.fail(n[i], fp, "format '" + f + "' is listed twice");
          s.output.formats.push_back(f);
        }
      } else {
        if (!n.IsScalar()) r_.fail(n, fp, "expected one of " + join(known) + " or a list of them, e.g. [ply, npz]");
        s.output.formats.push_back(r_.choice(n, fp, known));
      }
    }
  }

  // --- preview -------------------------------------------------------------
  void parse_preview(const YAML::Node& pv, SceneDesc& s) {
    const std::string pp = "preview";
    PreviewDesc& p = s.preview;
    const SimulationDesc& sim = s.simulation;
    p.loc = r_.locate(pv, pp);
    const std::vector<std::string> keys = {"enabled", "every_n_frames", "width", "height", "camera", "color_by",
                                           "colormap", "range", "particle_radius", "background"};
    if (pv.IsDefined()) {
      if (sim.dim == 2) {
        std::vector<std::string> keys2d = keys;
        keys2d.erase(std::find(keys2d.begin(), keys2d.end(), "camera"));
        r_.check_map(pv, pp, keys2d, {"camera"},
                     "2D previews show the whole domain (x to the right, y up); a camera applies to 3D scenes only");
      } else {
        r_.check_map(pv, pp, keys);
      }
      if (const YAML::Node n = r_.find(pv, "enabled"); n.IsDefined()) p.enabled = r_.boolean(n, pp + ".enabled");
      p.every_n_frames = int(integer_in(pv, pp, "every_n_frames", 1, false,
                                        "render every n-th frame, an integer >= 1", 1, 100000000));
    }
    // Image size: 3D 640 x 480; 2D 640 wide with the domain's aspect ratio.
    constexpr long long kMinPixels = 16, kMaxPixels = 8192;
    const std::string size_expectation = "a size in pixels, an integer in [16, 8192]";
    const bool has_w = r_.has(pv, "width"), has_h = r_.has(pv, "height");
    p.width = int(integer_in(pv, pp, "width", 640, false, size_expectation, kMinPixels, kMaxPixels));
    p.height = int(integer_in(pv, pp, "height", 480, false, size_expectation, kMinPixels, kMaxPixels));
    if (sim.dim == 2 && !(has_w && has_h)) {
      const auto upper = sim.domain_upper();
      const double aspect = (upper[1] - sim.origin[1]) / (upper[0] - sim.origin[0]);  // height / width
      const auto pixels = [&](double v) {
        return int(std::min<double>(kMaxPixels, std::max<double>(kMinPixels, std::round(v))));
      };
      if (has_h) p.width = pixels(p.height / aspect);
      else p.height = pixels(p.width * aspect);
    }
    if (const YAML::Node n = r_.find(pv, "color_by"); n.IsDefined()) {
      const std::string c = r_.choice(n, pp + ".color_by", {"material", "body", "speed", "plastic"});
      p.color_by = c == "body" ? ColorBy::Body : c == "speed" ? ColorBy::Speed : c == "plastic" ? ColorBy::Plastic
                                                                                               : ColorBy::Material;
    }
    if (const YAML::Node n = r_.find(pv, "colormap"); n.IsDefined())
      p.colormap = r_.choice(n, pp + ".colormap", render::colormap_names());
    if (const YAML::Node n = r_.find(pv, "range"); n.IsDefined()) {
      const auto r = r_.vector(n, pp + ".range", 2, "");
      if (!(r[1] > r[0])) r_.fail(n, pp + ".range", "expected [low, high] with high > low, got " + vec_str(r, 2));
      p.fixed_range = true;
      p.range = {r[0], r[1]};
    }
    p.particle_radius = number_in(pv, pp, "particle_radius", 0, false, "a splat radius > 0 [m]", positive);
    if (const YAML::Node n = r_.find(pv, "background"); n.IsDefined()) {
      p.background = r_.vector(n, pp + ".background", 3, "RGB, each in [0, 1]");
      for (double c : p.background)
        if (!(c >= 0 && c <= 1))
          r_.fail(n, pp + ".background", "expected 3 numbers in [0, 1] (red, green, blue), got " + vec_str(p.background, 3));
    }
    if (sim.dim == 3) parse_camera(r_.find(pv, "camera"), s);
  }

  void parse_camera(const YAML::Node& cam, SceneDesc& s) {
    const std::string cp = "preview.camera";
    const SimulationDesc& sim = s.simulation;
    CameraDesc& c = s.preview.camera;
    // Defaults: up against gravity (its dominant axis; +y without gravity), looking
    // at the domain's centre from a diagonal that fits the whole domain.
    std::array<double, 3> up{0, 1, 0};
    int k = -1;
    for (int a = 0; a < 3; ++a)
      if (sim.gravity[a] != 0 && (k < 0 || std::fabs(sim.gravity[a]) > std::fabs(sim.gravity[k]))) k = a;
    if (k >= 0) up = {0, 0, 0}, up[k] = sim.gravity[k] < 0 ? 1 : -1;
    if (cam.IsDefined()) {
      r_.check_map(cam, cp, {"position", "look_at", "up", "fov_deg"});
      if (const YAML::Node n = r_.find(cam, "up"); n.IsDefined()) up = r_.vector(n, cp + ".up", 3, "");
      c.fov_deg = number_in(cam, cp, "fov_deg", 40, false, "a vertical field of view in (0, 180) [deg]",
                            [](double v) { return v > 0 && v < 180; });
    }
    const render::CameraPose pose =
        render::default_pose(sim.origin, sim.domain_upper(), up, c.fov_deg, s.preview.width, s.preview.height);
    c.up = up;
    c.look_at = pose.look_at;
    c.position = pose.position;
    if (!cam.IsDefined()) return;
    const YAML::Node look = r_.find(cam, "look_at"), pos = r_.find(cam, "position");
    if (look.IsDefined()) c.look_at = r_.vector(look, cp + ".look_at", 3, "m");
    if (pos.IsDefined()) {
      c.position = r_.vector(pos, cp + ".position", 3, "m");
    } else if (look.IsDefined()) {
      // Only look_at given: keep the default viewing direction and distance.
      for (int a = 0; a < 3; ++a) c.position[a] = c.look_at[a] + (pose.position[a] - pose.look_at[a]);
    }
    try {
      render::Camera::perspective(c.position, c.look_at, c.up, c.fov_deg, s.preview.width, s.preview.height, "");
    } catch (const InputError& e) {
      r_.fail(cam, cp, e.what());
    }
  }

  std::vector<std::string> keys_of(const YAML::Node& map) const {
    std::vector<std::string> keys;
    for (const auto& [k, v] : r_.entries(map))
      if (k.IsScalar()) keys.push_back(k.Scalar());
    return keys;
  }

  ParseInput doc_;
  YamlReader r_;
};

}  // namespace

SceneDesc SceneDocument::parse() const {
  return Parser(ParseInput{impl_->path, impl_->base_dir, impl_->sha256, impl_->root, impl_->overrides}).run();
}

SceneDesc load_scene(const std::string& path, const std::vector<std::string>& overrides) {
  SceneDocument doc = SceneDocument::from_file(path);
  for (const auto& o : overrides) doc.apply_override(o);
  return doc.parse();
}

SceneDesc parse_scene(const std::string& text, const std::string& display_name, const std::string& base_dir,
                      const std::vector<std::string>& overrides) {
  SceneDocument doc = SceneDocument::from_string(text, display_name, base_dir);
  for (const auto& o : overrides) doc.apply_override(o);
  return doc.parse();
}

void apply_override(SceneDocument& doc, const std::string& assignment, const std::string& origin) {
  doc.apply_override(assignment, origin);
}

}  // namespace pl::scene
