// The `tools:` section of a scene (issue 6): see docs/scene_format.md#tools.
#include "engine/scene/tools_loader.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/coupling/mesh_sdf.hpp"
#include "engine/coupling/tool.hpp"
#include "engine/fem/fem_tool_contact.hpp"  // issue 6 (fem_tool): FEM contact defaults
#include "engine/geometry/triangle_mesh.hpp"

namespace pl::scene {

namespace {

using detail::join_path;
using detail::YamlReader;

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

const std::vector<std::string> kShapes = {"box", "sphere", "capsule", "cylinder", "plane", "rounded_box", "mesh"};
const std::vector<std::string> kModes = {"sticky", "slip", "friction", "soft"};
const std::vector<std::string> kMotions = {"static", "velocity", "waypoints"};

class ToolsParser {
 public:
  ToolsParser(const YamlReader& r, SceneDesc& s) : r_(r), s_(s), dim_(s.simulation.dim) {}

  void parse(const YAML::Node& tools) {
    if (!tools.IsMap()) r_.fail(tools, "tools", "expected a mapping from tool names to {shape, position, motion, ...}");
    std::vector<std::string> names;  // names are free; check_map still rejects duplicates and non-scalar keys
    for (const auto& entry : tools)
      if (entry.first.IsScalar()) names.push_back(entry.first.as<std::string>());
    r_.check_map(tools, "tools", names);
    for (const auto& [key, value] : r_.entries(tools)) {
      ToolDesc t;
      t.name = key.as<std::string>();
      parse_tool(value, "tools." + t.name, t);
      s_.tools.push_back(std::move(t));
    }
    if (s_.tools.size() > std::size_t(kMaxTools))
      r_.fail(tools, "tools", "at most " + std::to_string(kMaxTools) + " tools act on one world, got " +
                                  std::to_string(s_.tools.size()));
  }

 private:
  double positive(const YAML::Node& map, const std::string& path, const std::string& key, const std::string& what) {
    const YAML::Node n = r_.require(map, path, key, what);
    const double v = r_.number(n, join_path(path, key), what);
    if (!(v > 0))
      r_.fail(n, join_path(path, key), "expected " + what + ", got " + fmt(v) + " (a zero-size tool cannot collide)");
    return v;
  }
  double optional(const YAML::Node& map, const std::string& path, const std::string& key, double fallback,
                  const std::string& what, bool allow_zero) {
    const YAML::Node n = r_.find(map, key);
    if (!n.IsDefined()) return fallback;
    const double v = r_.number(n, join_path(path, key), what);
    if (!(v > 0 || (allow_zero && v == 0))) r_.fail(n, join_path(path, key), "expected " + what + ", got " + fmt(v));
    return v;
  }
  std::array<double, 3> rotation(const YAML::Node& n, const std::string& path) {
    return r_.vector(n, path, dim_ == 3 ? 3 : 1, "deg", dim_ == 2);
  }
  void inside_domain(const YAML::Node& n, const std::string& path, const std::array<double, 3>& p) {
    const SimulationDesc& sim = s_.simulation;
    const auto upper = sim.domain_upper();
    static const char* axis[3] = {"x", "y", "z"};
    for (int a = 0; a < dim_; ++a)
      if (p[a] < sim.origin[a] || p[a] > upper[a])
        r_.fail(n, path, std::string("the tool is outside the domain: ") + axis[a] + " = " + fmt(p[a]) +
                             " m is not in [" + fmt(sim.origin[a]) + ", " + fmt(upper[a]) + "] m");
  }

  void parse_tool(const YAML::Node& node, const std::string& path, ToolDesc& t) {
    if (!node.IsMap()) r_.fail(node, path, "expected a mapping with shape, position and (optionally) rotation_deg, contact, motion");
    r_.check_map(node, path, {"shape", "position", "rotation_deg", "contact", "motion", "max_speed", "max_angular_speed"});
    t.where = context(r_.locate(node, path), path);
    parse_shape(r_.require(node, path, "shape", "{type: box | sphere | capsule | cylinder | plane | rounded_box | mesh, ...}"),
                path + ".shape", t);
    const YAML::Node pos = r_.require(node, path, "position", "the tool's initial position [m]");
    t.position = r_.vector(pos, path + ".position", dim_, "m");
    inside_domain(pos, path + ".position", t.position);
    if (const YAML::Node rot = r_.find(node, "rotation_deg"); rot.IsDefined()) t.rotation_deg = rotation(rot, path + ".rotation_deg");
    t.max_speed = optional(node, path, "max_speed", t.max_speed, "a positive speed [m/s]", false);
    t.max_angular_speed = optional(node, path, "max_angular_speed", t.max_angular_speed, "a positive angular speed [rad/s]", false);
    parse_contact(r_.find(node, "contact"), path + ".contact", t);
    parse_motion(r_.find(node, "motion"), path + ".motion", t);
  }

  void parse_shape(const YAML::Node& sh, const std::string& path, ToolDesc& t) {
    if (!sh.IsMap()) r_.fail(sh, path, "expected a mapping {type: ..., sizes}");
    const std::string type = r_.choice(r_.require(sh, path, "type", "the shape type"), path + ".type", kShapes);
    t.shape = ToolShape(std::find(kShapes.begin(), kShapes.end(), type) - kShapes.begin());
    switch (t.shape) {
      case ToolShape::Box:
      case ToolShape::RoundedBox: {
        r_.check_map(sh, path, t.shape == ToolShape::Box ? std::vector<std::string>{"type", "half_extents"}
                                                         : std::vector<std::string>{"type", "half_extents", "radius"});
        const YAML::Node h = r_.require(sh, path, "half_extents", "half the box's size along each local axis [m]");
        t.half_extents = r_.vector(h, path + ".half_extents", dim_, "m", true);
        for (int a = 0; a < dim_; ++a)
          if (!(t.half_extents[a] > 0))
            r_.fail(h, path + ".half_extents", "every half extent must be positive, got " + fmt(t.half_extents[a]) +
                                                   " (a zero-size tool cannot collide)");
        if (t.shape == ToolShape::RoundedBox) {
          t.radius = positive(sh, path, "radius", "a positive corner radius [m]");
          for (int a = 0; a < dim_; ++a)
            if (!(t.radius < t.half_extents[a]))
              r_.fail(r_.find(sh, "radius"), path + ".radius", "the corner radius must be smaller than every half extent");
        }
        break;
      }
      case ToolShape::Sphere:
        r_.check_map(sh, path, {"type", "radius"});
        t.radius = positive(sh, path, "radius", "a positive radius [m]");
        break;
      case ToolShape::Capsule:
      case ToolShape::Cylinder:
        r_.check_map(sh, path, {"type", "radius", "half_height"});
        t.radius = positive(sh, path, "radius", "a positive radius [m]");
        t.half_height = positive(sh, path, "half_height", "a positive half length along the local y axis [m]");
        break;
      case ToolShape::Plane:
        r_.check_map(sh, path, {"type"});
        break;
      case ToolShape::Mesh: {
        r_.check_map(sh, path, {"type", "file", "scale", "open_mesh", "thickness", "sdf_spacing"});
        if (dim_ != 3) r_.fail(sh, path + ".type", "mesh tools need a 3D scene (simulation.dim: 3)");
        const YAML::Node file = r_.require(sh, path, "file", "an OBJ file (relative to the scene file)");
        t.file = r_.string(file, path + ".file", "an OBJ file name");
        namespace fs = std::filesystem;
        const fs::path p(t.file);
        t.resolved_file = (p.is_absolute() ? p : fs::path(s_.base_dir) / p).lexically_normal().string();
        std::error_code ec;
        if (!fs::is_regular_file(t.resolved_file, ec))
          r_.fail(file, path + ".file", "'" + t.file + "' is not a file ('" + t.resolved_file + "')");
        if (const YAML::Node sc = r_.find(sh, "scale"); sc.IsDefined()) {
          t.scale = r_.vector(sc, path + ".scale", 3, "", true);
          for (double f : t.scale)
            if (!(f > 0)) r_.fail(sc, path + ".scale", "every scale factor must be positive (a zero-size tool cannot collide)");
        }
        if (const YAML::Node o = r_.find(sh, "open_mesh"); o.IsDefined()) t.open_mesh = r_.boolean(o, path + ".open_mesh");
        t.thickness = optional(sh, path, "thickness", 0.0, "a positive half-thickness [m]", false);
        if (t.open_mesh && !(t.thickness > 0))
          r_.fail(sh, path, "an open mesh needs 'thickness' (the half-thickness of the sheet) [m]");
        t.sdf_spacing = optional(sh, path, "sdf_spacing", 0.5 * s_.simulation.dx, "a positive grid spacing [m]", false);
        // Load and check now, so a broken mesh is reported by `pliant validate` at its key.
        try {
          TriangleMesh mesh = load_obj(t.resolved_file);
          if (!t.open_mesh) validate_closed_manifold(mesh, t.resolved_file);
        } catch (const InputError& e) {
          r_.fail(file, path + ".file",
                  std::string(e.what()) + (t.open_mesh ? "" : " (a tool mesh must be closed; for a sheet set open_mesh: true and a thickness)"));
        }
        break;
      }
    }
  }

  void parse_contact(const YAML::Node& c, const std::string& path, ToolDesc& t) {
    const double dx = s_.simulation.dx, dt = s_.simulation.dt;
    t.softness = 0.25 * dx;
    t.stiffness = 0.1 / (dt * dt);
    if (!c.IsDefined()) return;
    if (!c.IsMap()) r_.fail(c, path, "expected a mapping {mode, friction, stiffness, softness, smoothing}");
    r_.check_map(c, path, {"mode", "friction", "stiffness", "softness", "smoothing"});
    if (const YAML::Node m = r_.find(c, "mode"); m.IsDefined()) {
      const std::string mode = r_.choice(m, path + ".mode", kModes);
      t.mode = ContactMode(std::find(kModes.begin(), kModes.end(), mode) - kModes.begin());
    }
    t.friction = optional(c, path, "friction", t.friction, "a Coulomb coefficient >= 0", true);
    for (const char* key : {"stiffness", "softness", "smoothing"})
      if (r_.has(c, key) && t.mode != ContactMode::Soft)
        r_.fail(r_.find(c, key), join_path(path, key), std::string("'") + key + "' is used by mode: soft only");
    t.stiffness = optional(c, path, "stiffness", t.stiffness, "a positive penalty stiffness [1/s^2]", false);
    t.softness = optional(c, path, "softness", t.softness, "a positive softness length [m]", false);
    t.smoothing = optional(c, path, "smoothing", t.smoothing, "a positive friction smoothing speed [m/s]", false);
  }

  void parse_motion(const YAML::Node& m, const std::string& path, ToolDesc& t) {
    if (!m.IsDefined()) return;  // static
    if (!m.IsMap()) r_.fail(m, path, "expected a mapping {type: static | velocity | waypoints, ...}");
    const std::string type = r_.choice(r_.require(m, path, "type", "static, velocity or waypoints"), path + ".type", kMotions);
    t.motion = ToolMotionType(std::find(kMotions.begin(), kMotions.end(), type) - kMotions.begin());
    if (t.motion == ToolMotionType::Static) {
      r_.check_map(m, path, {"type"});
      return;
    }
    if (t.motion == ToolMotionType::Velocity) {
      r_.check_map(m, path, {"type", "segments"});
      const YAML::Node seg = r_.require(m, path, "segments", "a list of {until, linear, angular}");
      if (!seg.IsSequence() || seg.size() == 0) r_.fail(seg, path + ".segments", "expected a non-empty list of {until, linear, angular}");
      double previous = 0;
      std::array<double, 3> p = t.position;
      for (std::size_t i = 0; i < seg.size(); ++i) {
        const std::string sp = path + ".segments[" + std::to_string(i) + "]";
        const YAML::Node e = seg[i];
        if (!e.IsMap()) r_.fail(e, sp, "expected a mapping {until, linear, angular}");
        r_.check_map(e, sp, {"until", "linear", "angular"});
        ToolSegmentDesc d;
        const YAML::Node until = r_.require(e, sp, "until", "the segment's end time [s]");
        d.until = r_.number(until, sp + ".until", "a time [s]");
        if (!(d.until > previous))
          r_.fail(until, sp + ".until", "segment end times must increase, got " + fmt(d.until) + " s after " + fmt(previous) + " s");
        if (const YAML::Node l = r_.find(e, "linear"); l.IsDefined()) d.linear = r_.vector(l, sp + ".linear", dim_, "m/s");
        if (const YAML::Node a = r_.find(e, "angular"); a.IsDefined())
          d.angular = r_.vector(a, sp + ".angular", dim_ == 3 ? 3 : 1, "rad/s", dim_ == 2);
        for (int a = 0; a < dim_; ++a) p[a] += (d.until - previous) * d.linear[a];
        inside_domain(e, sp, p);  // where the segment leaves the tool
        previous = d.until;
        t.segments.push_back(d);
      }
      return;
    }
    r_.check_map(m, path, {"type", "waypoints"});
    const YAML::Node wps = r_.require(m, path, "waypoints", "a list of {time, position, rotation_deg}");
    if (!wps.IsSequence() || wps.size() == 0) r_.fail(wps, path + ".waypoints", "expected a non-empty list of {time, position, rotation_deg}");
    for (std::size_t i = 0; i < wps.size(); ++i) {
      const std::string wp = path + ".waypoints[" + std::to_string(i) + "]";
      const YAML::Node e = wps[i];
      if (!e.IsMap()) r_.fail(e, wp, "expected a mapping {time, position, rotation_deg}");
      r_.check_map(e, wp, {"time", "position", "rotation_deg"});
      ToolWaypointDesc w;
      const YAML::Node time = r_.require(e, wp, "time", "a time [s]");
      w.time = r_.number(time, wp + ".time", "a time [s]");
      if (!t.waypoints.empty() && !(w.time > t.waypoints.back().time))
        r_.fail(time, wp + ".time", "waypoint times must increase strictly");
      const YAML::Node pos = r_.require(e, wp, "position", "a position [m]");
      w.position = r_.vector(pos, wp + ".position", dim_, "m");
      inside_domain(pos, wp + ".position", w.position);
      w.rotation_deg = t.rotation_deg;
      if (const YAML::Node rot = r_.find(e, "rotation_deg"); rot.IsDefined()) w.rotation_deg = rotation(rot, wp + ".rotation_deg");
      t.waypoints.push_back(w);
    }
  }

  const YamlReader& r_;
  SceneDesc& s_;
  int dim_;
};

template <int D>
ToolSpec<D> make_spec(const SceneDesc& scene, const ToolDesc& t, double dt) {
  ToolSpec<D> spec;
  spec.name = t.name;
  spec.shape = t.shape;
  for (int a = 0; a < D; ++a) spec.half_extents[a] = t.half_extents[a], spec.position[a] = t.position[a];
  spec.radius = t.radius;
  spec.half_height = t.half_height;
  spec.rotation_deg = t.rotation_deg;
  spec.mode = t.mode;
  spec.friction = t.friction;
  spec.stiffness = t.stiffness;
  spec.softness = t.softness;
  spec.smoothing = t.smoothing;
  spec.max_speed = t.max_speed;
  spec.max_angular_speed = t.max_angular_speed;
  switch (t.motion) {
    case ToolMotionType::Static:
      spec.motion = ToolMotion::Static;
      break;
    case ToolMotionType::Velocity: {
      // Segment i covers [until_{i-1}, until_i); substep n belongs to the segment holding t = n dt.
      spec.motion = ToolMotion::Velocity;
      const long steps = long(std::ceil(t.segments.back().until / dt - 1e-9));
      spec.actions.resize(std::size_t(steps));
      std::size_t seg = 0;
      for (long n = 0; n < steps; ++n) {
        while (seg + 1 < t.segments.size() && n * dt >= t.segments[seg].until - 1e-12) ++seg;
        for (int a = 0; a < D; ++a) spec.actions[std::size_t(n)].linear[a] = t.segments[seg].linear[a];
        for (int a = 0; a < kAngularDim<D>; ++a) spec.actions[std::size_t(n)].angular[a] = t.segments[seg].angular[a];
      }
      break;
    }
    case ToolMotionType::Waypoints:
      spec.motion = ToolMotion::Waypoints;
      for (const auto& w : t.waypoints) {
        ToolWaypoint<D> k;
        k.time = w.time;
        for (int a = 0; a < D; ++a) k.position[a] = w.position[a];
        k.rotation_deg = w.rotation_deg;
        spec.waypoints.push_back(k);
      }
      break;
  }
  if (t.shape == ToolShape::Mesh) {
    TriangleMesh mesh;
    try {
      mesh = load_obj(t.resolved_file);
    } catch (const InputError& e) {
      throw InputError(t.where + ".shape.file: " + e.what());
    }
    MeshTransform scale_only;
    scale_only.scale = t.scale;
    mesh = transform_mesh(mesh, scale_only, t.where + ".shape.scale");
    MeshSdfOptions o;
    o.spacing = t.sdf_spacing;
    o.open_mesh = t.open_mesh;
    o.thickness = t.thickness;
    spec.mesh = std::make_shared<MeshSdf>(build_mesh_sdf(mesh, o, t.where + ".shape"));
  }
  return spec;
}

}  // namespace

void parse_tools(const YAML::Node& root, const YamlReader& reader, SceneDesc& s) {
  const YAML::Node tools = reader.find(root, "tools");
  if (!tools.IsDefined() || tools.IsNull()) return;
  ToolsParser(reader, s).parse(tools);
}

template <class Real, int D>
void add_scene_tools(const SceneDesc& scene, MpmWorld<Real, D>& world) {
  for (const ToolDesc& t : scene.tools)
    world.add_tool(Tool<D>(make_spec<D>(scene, t, scene.simulation.dt), scene.simulation.dt, t.where));
}

// issue 6 (fem_tool): the FEM world's copy of a tool, planned with the FEM dt.
ToolSpec<3> fem_tool_spec(const SceneDesc& scene, const ToolDesc& t, double fem_dt) {
  ToolSpec<3> spec = make_spec<3>(scene, t, fem_dt);
  if (t.mode != ContactMode::Soft) {  // stiffness and softness are soft-mode keys: FEM defaults
    spec.stiffness = fem::kFemToolDefaultStiffness;
    spec.softness = fem::kFemToolDefaultSoftness;
  }
  return spec;
}

template void add_scene_tools(const SceneDesc&, MpmWorld<float, 2>&);
template void add_scene_tools(const SceneDesc&, MpmWorld<float, 3>&);
template void add_scene_tools(const SceneDesc&, MpmWorld<double, 2>&);
template void add_scene_tools(const SceneDesc&, MpmWorld<double, 3>&);

}  // namespace pl::scene
