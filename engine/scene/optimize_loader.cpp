#include "engine/scene/optimize_loader.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/coupling/tool.hpp"  // contact_mode_name (tool controls)
#include "materials/registry.hpp"

namespace pl::scene {

namespace fs = std::filesystem;
using detail::join;
using detail::join_path;
using detail::YamlReader;

namespace {

/// A control kind: the keys it takes besides the common ones, and how many
/// values it has (per axis: dim values; actuation: segments x dim; material: 1).
struct ControlKindRow {
  const char* name;
  std::vector<std::string> keys;
  const char* meaning;
};

const std::vector<std::string> kCommonControlKeys = {"kind", "init", "lower", "upper", "log"};

const std::vector<ControlKindRow>& control_kind_table() {
  static const std::vector<ControlKindRow> t = {
      {"initial_velocity", {"body"}, "the initial velocity of one body [m/s], dim values"},
      {"actuation", {"body", "segments"}, "a total force on one body [N], piecewise constant over `segments` pieces"},
      {"material", {"material", "parameter"}, "one material parameter (or density) [its unit]"},
      // issue 7 (opt_tools): tool controls, read by parse_tool_control below
      {"tool_velocity", {"tool", "segments", "linear", "angular"},
       "a tool's linear [m/s] and/or angular [rad/s] velocity, piecewise constant over `segments` pieces"},
      {"tool_waypoints", {"tool", "tools", "times", "position", "rotation"},
       "positions [m] and/or rotations [deg] of a tool (or a rigid group of tools) at key times"},
      {"tool_contact", {"tool", "parameter"}, "a tool's friction coefficient or soft-contact stiffness [1/s^2]"},
      // issue 7 (opt_fold): FEM controls, read by parse_fem_control below
      {"fem_drive", {"body", "waypoints", "translate"},
       "waypoints of an FEM body's drive group: an angle [rad] about the drive's rotation axis, then a translation [m]"},
      {"fem_material", {"body", "parameter"}, "one parameter of an FEM body's energy terms [its unit]"},
      // issue 7 (opt_grasp): coupled MPM + FEM scenes, engine/optim/evaluate_coupled.cpp
      {"fem_coupling", {"parameter"}, "the MPM <-> FEM contact's friction coefficient or stiffness [1/s^2]"},
  };
  return t;
}

struct TermTypeRow {
  const char* name;
  std::vector<std::string> keys;
};

const std::vector<std::string> kCommonTermKeys = {"type", "weight", "frames"};

const std::vector<TermTypeRow>& term_type_table() {
  static const std::vector<TermTypeRow> t = {
      {"com", {"body", "target"}},
      {"mass_in_region", {"body", "lower", "upper", "softness"}},
      {"chamfer", {"body", "file"}},
      {"density", {"body", "file", "norm"}},
      {"smoothness", {"control"}},
      {"trajectory", {"file"}},
      {"tool_force", {"tool"}},  // issue 6: a tool's mean squared reaction force
      {"fem_vertices", {"body", "region", "target", "file"}},  // issue 7 (opt_fold)
      {"fem_crease", {"body", "region", "angle_deg"}},         // issue 7 (opt_fold)
  };
  return t;
}

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

class OptimizationParser {
 public:
  OptimizationParser(const YamlReader& r, SceneDesc& s) : r_(r), s_(s), o_(s.optimization) {}

  void run(const YAML::Node& root) {
    const YAML::Node controls = r_.find(root, "controls");
    const YAML::Node objective = r_.find(root, "objective");
    const YAML::Node optimizer = r_.find(root, "optimizer");
    o_.has_controls_section = controls.IsDefined();
    o_.has_objective_section = objective.IsDefined();
    o_.has_optimizer_section = optimizer.IsDefined();
    if (!o_.present()) return;
    root_ = root;  // issue 7 (opt_fold): FEM controls/terms look up fem.bodies (parsed after this section)
    // An optimization needs all three: a half-written one is a mistake, not a default.
    const std::pair<const char*, YAML::Node> sections[] = {{"controls", controls}, {"objective", objective}, {"optimizer", optimizer}};
    for (const auto& [name, node] : sections)
      if (!node.IsDefined())
        r_.fail(root, "",
                std::string("the scene has ") + (o_.has_controls_section ? "controls" : o_.has_objective_section ? "objective" : "optimizer") +
                    " but no '" + name + "' section; an optimization needs controls, objective and optimizer "
                    "(docs/scene_format.md, Optimization)");
    parse_controls(controls);
    parse_objective(objective);
    parse_optimizer(optimizer);
  }

 private:
  int dim() const { return s_.simulation.dim; }

  std::vector<std::string> body_names() const {
    std::vector<std::string> n;
    for (const auto& b : s_.bodies) n.push_back(b.name);
    return n;
  }

  int body(const YAML::Node& map, const std::string& path, bool required) {
    const YAML::Node n = required ? r_.require(map, path, "body", "a body name under 'bodies'") : r_.find(map, "body");
    if (!n.IsDefined()) return -1;
    const std::string name = r_.string(n, path + ".body", "a body name");
    const int i = s_.body_index(name);
    if (i < 0)
      r_.fail(n, path + ".body",
              "unknown body '" + name + "'." + detail::suggestion(name, body_names()) +
                  " Bodies in this scene: " + join(body_names()) + ".");
    return i;
  }

  /// A list of `count` numbers, or one number for all of them.
  std::vector<double> values(const YAML::Node& n, const std::string& path, std::size_t count, const std::string& unit) {
    const std::string what = "a number or a list of " + std::to_string(count) + " numbers [" + unit + "]";
    std::vector<double> out;
    if (n.IsScalar()) {
      out.assign(count, r_.number(n, path, what));
      return out;
    }
    if (!n.IsSequence()) r_.fail(n, path, "expected " + what);
    if (n.size() != count)
      r_.fail(n, path, "expected " + what + ", got " + std::to_string(n.size()) + " entries");
    for (std::size_t i = 0; i < count; ++i) out.push_back(r_.number(n[i], path + "[" + std::to_string(i) + "]", "a number"));
    return out;
  }

  std::string resolve(const std::string& file) const {
    const fs::path p(file);
    return (p.is_absolute() ? p : fs::path(s_.base_dir) / p).lexically_normal().string();
  }

  // --- controls ------------------------------------------------------------
  void parse_controls(const YAML::Node& controls) {
    const std::string cp = "controls";
    if (!controls.IsMap() || controls.size() == 0)
      r_.fail(controls, cp, "expected a mapping from control names to {kind: " + join(control_kinds()) + ", ...}");
    r_.check_map(controls, cp, keys_of(controls));
    for (const auto& [key, value] : r_.entries(controls)) {
      ControlDesc c;
      c.name = key.Scalar();
      const std::string path = cp + "." + c.name;
      c.loc = r_.locate(value, path).str();
      if (!value.IsMap()) r_.fail(value, path, "expected a mapping {kind: " + join(control_kinds()) + ", init, lower, upper}");
      const YAML::Node kind = r_.require(value, path, "kind", "one of " + join(control_kinds()));
      c.kind = r_.choice(kind, path + ".kind", control_kinds());
      const auto& table = control_kind_table();
      const auto row = std::find_if(table.begin(), table.end(), [&](const ControlKindRow& k) { return c.kind == k.name; });
      std::vector<std::string> allowed = kCommonControlKeys;
      allowed.insert(allowed.end(), row->keys.begin(), row->keys.end());
      r_.check_map(value, path, allowed);
      std::size_t count = 0;
      std::string unit;
      if (c.kind == "initial_velocity") {
        c.body_index = body(value, path, true);
        c.body = s_.bodies[std::size_t(c.body_index)].name;
        count = std::size_t(dim());
        unit = "m/s";
      } else if (c.kind == "actuation") {
        c.body_index = body(value, path, true);
        c.body = s_.bodies[std::size_t(c.body_index)].name;
        c.segments = segments(value, path);
        count = std::size_t(c.segments) * std::size_t(dim());
        unit = "N";
      } else if (c.kind.rfind("tool_", 0) == 0) {
        count = parse_tool_control(value, path, c, unit);  // issue 7 (opt_tools)
      } else if (c.kind == "fem_coupling") {
        count = parse_coupling_control(value, path, c, unit);  // issue 7 (opt_grasp)
      } else if (c.kind.rfind("fem_", 0) == 0) {
        count = parse_fem_control(value, path, c, unit);  // issue 7 (opt_fold)
      } else {  // material
        const YAML::Node mn = r_.require(value, path, "material", "a material label under 'materials'");
        c.material = r_.string(mn, path + ".material", "a material label");
        c.material_index = s_.material_index(c.material);
        if (c.material_index < 0) {
          std::vector<std::string> labels;
          for (const auto& m : s_.materials) labels.push_back(m.label);
          r_.fail(mn, path + ".material",
                  "unknown material '" + c.material + "'." + detail::suggestion(c.material, labels) +
                      " Materials in this scene: " + join(labels) + ".");
        }
        const auto& mat = s_.materials[std::size_t(c.material_index)];
        const materials::ModelInfo info = materials::model_info(mat.desc.model_id);
        std::vector<std::string> names = {"density"};
        for (int k = 0; k < info.num_params; ++k) names.push_back(info.params[k].name);
        const YAML::Node pn = r_.require(value, path, "parameter", "density or a parameter of model '" + mat.model + "'");
        c.parameter = r_.choice(pn, path + ".parameter", names);
        c.parameter_index = int(std::find(names.begin(), names.end(), c.parameter) - names.begin()) - 1;
        count = 1;
        unit = c.parameter_index < 0 ? "kg/m^3" : info.params[c.parameter_index].unit;
      }
      if (const YAML::Node n = r_.find(value, "log"); n.IsDefined()) c.log_space = r_.boolean(n, path + ".log");
      const YAML::Node lo = r_.require(value, path, "lower", "the lower bound, a number or one per value [" + unit + "]");
      const YAML::Node up = r_.require(value, path, "upper", "the upper bound, a number or one per value [" + unit + "]");
      c.lower = values(lo, path + ".lower", count, unit);
      c.upper = values(up, path + ".upper", count, unit);
      const YAML::Node in = r_.require(value, path, "init", "the initial guess, a number or one per value [" + unit + "]");
      c.init = values(in, path + ".init", count, unit);
      for (std::size_t i = 0; i < count; ++i) {
        if (!(c.upper[i] > c.lower[i]))
          r_.fail(up, path + ".upper", "every upper bound must exceed its lower bound; entry " + std::to_string(i) +
                                           " has lower " + fmt(c.lower[i]) + ", upper " + fmt(c.upper[i]));
        if (c.log_space && !(c.lower[i] > 0))
          r_.fail(lo, path + ".lower", "log: true needs bounds > 0, got lower " + fmt(c.lower[i]));
        if (!(c.init[i] >= c.lower[i] && c.init[i] <= c.upper[i]))
          r_.fail(in, path + ".init", "the initial guess must lie within [lower, upper]; entry " + std::to_string(i) +
                                          " is " + fmt(c.init[i]) + ", outside [" + fmt(c.lower[i]) + ", " +
                                          fmt(c.upper[i]) + "]");
      }
      if (c.kind == "material") check_material_range(c, in, path);
      if (c.kind == "fem_coupling" && !(c.lower[0] >= 0 && (c.parameter == "friction" || c.lower[0] > 0)))  // issue 7 (opt_grasp)
        r_.fail(lo, path + ".lower", c.parameter == "friction" ? "a friction coefficient must be >= 0"
                                                               : "a coupling stiffness must be > 0 [1/s^2]");
      if (c.kind == "tool_contact" && !(c.lower[0] >= 0 && (c.parameter == "friction" || c.lower[0] > 0)))
        r_.fail(lo, path + ".lower", c.parameter == "friction" ? "a friction coefficient must be >= 0"
                                                               : "a contact stiffness must be > 0 [1/s^2]");
      o_.controls.push_back(std::move(c));
    }
  }

  // --- tool controls (issue 7, opt_tools) ------------------------------------
  // The control takes over the named tools' motion (tool_velocity,
  // tool_waypoints) or one contact value (tool_contact); engine/optim/tool_controls.cpp
  // applies the values and collects their gradients.
  int tool(const YAML::Node& n, const std::string& path) {
    std::vector<std::string> names;
    for (const auto& t : s_.tools) names.push_back(t.name);
    const std::string name = r_.string(n, path, "a tool name under 'tools'");
    for (std::size_t i = 0; i < s_.tools.size(); ++i)
      if (s_.tools[i].name == name) return int(i);
    r_.fail(n, path, "unknown tool '" + name + "'." + detail::suggestion(name, names) +
                         (names.empty() ? " This scene has no tools: section." : " Tools in this scene: " + join(names) + "."));
    return -1;
  }

  bool flag(const YAML::Node& map, const std::string& path, const char* key, bool fallback) {
    const YAML::Node n = r_.find(map, key);
    return n.IsDefined() ? r_.boolean(n, path + "." + key) : fallback;
  }

  /// Reads the tool keys of `c`; returns its number of values and sets `unit`.
  std::size_t parse_tool_control(const YAML::Node& value, const std::string& path, ControlDesc& c, std::string& unit) {
    const int D = dim(), A = D == 3 ? 3 : 1;
    const YAML::Node group = r_.find(value, "tools");
    if (group.IsDefined()) {
      if (c.kind != "tool_waypoints")
        r_.fail(group, path + ".tools", "only tool_waypoints moves a rigid group of tools; name one 'tool' here");
      if (r_.has(value, "tool")) r_.fail(group, path + ".tools", "give either 'tool' or 'tools' (a rigid group), not both");
      if (!group.IsSequence() || group.size() == 0)
        r_.fail(group, path + ".tools", "expected a non-empty list of tool names (the first is the group's pivot)");
      for (std::size_t i = 0; i < group.size(); ++i) {
        const int t = tool(group[i], path + ".tools[" + std::to_string(i) + "]");
        if (std::count(c.tool_indices.begin(), c.tool_indices.end(), t))
          r_.fail(group[i], path + ".tools[" + std::to_string(i) + "]", "tool '" + s_.tools[std::size_t(t)].name + "' is listed twice");
        c.tool_indices.push_back(t);
      }
    } else {
      c.tool_indices.push_back(tool(r_.require(value, path, "tool", "a tool name under 'tools'"), path + ".tool"));
    }
    for (int t : c.tool_indices) c.tools.push_back(s_.tools[std::size_t(t)].name);
    if (c.kind == "tool_contact") {
      const ToolDesc& t = s_.tools[std::size_t(c.tool_indices[0])];
      const YAML::Node pn = r_.require(value, path, "parameter", "friction or stiffness");
      c.parameter = r_.choice(pn, path + ".parameter", {"friction", "stiffness"});
      const bool ok = c.parameter == "stiffness" ? t.mode == ContactMode::Soft
                                                 : (t.mode == ContactMode::Friction || t.mode == ContactMode::Soft);
      if (!ok)
        r_.fail(pn, path + ".parameter", "tool '" + t.name + "' has contact mode '" + contact_mode_name(t.mode) + "', which does not use " +
                                             c.parameter + " (friction: modes friction and soft; stiffness: mode soft)");
      unit = c.parameter == "friction" ? "1" : "1/s^2";
      return 1;
    }
    // A moving control replaces the tool's motion: the tool must not have one of its own,
    // and no two controls may move the same tool.
    for (std::size_t i = 0; i < c.tool_indices.size(); ++i) {
      const ToolDesc& t = s_.tools[std::size_t(c.tool_indices[i])];
      if (t.motion != ToolMotionType::Static)
        r_.fail(value, path, "tool '" + t.name + "' has a motion under tools." + t.name +
                                 ".motion; a tool moved by a control must be static there (the control gives its motion)");
      for (const auto& other : o_.controls)
        if ((other.kind == "tool_velocity" || other.kind == "tool_waypoints") &&
            std::count(other.tool_indices.begin(), other.tool_indices.end(), c.tool_indices[i]))
          r_.fail(value, path, "tool '" + t.name + "' is already moved by control '" + other.name + "'");
    }
    if (c.kind == "tool_velocity") {
      c.segments = segments(value, path);
      c.linear = flag(value, path, "linear", true);
      c.angular = flag(value, path, "angular", false);
      if (!c.linear && !c.angular) r_.fail(value, path, "linear and angular are both false: the control has no values");
      unit = c.linear && c.angular ? "m/s, rad/s" : c.linear ? "m/s" : "rad/s";
      return std::size_t(c.segments) * std::size_t((c.linear ? D : 0) + (c.angular ? A : 0));
    }
    const YAML::Node times = r_.require(value, path, "times", "the key times [s], > 0 and increasing");
    if (!times.IsSequence() || times.size() == 0) r_.fail(times, path + ".times", "expected a non-empty list of key times [s]");
    for (std::size_t i = 0; i < times.size(); ++i) {
      const std::string tp = path + ".times[" + std::to_string(i) + "]";
      const double t = r_.number(times[i], tp, "a time [s]");
      if (!(t > (c.times.empty() ? 0.0 : c.times.back())))
        r_.fail(times[i], tp, "key times must be > 0 (t = 0 is the tool's pose under tools:) and increase strictly, got " + fmt(t));
      c.times.push_back(t);
    }
    c.position = flag(value, path, "position", true);
    c.rotation = flag(value, path, "rotation", false);
    if (!c.position && !c.rotation) r_.fail(value, path, "position and rotation are both false: the control has no values");
    unit = c.position && c.rotation ? "m, deg" : c.position ? "m" : "deg";
    return c.times.size() * std::size_t((c.position ? D : 0) + (c.rotation ? A : 0));
  }

  /// Piecewise-constant pieces over the horizon (actuation, tool_velocity).
  int segments(const YAML::Node& value, const std::string& path) {
    const long long steps = (long long)s_.simulation.frames * s_.simulation.substeps_per_frame;
    const YAML::Node seg = r_.require(value, path, "segments", "the number of piecewise-constant pieces, >= 1");
    const long long n = r_.integer(seg, path + ".segments", "an integer >= 1");
    if (n < 1 || n > 100000) r_.fail(seg, path + ".segments", "expected an integer in [1, 100000], got " + std::to_string(n));
    return int(std::min<long long>(n, std::max<long long>(steps, 1)));  // never more pieces than substeps
  }

  // --- end of tool controls ----------------------------------------------------

  /// The bounds of a material control must be values the model accepts, so
  /// that no candidate the optimizer may try is refused half-way.
  void check_material_range(const ControlDesc& c, const YAML::Node& at, const std::string& path) {
    const auto& mat = s_.materials[std::size_t(c.material_index)];
    for (double v : {c.lower[0], c.upper[0], c.init[0]}) {
      std::map<std::string, double> params = mat.params;
      double density = mat.density;
      if (c.parameter_index < 0) density = v;
      else params[c.parameter] = v;
      try {
        materials::make_material(mat.label, mat.model, params, density, "");
      } catch (const InputError& e) {
        r_.fail(at, path, "the control's range includes " + fmt(v) + ", which material '" + mat.label +
                              "' refuses:" + std::string(e.what()));
      }
    }
  }

  // --- objective -----------------------------------------------------------
  std::vector<int> frames(const YAML::Node& term, const std::string& path) {
    const int last = s_.simulation.frames;
    const YAML::Node n = r_.find(term, "frames");
    const std::string what = "'last', 'last-N', 'all', a frame number or a list of them (0 = initial state .. simulation.frames = " +
                             std::to_string(last) + ")";
    if (!n.IsDefined()) return {last};
    std::vector<int> out;
    const auto one = [&](const YAML::Node& f, const std::string& p) {
      if (f.IsScalar() && f.Scalar() == "last") return last;
      // issue 7 (opt_grasp) begin: 'last-N' counts back from the last frame, so that a term
      // reading a hold after a lift stays valid when --frames shortens the run (0 at the least)
      if (f.IsScalar() && f.Scalar().rfind("last-", 0) == 0) {
        const std::string n = f.Scalar().substr(5);
        if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 9)
          r_.fail(f, p, "expected " + what + ", got '" + f.Scalar() + "'");
        return std::max(0, last - std::stoi(n));
      }
      // issue 7 (opt_grasp) end
      const long long v = r_.integer(f, p, what);
      if (v < 0 || v > last) r_.fail(f, p, "expected " + what + ", got " + std::to_string(v));
      return int(v);
    };
    if (n.IsScalar() && n.Scalar() == "all") {
      for (int f = 1; f <= last; ++f) out.push_back(f);
    } else if (n.IsSequence()) {
      if (n.size() == 0) r_.fail(n, path + ".frames", "expected " + what + ", got an empty list");
      for (std::size_t i = 0; i < n.size(); ++i) out.push_back(one(n[i], path + ".frames[" + std::to_string(i) + "]"));
    } else {
      out.push_back(one(n, path + ".frames"));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  void parse_objective(const YAML::Node& objective) {
    const std::string op = "objective";
    if (!objective.IsMap() || objective.size() == 0)
      r_.fail(objective, op, "expected a mapping from term names to {type: " + join(objective_term_types()) + ", ...}");
    r_.check_map(objective, op, keys_of(objective));
    for (const auto& [key, value] : r_.entries(objective)) {
      ObjectiveTermDesc t;
      t.name = key.Scalar();
      const std::string path = op + "." + t.name;
      t.loc = r_.locate(value, path).str();
      if (!value.IsMap()) r_.fail(value, path, "expected a mapping {type: " + join(objective_term_types()) + ", ...}");
      t.type = r_.choice(r_.require(value, path, "type", "one of " + join(objective_term_types())), path + ".type",
                         objective_term_types());
      const auto& table = term_type_table();
      const auto row = std::find_if(table.begin(), table.end(), [&](const TermTypeRow& k) { return t.type == k.name; });
      std::vector<std::string> allowed = kCommonTermKeys;
      allowed.insert(allowed.end(), row->keys.begin(), row->keys.end());
      r_.check_map(value, path, allowed);
      if (const YAML::Node w = r_.find(value, "weight"); w.IsDefined()) {
        t.weight = r_.number(w, path + ".weight", "a weight >= 0");
        if (!(t.weight >= 0)) r_.fail(w, path + ".weight", "expected a weight >= 0, got " + fmt(t.weight));
      }
      t.frames = frames(value, path);
      if (t.type.rfind("fem_", 0) == 0) {
        parse_fem_term(value, path, t);  // issue 7 (opt_fold)
      } else if (std::find(row->keys.begin(), row->keys.end(), "body") != row->keys.end()) {
        t.body_index = body(value, path, false);
        if (t.body_index >= 0) t.body = s_.bodies[std::size_t(t.body_index)].name;
      }
      const int D = dim();
      if (t.type == "com") {
        t.target = r_.vector(r_.require(value, path, "target", "the target centre of mass [m]"), path + ".target", D, "m");
      } else if (t.type == "mass_in_region") {
        t.lower = r_.vector(r_.require(value, path, "lower", "the region's lower corner [m]"), path + ".lower", D, "m");
        const YAML::Node up = r_.require(value, path, "upper", "the region's upper corner [m]");
        t.upper = r_.vector(up, path + ".upper", D, "m");
        for (int a = 0; a < D; ++a)
          if (!(t.upper[std::size_t(a)] > t.lower[std::size_t(a)]))
            r_.fail(up, path + ".upper", "upper must exceed lower on every axis");
        t.softness = s_.simulation.dx;
        if (const YAML::Node n = r_.find(value, "softness"); n.IsDefined()) {
          t.softness = r_.number(n, path + ".softness", "a width > 0 [m]");
          if (!(t.softness > 0)) r_.fail(n, path + ".softness", "expected a width > 0 [m], got " + fmt(t.softness));
        }
      } else if (t.type == "chamfer" || t.type == "density" || t.type == "trajectory") {
        const bool traj = t.type == "trajectory";
        const YAML::Node f = r_.require(value, path, "file",
                                        traj ? "an observed trajectory .npz written by `pliant run` (output.format: npz)"
                                             : "target points, a .npy (N x dim) or .ply file");
        t.file = r_.string(f, path + ".file", "a file path");
        t.resolved_file = resolve(t.file);
        const std::string ext = fs::path(t.file).extension().string();
        const std::vector<std::string> ok = traj ? std::vector<std::string>{".npz"} : std::vector<std::string>{".npy", ".ply"};
        if (std::find(ok.begin(), ok.end(), ext) == ok.end())
          r_.fail(f, path + ".file", "expected a " + join(ok, " or ") + " file, got '" + t.file + "'");
        std::error_code ec;
        if (!fs::is_regular_file(t.resolved_file, ec))
          r_.fail(f, path + ".file", "file '" + t.file + "' not found (looked for '" + t.resolved_file +
                                         "'; relative paths are resolved against the scene file's directory)");
        if (t.type == "density")
          if (const YAML::Node n = r_.find(value, "norm"); n.IsDefined()) t.norm = r_.choice(n, path + ".norm", {"l1", "l2"});
        // Without `frames`: every frame the file holds, up to simulation.frames
        // (resolved when the file is read, engine/optim/objective_terms.cpp).
        if (traj && !r_.find(value, "frames").IsDefined()) t.frames.clear();
      } else if (t.type == "smoothness") {
        const YAML::Node c = r_.require(value, path, "control", "the name of an actuation control");
        t.control = r_.string(c, path + ".control", "a control name");
        t.control_index = o_.control_index(t.control);
        if (t.control_index < 0 || o_.controls[std::size_t(t.control_index)].kind != "actuation") {
          std::vector<std::string> names;
          for (const auto& ctl : o_.controls)
            if (ctl.kind == "actuation") names.push_back(ctl.name);
          r_.fail(c, path + ".control",
                  "expected the name of an actuation control, got '" + t.control + "'." +
                      detail::suggestion(t.control, names) +
                      (names.empty() ? " This scene has no actuation control." : " Actuation controls: " + join(names) + "."));
        }
      }
      if (t.type == "tool_force") {  // issue 6: engine/optim/tool_force_term.cpp
        const YAML::Node n = r_.require(value, path, "tool", "the name of a tool (tools: section)");
        t.tool = r_.string(n, path + ".tool", "a tool name");
        std::vector<std::string> names;
        for (std::size_t k = 0; k < s_.tools.size(); ++k) {
          names.push_back(s_.tools[k].name);
          if (s_.tools[k].name == t.tool) t.tool_index = int(k);
        }
        if (t.tool_index < 0)
          r_.fail(n, path + ".tool",
                  "expected the name of a tool, got '" + t.tool + "'." + detail::suggestion(t.tool, names) +
                      (names.empty() ? " This scene has no tools: section." : " Tools: " + join(names) + "."));
        if (!r_.find(value, "frames").IsDefined()) {  // default: the substeps of every frame
          t.frames.clear();
          for (int f = 1; f <= s_.simulation.frames; ++f) t.frames.push_back(f);
        }
      }
      o_.objective.push_back(std::move(t));
    }
  }

  // --- optimizer -----------------------------------------------------------
  void parse_optimizer(const YAML::Node& opt) {
    const std::string op = "optimizer";
    OptimizerDesc& d = o_.optimizer;
    d.loc = r_.locate(opt, op).str();
    r_.check_map(opt, op,
                 {"method", "iterations", "seed", "learning_rate", "schedule", "decay", "clip_norm", "beta1", "beta2",
                  "population", "sigma", "cmaes_iterations", "refine_candidates", "refine_iterations", "target_loss",
                  "rel_tolerance", "patience", "grad_tolerance"});
    if (const YAML::Node n = r_.find(opt, "method"); n.IsDefined()) d.method = r_.choice(n, op + ".method", {"adam", "cmaes", "hybrid"});
    const auto integer = [&](const char* key, int& out, long long lo, long long hi, const std::string& what) {
      const YAML::Node n = r_.find(opt, key);
      if (!n.IsDefined()) return;
      const long long v = r_.integer(n, op + "." + key, what);
      if (v < lo || v > hi) r_.fail(n, op + "." + key, "expected " + what + ", got " + std::to_string(v));
      out = int(v);
    };
    const auto number = [&](const char* key, double& out, bool (*ok)(double), const std::string& what) {
      const YAML::Node n = r_.find(opt, key);
      if (!n.IsDefined()) return;
      const double v = r_.number(n, op + "." + key, what);
      if (!ok(v)) r_.fail(n, op + "." + key, "expected " + what + ", got " + fmt(v));
      out = v;
    };
    integer("iterations", d.iterations, 0, 1000000, "an iteration count in [0, 1000000]");
    if (const YAML::Node n = r_.find(opt, "seed"); n.IsDefined()) {
      const long long v = r_.integer(n, op + ".seed", "a seed, an integer >= 0");
      if (v < 0) r_.fail(n, op + ".seed", "expected a seed, an integer >= 0, got " + std::to_string(v));
      d.seed = std::uint64_t(v);
    }
    const auto positive = [](double v) { return v > 0; };
    const auto non_negative = [](double v) { return v >= 0; };
    const auto unit_open = [](double v) { return v >= 0 && v < 1; };
    const auto unit_closed = [](double v) { return v > 0 && v <= 1; };
    const auto any = [](double) { return true; };
    number("learning_rate", d.learning_rate, positive, "a step size > 0 (in units of each control's range)");
    if (const YAML::Node n = r_.find(opt, "schedule"); n.IsDefined())
      d.schedule = r_.choice(n, op + ".schedule", {"constant", "exponential", "cosine"});
    number("decay", d.decay, unit_closed, "a factor per iteration in (0, 1]");
    number("clip_norm", d.clip_norm, non_negative, "a gradient norm >= 0 (0 = no clipping)");
    number("beta1", d.beta1, unit_open, "a number in [0, 1)");
    number("beta2", d.beta2, unit_open, "a number in [0, 1)");
    integer("population", d.population, 0, 100000, "a population size >= 2 (0 = 4 + 3 ln n)");
    if (d.population == 1) r_.fail(r_.find(opt, "population"), op + ".population", "CMA-ES needs a population of at least 2");
    number("sigma", d.sigma, positive, "an initial step size > 0 (in units of each control's range)");
    integer("cmaes_iterations", d.cmaes_iterations, 1, 1000000, "a generation count >= 1");
    integer("refine_candidates", d.refine_candidates, 1, 1000, "a count in [1, 1000]");
    integer("refine_iterations", d.refine_iterations, 0, 1000000, "an Adam step count >= 0");
    number("target_loss", d.target_loss, any, "a loss value");
    number("rel_tolerance", d.rel_tolerance, non_negative, "a relative improvement >= 0 (0 = off)");
    integer("patience", d.patience, 1, 1000000, "an iteration count >= 1");
    number("grad_tolerance", d.grad_tolerance, non_negative, "a gradient norm >= 0 (0 = off)");
  }

  // --- FEM controls and terms (issue 7, opt_fold) ---------------------------
  // The fem section is parsed after this one (scene_loader.cpp), so the body is
  // looked up in the YAML itself; its own keys are validated by fem_loader.cpp.
  // Returns fem.bodies.<name> and sets the body's index (file order, as the
  // FEM parser numbers them).
  YAML::Node fem_body(const YAML::Node& map, const std::string& path, int& index, std::string& name) {
    const YAML::Node n = r_.require(map, path, "body", "the name of a body under fem.bodies");
    name = r_.string(n, path + ".body", "the name of a body under fem.bodies");
    std::vector<std::string> names;
    YAML::Node found;
    bool known = false;  // (a default YAML::Node is a defined null)
    const YAML::Node fem = root_.IsMap() ? r_.find(root_, "fem") : YAML::Node();
    const YAML::Node bodies = fem.IsDefined() && fem.IsMap() ? r_.find(fem, "bodies") : YAML::Node();
    if (bodies.IsDefined() && bodies.IsMap())
      for (const auto& [k, v] : r_.entries(bodies)) {
        if (k.Scalar() == name) {
          index = int(names.size());
          found = v;
          known = true;
        }
        names.push_back(k.Scalar());
      }
    if (!known)
      r_.fail(n, path + ".body",
              "unknown FEM body '" + name + "'." + detail::suggestion(name, names) +
                  (names.empty() ? " The scene has no fem.bodies." : " Bodies under fem.bodies: " + join(names) + "."));
    return found;
  }

  // issue 7 (opt_grasp) begin: fem_coupling needs fem.coupling and MPM bodies (a coupled scene)
  std::size_t parse_coupling_control(const YAML::Node& value, const std::string& path, ControlDesc& c,
                                     std::string& unit) {
    const YAML::Node fem = root_.IsMap() ? r_.find(root_, "fem") : YAML::Node();
    const bool coupled = fem.IsDefined() && fem.IsMap() && r_.find(fem, "coupling").IsDefined() && !s_.bodies.empty();
    if (!coupled)
      r_.fail(r_.find(value, "kind"), path + ".kind",
              "fem_coupling needs a coupled scene: a fem.coupling section and MPM bodies under bodies:");
    const YAML::Node pn = r_.require(value, path, "parameter", "friction or stiffness");
    c.parameter = r_.choice(pn, path + ".parameter", {"friction", "stiffness"});
    unit = c.parameter == "friction" ? "1" : "1/s^2";
    return 1;
  }
  // issue 7 (opt_grasp) end

  std::size_t parse_fem_control(const YAML::Node& value, const std::string& path, ControlDesc& c, std::string& unit) {
    const YAML::Node b = fem_body(value, path, c.fem_body_index, c.body);
    const bool shell = b.IsMap() && b["kind"].IsDefined() && b["kind"].IsScalar() && b["kind"].Scalar() == "shell";
    if (c.kind == "fem_drive") {
      if (!b.IsMap() || !b["drive"].IsDefined())
        r_.fail(r_.find(value, "body"), path + ".body",
                "FEM body '" + c.body + "' has no drive; fem_drive moves the vertices its fem.bodies." + c.body +
                    ".drive.region selects");
      if (!b["drive"].IsMap() || !b["drive"]["end"].IsDefined())
        r_.fail(r_.find(value, "body"), path + ".body",
                "fem_drive needs fem.bodies." + c.body + ".drive.end (the time of the last waypoint [s])");
      for (const auto& other : o_.controls)
        if (other.kind == "fem_drive" && other.body == c.body)
          r_.fail(r_.find(value, "body"), path + ".body",
                  "FEM body '" + c.body + "' is already driven by control '" + other.name + "'; one fem_drive per body");
      const YAML::Node w = r_.require(value, path, "waypoints", "the number of waypoints, an integer in [1, 100]");
      const long long k = r_.integer(w, path + ".waypoints", "an integer in [1, 100]");
      if (k < 1 || k > 100) r_.fail(w, path + ".waypoints", "expected an integer in [1, 100], got " + std::to_string(k));
      c.waypoints = int(k);
      if (const YAML::Node t = r_.find(value, "translate"); t.IsDefined()) c.fem_translate = r_.boolean(t, path + ".translate");
      unit = c.fem_translate ? "rad, m, m, m per waypoint" : "rad";
      return std::size_t(c.waypoints) * (c.fem_translate ? 4 : 1);
    }
    // fem_material: a parameter of the body's energy terms (engine/fem/shell_terms.hpp,
    // tet_energy_term.hpp); shells: membrane then hinge parameters.
    std::vector<std::string> names, units;
    if (shell) {
      names = {"youngs_modulus", "poisson_ratio", "thickness", "bending_stiffness", "yield_angle"};
      units = {"Pa", "1", "m", "J", "rad"};
    } else {
      const YAML::Node m = b.IsMap() ? b["material"] : YAML::Node();
      const int mi = m.IsDefined() && m.IsScalar() ? s_.material_index(m.Scalar()) : -1;
      if (mi < 0)
        r_.fail(r_.find(value, "body"), path + ".body", "FEM body '" + c.body + "' names no material under materials:");
      const materials::ModelInfo info = materials::model_info(s_.materials[std::size_t(mi)].desc.model_id);
      for (int k = 0; k < info.num_params; ++k) names.push_back(info.params[k].name), units.push_back(info.params[k].unit);
    }
    const YAML::Node pn = r_.require(value, path, "parameter", "one of " + join(names));
    c.parameter = r_.choice(pn, path + ".parameter", names);
    const std::size_t i = std::size_t(std::find(names.begin(), names.end(), c.parameter) - names.begin());
    unit = units[i];
    return 1;
  }

  void parse_fem_term(const YAML::Node& value, const std::string& path, ObjectiveTermDesc& t) {
    fem_body(value, path, t.fem_body_index, t.body);
    const YAML::Node reg = r_.require(value, path, "region", "the box {lower, upper} [m] selecting rest positions");
    r_.check_map(reg, path + ".region", {"lower", "upper"});
    t.region_lower = r_.vector(r_.require(reg, path + ".region", "lower", "a corner [m]"), path + ".region.lower", 3, "m");
    t.region_upper = r_.vector(r_.require(reg, path + ".region", "upper", "a corner [m]"), path + ".region.upper", 3, "m");
    for (std::size_t a = 0; a < 3; ++a)
      if (!(t.region_lower[a] <= t.region_upper[a]))
        r_.fail(reg, path + ".region", "expected lower <= upper on every axis");
    if (t.type == "fem_crease") {
      const YAML::Node a = r_.require(value, path, "angle_deg", "the target dihedral angle [deg] in [-180, 180]");
      t.angle_deg = r_.number(a, path + ".angle_deg", "an angle [deg] in [-180, 180]");
      if (!(std::abs(t.angle_deg) <= 180)) r_.fail(a, path + ".angle_deg", "expected an angle [deg] in [-180, 180]");
      return;
    }
    const YAML::Node tg = r_.find(value, "target"), f = r_.find(value, "file");
    if (tg.IsDefined() == f.IsDefined())
      r_.fail(value, path, "expected exactly one of target (a position [m]) or file (a .npy of target points, one per vertex)");
    if (tg.IsDefined()) {
      t.target = r_.vector(tg, path + ".target", 3, "m");
      return;
    }
    t.file = r_.string(f, path + ".file", "a .npy file of target points (N x 3)");
    if (fs::path(t.file).extension() != ".npy") r_.fail(f, path + ".file", "expected a .npy file, got '" + t.file + "'");
    t.resolved_file = resolve(t.file);
    std::error_code ec;
    if (!fs::is_regular_file(t.resolved_file, ec))
      r_.fail(f, path + ".file", "file '" + t.file + "' not found (looked for '" + t.resolved_file +
                                     "'; relative paths are resolved against the scene file's directory)");
  }

  YAML::Node root_;  // issue 7 (opt_fold)

  std::vector<std::string> keys_of(const YAML::Node& map) const {
    std::vector<std::string> keys;
    for (const auto& [k, v] : r_.entries(map))
      if (k.IsScalar()) keys.push_back(k.Scalar());
    return keys;
  }

  const YamlReader& r_;
  SceneDesc& s_;
  OptimizationDesc& o_;
};

}  // namespace

const std::vector<std::string>& control_kinds() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> v;
    for (const auto& row : control_kind_table()) v.push_back(row.name);
    return v;
  }();
  return k;
}

const std::vector<std::string>& objective_term_types() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> v;
    for (const auto& row : term_type_table()) v.push_back(row.name);
    return v;
  }();
  return k;
}

void parse_optimization(const YAML::Node& root, const detail::YamlReader& reader, SceneDesc& s) {
  OptimizationParser(reader, s).run(root);
}

}  // namespace pl::scene
