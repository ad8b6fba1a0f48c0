// The `fem:` scene section (format in fem_loader.hpp).
#include "engine/scene/fem_loader.hpp"

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <limits>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/fem/sdf_contact_term.hpp"
#include "engine/fem/sheet_mesh.hpp"
#include "engine/fem/shell_terms.hpp"
#include "engine/fem/tet_energy_term.hpp"
#include "engine/fem/tet_mesh.hpp"
#include "engine/optim/fem_drive_motion.hpp"     // issue 7 (replay_fem)
#include "engine/optim/fem_material_control.hpp"  // issue 7 (replay_fem)
#include "engine/scene/frame_output.hpp"
#include "engine/scene/tools_loader.hpp"  // issue 6 (fem_tool)

namespace pl::scene {

namespace fs = std::filesystem;
using detail::join_path;
using detail::YamlReader;

namespace {

bool in_drive_region(const FemBodyDesc& b, const std::array<double, 3>& rest) {
  for (std::size_t a = 0; a < 3; ++a) {
    const double c = rest[a] + b.translation[a];
    if (c < b.drive_lower[a] || c > b.drive_upper[a]) return false;
  }
  return true;
}

class FemParser {
 public:
  FemParser(const YamlReader& r, SceneDesc& s) : r_(r), s_(s) {}

  void parse(const YAML::Node& fem) {
    const std::string p = "fem";
    if (s_.simulation.dim != 3) r_.fail(fem, p, "FEM bodies need a 3D scene (simulation.dim: 3)");
    r_.check_map(fem, p, {"integrator", "steps_per_frame", "newton", "damping", "ground", "colliders", "bodies",
                          "coupling"});  // issue 6 (mpm_fem)
    FemSceneDesc& d = s_.fem;
    d.enabled = true;
    if (const YAML::Node n = r_.find(fem, "integrator"); n.IsDefined())
      d.implicit = r_.choice(n, p + ".integrator", {"implicit", "explicit"}) == "implicit";
    if (const YAML::Node n = r_.find(fem, "steps_per_frame"); n.IsDefined()) {
      const long long v = r_.integer(n, p + ".steps_per_frame", "FEM steps per frame, an integer >= 1");
      if (v < 1) r_.fail(n, p + ".steps_per_frame", "expected an integer >= 1");
      d.steps_per_frame = int(v);
    }
    if (const YAML::Node n = r_.find(fem, "newton"); n.IsDefined()) {
      r_.check_map(n, p + ".newton", {"max_iterations", "tolerance"});
      if (const YAML::Node m = r_.find(n, "max_iterations"); m.IsDefined()) {
        const long long v = r_.integer(m, p + ".newton.max_iterations", "an integer in 1..10000");
        if (v < 1 || v > 10000) r_.fail(m, p + ".newton.max_iterations", "expected an integer in 1..10000");
        d.newton_max_iterations = int(v);
      }
      d.newton_tolerance = positive(n, p + ".newton", "tolerance", d.newton_tolerance, false,
                                    "a Newton step tolerance relative to the bodies' size, > 0");
      if (d.newton_tolerance >= 1) r_.fail(r_.find(n, "tolerance"), p + ".newton.tolerance", "expected a relative tolerance < 1");
    }
    if (const YAML::Node n = r_.find(fem, "damping"); n.IsDefined()) {
      r_.check_map(n, p + ".damping", {"mass", "stiffness"});
      d.damping_mass = non_negative(n, p + ".damping", "mass", 0, "the mass-proportional damping alpha [1/s] >= 0");
      d.damping_stiffness =
          non_negative(n, p + ".damping", "stiffness", 0, "the stiffness-proportional damping beta [s] >= 0");
    }
    if (const YAML::Node g = r_.find(fem, "ground"); g.IsDefined()) parse_ground(g, p + ".ground");
    if (const YAML::Node c = r_.find(fem, "colliders"); c.IsDefined()) parse_colliders(c, p + ".colliders");
    if (const YAML::Node c = r_.find(fem, "coupling"); c.IsDefined()) parse_coupling(fem, c, p + ".coupling");  // issue 6 (mpm_fem)
    const YAML::Node bodies = r_.require(fem, p, "bodies", "a mapping from FEM body names to {material, mesh | box | cylinder}");
    if (!bodies.IsMap() || bodies.size() == 0)
      r_.fail(bodies, p + ".bodies", "expected a mapping from FEM body names to {material, mesh | box | cylinder, ...}");
    std::vector<std::string> names;
    for (const auto& e : bodies)
      if (e.first.IsScalar()) names.push_back(e.first.as<std::string>());
    r_.check_map(bodies, p + ".bodies", names);
    for (const auto& [key, value] : r_.entries(bodies)) {
      FemBodyDesc b;
      b.name = key.as<std::string>();
      parse_body(value, p + ".bodies." + b.name, b);
      s_.fem.bodies.push_back(std::move(b));
    }
  }

 private:
  // issue 6 (mpm_fem) begin: fem.coupling {stiffness, skin, softness, friction, slip_speed}.  The
  // worlds exchange forces every MPM substep, so the FEM steps with the
  // substep (steps_per_frame = simulation.substeps_per_frame).
  void parse_coupling(const YAML::Node& fem, const YAML::Node& c, const std::string& p) {
    r_.check_map(c, p, {"stiffness", "skin", "softness", "friction", "slip_speed"});
    FemSceneDesc& d = s_.fem;
    d.coupling = true;
    d.coupling_where = context(r_.locate(c, p), p);
    d.coupling_stiffness = positive(c, p, "stiffness", d.coupling_stiffness, false, "a penalty stiffness k [1/s^2] > 0");
    d.coupling_skin = positive(c, p, "skin", -1, false, "a skin thickness [m] > 0");
    d.coupling_softness = positive(c, p, "softness", -1, false, "a softplus width [m] > 0");
    d.coupling_friction = non_negative(c, p, "friction", d.coupling_friction, "a friction coefficient >= 0");
    d.coupling_slip_speed = positive(c, p, "slip_speed", d.coupling_slip_speed, false, "a slip speed [m/s] > 0");
    const int substeps = s_.simulation.substeps_per_frame;
    if (r_.has(fem, "steps_per_frame") && d.steps_per_frame != substeps)
      r_.fail(r_.find(fem, "steps_per_frame"), "fem.steps_per_frame",
              "with fem.coupling the FEM steps once per MPM substep: leave it out or set it to simulation.substeps_per_frame (" +
                  std::to_string(substeps) + ")");
    d.steps_per_frame = substeps;
  }
  // issue 6 (mpm_fem) end

  double non_negative(const YAML::Node& map, const std::string& path, const std::string& key, double fallback,
                      const std::string& what) {
    const YAML::Node n = r_.find(map, key);
    if (!n.IsDefined()) return fallback;
    const double v = r_.number(n, join_path(path, key), what);
    if (!(v >= 0)) r_.fail(n, join_path(path, key), "expected " + what);
    return v;
  }
  double positive(const YAML::Node& map, const std::string& path, const std::string& key, double fallback,
                  bool required, const std::string& what) {
    const YAML::Node n = required ? r_.require(map, path, key, what) : r_.find(map, key);
    if (!n.IsDefined()) return fallback;
    const double v = r_.number(n, join_path(path, key), what);
    if (!(v > 0)) r_.fail(n, join_path(path, key), "expected " + what);
    return v;
  }
  int count(const YAML::Node& map, const std::string& path, const std::string& key, int fallback) {
    const YAML::Node n = r_.find(map, key);
    if (!n.IsDefined()) return fallback;
    const long long v = r_.integer(n, join_path(path, key), "a number of cells, an integer >= 1");
    if (v < 1 || v > 1000) r_.fail(n, join_path(path, key), "expected a number of cells between 1 and 1000");
    return int(v);
  }
  int axis(const YAML::Node& map, const std::string& path) {
    const YAML::Node n = r_.require(map, path, "axis", "an axis: 0 (x), 1 (y) or 2 (z)");
    const long long a = r_.integer(n, path + ".axis", "an axis: 0 (x), 1 (y) or 2 (z)");
    if (a < 0 || a > 2) r_.fail(n, path + ".axis", "expected 0 (x), 1 (y) or 2 (z)");
    return int(a);
  }

  void parse_ground(const YAML::Node& g, const std::string& p) {
    r_.check_map(g, p, {"normal", "offset", "stiffness", "delta", "friction", "slip_speed"});
    FemSceneDesc& d = s_.fem;
    d.ground = true;
    if (const YAML::Node n = r_.find(g, "normal"); n.IsDefined()) {
      d.ground_normal = r_.vector(n, p + ".normal", 3, "1");
      if (!(std::hypot(d.ground_normal[0], d.ground_normal[1], d.ground_normal[2]) > 0))
        r_.fail(n, p + ".normal", "expected a nonzero vector");
    }
    if (const YAML::Node n = r_.find(g, "offset"); n.IsDefined())
      d.ground_offset = r_.number(n, p + ".offset", "the plane offset [m] (normal . x = offset)");
    d.ground_stiffness = positive(g, p, "stiffness", d.ground_stiffness, false, "a stiffness per unit mass [1/s^2] > 0");
    d.ground_delta = positive(g, p, "delta", d.ground_delta, false, "a penetration depth [m] > 0");
    d.ground_friction = non_negative(g, p, "friction", d.ground_friction, "a friction coefficient >= 0");
    d.ground_slip_speed = positive(g, p, "slip_speed", d.ground_slip_speed, false, "a slip speed [m/s] > 0");
  }

  void parse_colliders(const YAML::Node& c, const std::string& p) {
    if (!c.IsMap() || c.size() == 0)
      r_.fail(c, p, "expected a mapping from collider names to {type: sphere, center, radius, stiffness, delta}");
    std::vector<std::string> names;
    for (const auto& e : c)
      if (e.first.IsScalar()) names.push_back(e.first.as<std::string>());
    r_.check_map(c, p, names);
    for (const auto& [key, n] : r_.entries(c)) {
      FemSphereDesc sd;
      sd.name = key.as<std::string>();
      const std::string q = p + "." + sd.name;
      if (!n.IsMap()) r_.fail(n, q, "expected {type: sphere, center, radius, stiffness, delta}");
      r_.check_map(n, q, {"type", "center", "radius", "stiffness", "delta"});
      r_.choice(r_.require(n, q, "type", "the collider shape: sphere"), q + ".type", {"sphere"});
      sd.center = r_.vector(r_.require(n, q, "center", "the sphere centre [m]"), q + ".center", 3, "m");
      sd.radius = positive(n, q, "radius", 0, true, "a radius [m] > 0");
      sd.stiffness = positive(n, q, "stiffness", sd.stiffness, false, "a stiffness per unit mass [1/s^2] > 0");
      sd.delta = positive(n, q, "delta", sd.delta, false, "a penetration depth [m] > 0");
      s_.fem.spheres.push_back(sd);
    }
  }

  // kind: shell -- a sheet (procedural rectangle) or an OBJ triangle mesh.
  void parse_shell_body(const YAML::Node& n, const std::string& p, FemBodyDesc& b) {
    r_.check_map(n, p, {"kind", "sheet", "mesh", "shell", "translation", "velocity", "pin", "drive"});
    b.shell = true;
    const int sources = int(r_.has(n, "mesh")) + int(r_.has(n, "sheet"));
    if (sources != 1) r_.fail(n, p, "a shell body needs exactly one of sheet or mesh (an .obj triangle mesh)");
    const YAML::Node m = r_.require(n, p, "shell", "the shell material {E, nu, density, thickness, membrane, ...}");
    const std::string mp = p + ".shell";
    if (!m.IsMap()) r_.fail(m, mp, "expected {E, nu, density, thickness, membrane, bending_stiffness, yield_angle}");
    r_.check_map(m, mp, {"E", "nu", "density", "thickness", "membrane", "bending_stiffness", "yield_angle"});
    b.youngs_modulus = positive(m, mp, "E", 0, true, "Young's modulus [Pa] > 0");
    if (const YAML::Node v = r_.find(m, "nu"); v.IsDefined()) {
      b.poisson_ratio = r_.number(v, mp + ".nu", "Poisson's ratio in (-1, 0.5)");
      if (!(b.poisson_ratio > -1 && b.poisson_ratio < 0.5)) r_.fail(v, mp + ".nu", "expected Poisson's ratio in (-1, 0.5)");
    }
    b.shell_density = positive(m, mp, "density", 0, true, "a density [kg/m^3] > 0");
    b.thickness = positive(m, mp, "thickness", 0, true, "a thickness [m] > 0");
    if (const YAML::Node v = r_.find(m, "membrane"); v.IsDefined())
      b.membrane = r_.choice(v, mp + ".membrane", {"stvk", "neo_hookean"}) == "stvk" ? 0 : 1;
    b.bending_stiffness = positive(m, mp, "bending_stiffness", -1, false, "a bending stiffness [J] > 0");
    b.yield_angle = positive(m, mp, "yield_angle", -1, false, "a yield angle [rad] > 0 (plastic bending)");
    TriangleMesh mesh;
    try {
      if (const YAML::Node f = r_.find(n, "mesh"); f.IsDefined()) {
        b.source = FemBodySource::ShellMesh;
        b.file = r_.string(f, p + ".mesh", "a triangle mesh file (.obj)");
        const fs::path path(b.file);
        b.resolved_file = (path.is_absolute() ? path : fs::path(s_.base_dir) / path).lexically_normal().string();
        std::error_code ec;
        if (!fs::is_regular_file(b.resolved_file, ec))
          r_.fail(f, p + ".mesh", "'" + b.file + "' is not a file ('" + b.resolved_file + "')");
        mesh = fem::load_sheet_obj(b.resolved_file);
      } else {
        const YAML::Node sh = r_.find(n, "sheet");
        const std::string sp = p + ".sheet";
        b.source = FemBodySource::Sheet;
        if (!sh.IsMap()) r_.fail(sh, sp, "expected {origin, edge_u, edge_v, cells}");
        r_.check_map(sh, sp, {"origin", "edge_u", "edge_v", "cells"});
        b.sheet_origin = r_.vector(r_.require(sh, sp, "origin", "a corner [m]"), sp + ".origin", 3, "m");
        b.sheet_u = r_.vector(r_.require(sh, sp, "edge_u", "the first edge vector [m]"), sp + ".edge_u", 3, "m");
        b.sheet_v = r_.vector(r_.require(sh, sp, "edge_v", "the second edge vector [m]"), sp + ".edge_v", 3, "m");
        const YAML::Node c = r_.require(sh, sp, "cells", "cells along edge_u and edge_v, [nu, nv]");
        if (!c.IsSequence() || c.size() != 2) r_.fail(c, sp + ".cells", "expected [cells_u, cells_v], two integers in 1..1000");
        for (std::size_t a = 0; a < 2; ++a) {
          const long long v = r_.integer(c[a], sp + ".cells", "two integers in 1..1000");
          if (v < 1 || v > 1000) r_.fail(c, sp + ".cells", "expected two integers in 1..1000");
          b.sheet_cells[a] = int(v);
        }
        mesh = fem::make_rectangular_sheet(b.sheet_origin, b.sheet_u, b.sheet_v, b.sheet_cells[0], b.sheet_cells[1], sp);
      }
    } catch (const InputError& e) {
      if (std::string(e.what()).rfind(r_.file(), 0) == 0) throw;
      throw InputError(b.where + ": " + e.what());
    }
    fem::ShellMaterial sm;
    sm.model = fem::MembraneModel(b.membrane);
    sm.youngs_modulus = b.youngs_modulus;
    sm.poisson_ratio = b.poisson_ratio;
    sm.thickness = b.thickness;
    if (const std::string why = fem::validate(sm); !why.empty()) r_.fail(m, mp, why);
    parse_placement(n, p, b, mesh.vertices);
  }

  void parse_drive(const YAML::Node& d, const std::string& p, FemBodyDesc& b) {
    if (!d.IsMap()) r_.fail(d, p, "expected {region: {lower, upper}, velocity, rotation, start, end, release}");
    r_.check_map(d, p, {"region", "velocity", "rotation", "start", "end", "release", "then"});  // issue 6 (mpm_fem): then
    b.drive = true;
    const YAML::Node reg = r_.require(d, p, "region", "the box {lower, upper} selecting the driven vertices");
    if (!reg.IsMap()) r_.fail(reg, p + ".region", "expected {lower, upper}");
    r_.check_map(reg, p + ".region", {"lower", "upper"});
    b.drive_lower = r_.vector(r_.require(reg, p + ".region", "lower", "a corner [m]"), p + ".region.lower", 3, "m");
    b.drive_upper = r_.vector(r_.require(reg, p + ".region", "upper", "a corner [m]"), p + ".region.upper", 3, "m");
    for (std::size_t a = 0; a < 3; ++a)
      if (!(b.drive_lower[a] <= b.drive_upper[a])) r_.fail(reg, p + ".region", "expected lower <= upper on every axis");
    if (const YAML::Node v = r_.find(d, "velocity"); v.IsDefined()) b.drive_velocity = r_.vector(v, p + ".velocity", 3, "m/s");
    if (const YAML::Node rot = r_.find(d, "rotation"); rot.IsDefined()) {
      const std::string rp = p + ".rotation";
      if (!rot.IsMap()) r_.fail(rot, rp, "expected {point, axis, rate}");
      r_.check_map(rot, rp, {"point", "axis", "rate"});
      b.drive_point = r_.vector(r_.require(rot, rp, "point", "a point on the axis [m]"), rp + ".point", 3, "m");
      const YAML::Node ax = r_.require(rot, rp, "axis", "the rotation axis direction");
      b.drive_axis = r_.vector(ax, rp + ".axis", 3, "1");
      const double len = std::hypot(b.drive_axis[0], b.drive_axis[1], b.drive_axis[2]);
      if (!(len > 0)) r_.fail(ax, rp + ".axis", "expected a nonzero vector");
      for (auto& c : b.drive_axis) c /= len;
      b.drive_rate = r_.number(r_.require(rot, rp, "rate", "an angular velocity [rad/s]"), rp + ".rate", "an angular velocity [rad/s]");
    }
    if (const YAML::Node v = r_.find(d, "start"); v.IsDefined()) {
      b.drive_start = r_.number(v, p + ".start", "a time [s] >= 0");
      if (!(b.drive_start >= 0)) r_.fail(v, p + ".start", "expected a time [s] >= 0");
    }
    if (const YAML::Node v = r_.find(d, "end"); v.IsDefined()) {
      b.drive_end = r_.number(v, p + ".end", "a time [s] after start");
      if (!(b.drive_end > b.drive_start)) r_.fail(v, p + ".end", "expected a time [s] after start");
    }
    if (const YAML::Node v = r_.find(d, "release"); v.IsDefined()) {
      const std::string r = r_.choice(v, p + ".release", {"true", "false"});
      b.drive_release = r == "true";
      if (b.drive_release && !r_.has(d, "end")) r_.fail(v, p + ".release", "release: true needs an end time");
    }
    if (const YAML::Node t = r_.find(d, "then"); t.IsDefined()) parse_drive_then(d, t, p + ".then", b);  // issue 6 (mpm_fem)
  }

  // issue 6 (mpm_fem) begin: a second translation phase of a drive (a gripper closes, then lifts):
  // then: {velocity: [m/s], start: [s] >= the drive's end, end: [s]}
  void parse_drive_then(const YAML::Node& d, const YAML::Node& t, const std::string& p, FemBodyDesc& b) {
    if (!t.IsMap()) r_.fail(t, p, "expected {velocity, start, end}");
    r_.check_map(t, p, {"velocity", "start", "end"});
    if (!r_.has(d, "end")) r_.fail(t, p, "a second phase needs the drive's end time");
    if (b.drive_release) r_.fail(t, p, "a released drive (release: true) has no second phase");
    b.drive_then = true;
    b.then_velocity = r_.vector(r_.require(t, p, "velocity", "a velocity [m/s]"), p + ".velocity", 3, "m/s");
    const YAML::Node s = r_.require(t, p, "start", "a time [s] >= the drive's end");
    b.then_start = r_.number(s, p + ".start", "a time [s] >= the drive's end");
    if (!(b.then_start >= b.drive_end)) r_.fail(s, p + ".start", "expected a time [s] >= the drive's end");
    const YAML::Node e = r_.require(t, p, "end", "a time [s] after then.start");
    b.then_end = r_.number(e, p + ".end", "a time [s] after then.start");
    if (!(b.then_end > b.then_start)) r_.fail(e, p + ".end", "expected a time [s] after then.start");
  }
  // issue 6 (mpm_fem) end

  // translation, velocity, pin, move, drive (shared by tets and shells).
  void parse_placement(const YAML::Node& n, const std::string& p, FemBodyDesc& b,
                       const std::vector<std::array<double, 3>>& vertices) {
    if (const YAML::Node t = r_.find(n, "translation"); t.IsDefined()) b.translation = r_.vector(t, p + ".translation", 3, "m");
    if (const YAML::Node v = r_.find(n, "velocity"); v.IsDefined()) b.velocity = r_.vector(v, p + ".velocity", 3, "m/s");
    if (const YAML::Node pin = r_.find(n, "pin"); pin.IsDefined()) {
      r_.check_map(pin, p + ".pin", {"axis", "below"});
      b.pin = true;
      b.pin_axis = axis(pin, p + ".pin");
      b.pin_below = r_.number(r_.require(pin, p + ".pin", "below", "a coordinate [m]"), p + ".pin.below", "a coordinate [m]");
    }
    if (const YAML::Node mv = r_.find(n, "move"); mv.IsDefined()) {
      r_.check_map(mv, p + ".move", {"axis", "above", "velocity"});
      b.move = true;
      b.move_axis = axis(mv, p + ".move");
      b.move_above = r_.number(r_.require(mv, p + ".move", "above", "a coordinate [m]"), p + ".move.above", "a coordinate [m]");
      b.move_velocity = r_.vector(r_.require(mv, p + ".move", "velocity", "a velocity [m/s]"), p + ".move.velocity", 3, "m/s");
    }
    if (const YAML::Node d = r_.find(n, "drive"); d.IsDefined()) parse_drive(d, p + ".drive", b);
    // The selections must pick something, or the user's intent was lost.
    auto selects = [&](int ax, double bound, bool below) {
      for (const auto& v : vertices) {
        const double c = v[std::size_t(ax)] + b.translation[std::size_t(ax)];
        if (below ? c <= bound : c >= bound) return true;
      }
      return false;
    };
    if (b.pin && !selects(b.pin_axis, b.pin_below, true))
      r_.fail(r_.find(n, "pin"), p + ".pin", "selects no vertex (no vertex has x[axis] <= below after translation)");
    if (b.move && !selects(b.move_axis, b.move_above, false))
      r_.fail(r_.find(n, "move"), p + ".move", "selects no vertex (no vertex has x[axis] >= above after translation)");
    if (b.drive) {
      bool any = false;
      for (const auto& v : vertices) any = any || in_drive_region(b, v);
      if (!any) r_.fail(r_.find(n, "drive"), p + ".drive.region", "selects no vertex (no vertex lies in the box after translation)");
    }
  }

  void parse_body(const YAML::Node& n, const std::string& p, FemBodyDesc& b) {
    if (!n.IsMap()) r_.fail(n, p, "expected {material, mesh | box | cylinder, ...} or {kind: shell, sheet | mesh, shell, ...}");
    b.where = context(r_.locate(n, p), p);
    if (const YAML::Node k = r_.find(n, "kind"); k.IsDefined()) {
      if (r_.choice(k, p + ".kind", {"tet", "shell"}) == "shell") return parse_shell_body(n, p, b);
    }
    r_.check_map(n, p, {"kind", "material", "mesh", "box", "cylinder", "translation", "velocity", "pin", "move", "drive"});
    const YAML::Node m = r_.require(n, p, "material", "a label under materials:");
    b.material = r_.string(m, p + ".material", "a label under materials:");
    b.material_index = s_.material_index(b.material);
    if (b.material_index < 0) r_.fail(m, p + ".material", "'" + b.material + "' is not a label under materials:");
    if (!fem::tet_model_supported(s_.materials[std::size_t(b.material_index)].desc.model_id))
      r_.fail(m, p + ".material",
              "material '" + b.material + "' uses model '" + s_.materials[std::size_t(b.material_index)].model +
                  "', which tets cannot use; expected fixed_corotated, stable_neo_hookean or stvk_hencky");
    const int sources = int(r_.has(n, "mesh")) + int(r_.has(n, "box")) + int(r_.has(n, "cylinder"));
    if (sources != 1) r_.fail(n, p, "expected exactly one of mesh, box or cylinder");
    fem::TetMesh mesh;
    try {
      if (const YAML::Node f = r_.find(n, "mesh"); f.IsDefined()) {
        b.source = FemBodySource::Mesh;
        b.file = r_.string(f, p + ".mesh", "a tet mesh file (.msh, .node or .ele)");
        const fs::path path(b.file);
        b.resolved_file = (path.is_absolute() ? path : fs::path(s_.base_dir) / path).lexically_normal().string();
        std::error_code ec;
        if (!fs::is_regular_file(b.resolved_file, ec))
          r_.fail(f, p + ".mesh", "'" + b.file + "' is not a file ('" + b.resolved_file + "')");
        mesh = fem::read_tet_mesh(b.resolved_file);
      } else if (const YAML::Node box = r_.find(n, "box"); box.IsDefined()) {
        b.source = FemBodySource::Box;
        r_.check_map(box, p + ".box", {"lower", "upper", "cells"});
        b.lower = r_.vector(r_.require(box, p + ".box", "lower", "the lower corner [m]"), p + ".box.lower", 3, "m");
        b.upper = r_.vector(r_.require(box, p + ".box", "upper", "the upper corner [m]"), p + ".box.upper", 3, "m");
        if (const YAML::Node c = r_.find(box, "cells"); c.IsDefined()) {
          const auto v = r_.vector(c, p + ".box.cells", 3, "1", true);
          for (int a = 0; a < 3; ++a) {
            if (!(v[std::size_t(a)] >= 1 && v[std::size_t(a)] <= 1000 && v[std::size_t(a)] == std::floor(v[std::size_t(a)])))
              r_.fail(c, p + ".box.cells", "expected whole numbers of cells between 1 and 1000");
            b.cells[std::size_t(a)] = int(v[std::size_t(a)]);
          }
        }
        mesh = fem::make_box_mesh(b.lower, b.upper, b.cells);
      } else {
        const YAML::Node c = r_.find(n, "cylinder");
        const std::string cp = p + ".cylinder";
        b.source = FemBodySource::Cylinder;
        r_.check_map(c, cp, {"base", "radius", "height", "radial_cells", "axial_cells"});
        b.base = r_.vector(r_.require(c, cp, "base", "the centre of the bottom disk [m]"), cp + ".base", 3, "m");
        b.radius = positive(c, cp, "radius", 0, true, "a radius [m] > 0");
        b.height = positive(c, cp, "height", 0, true, "a height along z [m] > 0");
        b.radial_cells = count(c, cp, "radial_cells", b.radial_cells);
        b.axial_cells = count(c, cp, "axial_cells", b.axial_cells);
        mesh = fem::make_cylinder_mesh(b.base, b.radius, b.height, b.radial_cells, b.axial_cells);
      }
    } catch (const InputError& e) {
      if (std::string(e.what()).rfind(r_.file(), 0) == 0) throw;  // already located by the reader
      throw InputError(b.where + ": " + e.what());
    }
    parse_placement(n, p, b, mesh.vertices);
  }

  const YamlReader& r_;
  SceneDesc& s_;
};

fem::TetMesh body_mesh(const FemBodyDesc& b) {
  fem::TetMesh m;
  switch (b.source) {
    case FemBodySource::Mesh: m = fem::read_tet_mesh(b.resolved_file); break;
    case FemBodySource::Box: m = fem::make_box_mesh(b.lower, b.upper, b.cells); break;
    case FemBodySource::Cylinder:
      m = fem::make_cylinder_mesh(b.base, b.radius, b.height, b.radial_cells, b.axial_cells);
      break;
    default: break;
  }
  for (auto& v : m.vertices)
    for (int a = 0; a < 3; ++a) v[std::size_t(a)] += b.translation[std::size_t(a)];
  return m;
}

TriangleMesh shell_mesh(const FemBodyDesc& b) {
  TriangleMesh m = b.source == FemBodySource::ShellMesh
                       ? fem::load_sheet_obj(b.resolved_file)
                       : fem::make_rectangular_sheet(b.sheet_origin, b.sheet_u, b.sheet_v, b.sheet_cells[0],
                                                     b.sheet_cells[1], b.where);
  for (auto& v : m.vertices)
    for (int a = 0; a < 3; ++a) v[std::size_t(a)] += b.translation[std::size_t(a)];
  return m;
}

bool in_box(const FemBodyDesc& b, const std::array<double, 3>& x) {
  for (std::size_t a = 0; a < 3; ++a)
    if (x[a] < b.drive_lower[a] || x[a] > b.drive_upper[a]) return false;
  return true;
}

}  // namespace

void parse_fem(const YAML::Node& root, const YamlReader& reader, SceneDesc& s) {
  const YAML::Node fem = reader.find(root, "fem");
  if (!fem.IsDefined()) return;
  FemParser(reader, s).parse(fem);
}

std::string fem_frame_file_name(int frame) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "fem_%05d.ply", frame);
  return buf;
}

template <class Real>
FemSceneRun<Real>::FemSceneRun(const SceneDesc& scene) : scene_(scene) {
  const FemSceneDesc& d = scene.fem;
  fem::FemSettings st;
  st.dt = scene.simulation.frame_duration() / d.steps_per_frame;
  st.integrator = d.implicit ? fem::FemIntegrator::kImplicitEuler : fem::FemIntegrator::kSymplecticEuler;
  st.gravity = scene.simulation.gravity;
  st.damping_mass = d.damping_mass;
  st.damping_stiffness = d.damping_stiffness;
  st.newton_max_iterations = d.newton_max_iterations;
  st.newton_tolerance = d.newton_tolerance;
  st.ground.enabled = d.ground;
  st.ground.normal = d.ground_normal;
  st.ground.offset = d.ground_offset;
  st.ground.stiffness = d.ground_stiffness;
  st.ground.delta = d.ground_delta;
  st.ground.friction = d.ground_friction;
  st.ground.slip_speed = d.ground_slip_speed;
  world_ = std::make_unique<fem::FemWorld<Real>>(st);
  std::vector<int> pinned;
  for (const FemBodyDesc& b : d.bodies) {
    std::vector<std::array<double, 3>> rest;
    int first = 0;
    try {
      if (b.shell) {
        TriangleMesh mesh = shell_mesh(b);
        first = world_->add_vertices(mesh.vertices, fem::lumped_sheet_masses(mesh, b.shell_density * b.thickness));
        fem::ShellMaterial sm;
        sm.model = fem::MembraneModel(b.membrane);
        sm.youngs_modulus = b.youngs_modulus;
        sm.poisson_ratio = b.poisson_ratio;
        sm.thickness = b.thickness;
        const double kb = b.bending_stiffness > 0
                              ? b.bending_stiffness
                              : fem::plate_bending_stiffness(b.youngs_modulus, b.poisson_ratio, b.thickness);
        world_->add_energy_term(std::make_shared<fem::MembraneTerm<Real>>(b.name, mesh, first, sm));
        world_->add_energy_term(std::make_shared<fem::HingeTerm<Real>>(
            b.name, mesh, first, Real(kb),
            b.yield_angle > 0 ? Real(b.yield_angle) : std::numeric_limits<Real>::infinity()));
        fem::TetSurface s;
        s.mesh = mesh;
        s.vertex.resize(mesh.vertices.size());
        for (std::size_t v = 0; v < s.vertex.size(); ++v) s.vertex[v] = int(v);
        surfaces_.push_back(std::move(s));
        rest = mesh.vertices;
      } else {
        const fem::TetMesh mesh = body_mesh(b);
        materials::MaterialDesc mat = scene.materials[std::size_t(b.material_index)].desc;
        world_->add_tet_body(b.name, mesh, mat);
        first = world_->num_vertices() - int(mesh.vertices.size());
        surfaces_.push_back(fem::tet_surface(mesh));
        rest = mesh.vertices;
      }
    } catch (const InputError& e) {
      throw InputError(b.where + ": " + e.what());
    }
    first_vertex_.push_back(first);
    DriveGroup move{&b, true, {}, -1, false}, drive{&b, false, {}, -1, false};
    if (b.drive && b.drive_release)
      drive.release_step = int(std::ceil(b.drive_end / st.dt - 1e-6));
    for (const ControlDesc& c : scene.optimization.controls)  // issue 7 (replay_fem)
      if (c.kind == "fem_drive" && c.fem_body_index == int(&b - d.bodies.data())) drive.control = &c;
    for (std::size_t v = 0; v < rest.size(); ++v) {
      const int id = first + int(v);
      for (int a = 0; a < 3; ++a) world_->velocities()[std::size_t(3 * id + a)] = Real(b.velocity[std::size_t(a)]);
      if (b.pin && rest[v][std::size_t(b.pin_axis)] <= b.pin_below) {
        pinned.push_back(id);
      } else if (b.drive && in_box(b, rest[v])) {
        drive.vertices.push_back(id);
      } else if (b.move && rest[v][std::size_t(b.move_axis)] >= b.move_above) {
        move.vertices.push_back(id);
      }
    }
    if (!move.vertices.empty()) groups_.push_back(std::move(move));
    if (!drive.vertices.empty()) groups_.push_back(std::move(drive));
  }
  if (!d.spheres.empty()) {
    const std::vector<Real> masses = world_->masses();
    for (const FemSphereDesc& sd : d.spheres) {
      fem::SphereCollider<Real> c{{Real(sd.center[0]), Real(sd.center[1]), Real(sd.center[2])}, Real(sd.radius),
                                  Real(sd.stiffness), Real(sd.delta)};
      world_->add_energy_term(std::make_shared<fem::SphereContactTerm<Real>>(sd.name, c, masses));
    }
  }
  // issue 6 (fem_tool): the scene's tools act on the FEM bodies too (a copy planned with the FEM dt).
  for (const ToolDesc& t : scene.tools) world_->add_tool(fem_tool_spec(scene, t, st.dt), t.where);
  if (!pinned.empty()) world_->pin(pinned);
  prescribe_from(0);
  // issue 7 (replay_fem): fem_material controls set their init, as the optimizer's evaluation sets its values
  for (const ControlDesc& c : scene.optimization.controls) {
    if (c.kind != "fem_material" || c.init.empty()) continue;
    std::vector<optim::FemParameterRef> set;
    try {
      set = optim::set_fem_body_parameter(*world_, c.body, c.parameter, c.init[0]);
    } catch (const InputError& e) {
      throw InputError(c.loc + ": controls." + c.name + ": " + e.what());
    }
    if (set.empty())
      throw InputError(c.loc + ": controls." + c.name + ".parameter: FEM body '" + c.body + "' has no parameter '" +
                       c.parameter + "'");
  }
}

template <class Real>
std::array<double, 3> FemSceneRun<Real>::drive_target(const DriveGroup& g, const std::array<double, 3>& rest,
                                                      double t) const {
  const FemBodyDesc& b = *g.body;
  if (g.is_move)
    return {rest[0] + b.move_velocity[0] * t, rest[1] + b.move_velocity[1] * t, rest[2] + b.move_velocity[2] * t};
  if (g.control)  // issue 7 (replay_fem): the waypoints of the scene's fem_drive control replace rotation and velocity
    return optim::fem_drive_target(b, g.control->init.data(), g.control->waypoints, g.control->fem_translate, rest, t);
  const double tau = std::min(std::max(t - b.drive_start, 0.0), b.drive_end - b.drive_start);
  // Rodrigues' rotation of (rest - point) about the unit axis k by angle rate * tau.
  const double th = b.drive_rate * tau, c = std::cos(th), s = std::sin(th);
  const auto& k = b.drive_axis;
  const std::array<double, 3> r{rest[0] - b.drive_point[0], rest[1] - b.drive_point[1], rest[2] - b.drive_point[2]};
  const double kr = k[0] * r[0] + k[1] * r[1] + k[2] * r[2];
  const std::array<double, 3> kxr{k[1] * r[2] - k[2] * r[1], k[2] * r[0] - k[0] * r[2], k[0] * r[1] - k[1] * r[0]};
  std::array<double, 3> y;
  for (std::size_t a = 0; a < 3; ++a)
    y[a] = b.drive_point[a] + r[a] * c + kxr[a] * s + k[a] * kr * (1 - c) + b.drive_velocity[a] * tau;
  if (b.drive_then) {  // issue 6 (mpm_fem): second translation phase
    const double tau2 = std::min(std::max(t - b.then_start, 0.0), b.then_end - b.then_start);
    for (std::size_t a = 0; a < 3; ++a) y[a] += b.then_velocity[a] * tau2;
  }
  return y;
}

template <class Real>
void FemSceneRun<Real>::prescribe_from(int step) {
  const double dt = world_->settings().dt;
  const int total = std::max(step + 1, scene_.simulation.frames * scene_.fem.steps_per_frame);
  std::vector<int> vertices;
  std::vector<const DriveGroup*> owner;
  for (const DriveGroup& g : groups_)
    if (!g.released)
      for (int v : g.vertices) {
        vertices.push_back(v);
        owner.push_back(&g);
      }
  std::vector<std::vector<Real>> trajectory;
  if (!vertices.empty()) {
    trajectory.assign(std::size_t(total - step), std::vector<Real>(3 * vertices.size()));
    for (int n = step; n < total; ++n)
      for (std::size_t k = 0; k < vertices.size(); ++k) {
        const std::size_t v = std::size_t(vertices[k]);
        const std::array<double, 3> rest{double(world_->rest_positions()[3 * v]), double(world_->rest_positions()[3 * v + 1]),
                                         double(world_->rest_positions()[3 * v + 2])};
        const std::array<double, 3> y = drive_target(*owner[k], rest, (n + 1) * dt);
        for (std::size_t a = 0; a < 3; ++a) trajectory[std::size_t(n - step)][3 * k + a] = Real(y[a]);
      }
  }
  if (!vertices.empty() || step > 0) world_->prescribe(vertices, trajectory);
}

template <class Real>
void FemSceneRun<Real>::step_frame() {
  for (int i = 0; i < scene_.fem.steps_per_frame; ++i) step_once();  // issue 6 (mpm_fem): one step factored out
}

// issue 6 (mpm_fem) begin
template <class Real>
void FemSceneRun<Real>::step_once() {
  bool changed = false;
  for (DriveGroup& g : groups_)
    if (!g.released && g.release_step >= 0 && world_->step_count() >= g.release_step) {
      g.released = true;
      changed = true;
    }
  if (changed) prescribe_from(world_->step_count());
  world_->step();
}

template <class Real>
std::vector<std::array<int, 3>> FemSceneRun<Real>::tet_surface_triangles() const {
  std::vector<std::array<int, 3>> out;
  for (std::size_t b = 0; b < surfaces_.size(); ++b) {
    if (scene_.fem.bodies[b].shell) continue;
    const fem::TetSurface& s = surfaces_[b];
    for (const auto& t : s.mesh.triangles) {
      std::array<int, 3> tri;
      for (std::size_t c = 0; c < 3; ++c) tri[c] = first_vertex_[b] + s.vertex[std::size_t(t[c])];
      out.push_back(tri);
    }
  }
  return out;
}
// issue 6 (mpm_fem) end

template <class Real>
std::string FemSceneRun<Real>::write_frame(const std::string& dir, int frame) {
  std::size_t nv = 0, nf = 0;
  for (std::size_t b = 0; b < surfaces_.size(); ++b) {
    fem::update_surface_positions(surfaces_[b], world_->positions().data(), first_vertex_[b]);
    nv += surfaces_[b].mesh.vertices.size();
    nf += surfaces_[b].mesh.triangles.size();
  }
  std::ostringstream os;
  os.precision(9);
  os << "ply\nformat ascii 1.0\ncomment pliant FEM body surfaces, frame " << frame << "\nelement vertex " << nv
     << "\nproperty float x\nproperty float y\nproperty float z\nelement face " << nf
     << "\nproperty list uchar int vertex_indices\nend_header\n";
  for (const auto& s : surfaces_)
    for (const auto& v : s.mesh.vertices) os << v[0] << ' ' << v[1] << ' ' << v[2] << '\n';
  std::size_t offset = 0;
  for (const auto& s : surfaces_) {
    for (const auto& t : s.mesh.triangles)
      os << "3 " << offset + std::size_t(t[0]) << ' ' << offset + std::size_t(t[1]) << ' ' << offset + std::size_t(t[2]) << '\n';
    offset += s.mesh.vertices.size();
  }
  const std::string path = (fs::path(dir) / fem_frame_file_name(frame)).string();
  write_file_atomic(path, os.str());
  return path;
}

template <class Real>
std::vector<TriangleMesh> FemSceneRun<Real>::surface_meshes() {
  std::vector<TriangleMesh> out;
  for (std::size_t b = 0; b < surfaces_.size(); ++b) {
    fem::update_surface_positions(surfaces_[b], world_->positions().data(), first_vertex_[b]);
    out.push_back(surfaces_[b].mesh);
  }
  return out;
}

// issue 7 (opt_fold)
template <class Real>
std::vector<int> FemSceneRun<Real>::drive_vertices(int body) const {
  for (const DriveGroup& g : groups_)
    if (!g.is_move && g.body == &scene_.fem.bodies[std::size_t(body)]) return g.vertices;
  return {};
}

template class FemSceneRun<float>;
template class FemSceneRun<double>;

}  // namespace pl::scene
