// The `fem:` scene section (format in fem_loader.hpp).
#include "engine/scene/fem_loader.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/fem/tet_energy_term.hpp"
#include "engine/fem/tet_mesh.hpp"
#include "engine/scene/frame_output.hpp"

namespace pl::scene {

namespace fs = std::filesystem;
using detail::join_path;
using detail::YamlReader;

namespace {

class FemParser {
 public:
  FemParser(const YamlReader& r, SceneDesc& s) : r_(r), s_(s) {}

  void parse(const YAML::Node& fem) {
    const std::string p = "fem";
    if (s_.simulation.dim != 3) r_.fail(fem, p, "FEM bodies need a 3D scene (simulation.dim: 3)");
    r_.check_map(fem, p, {"integrator", "steps_per_frame", "damping", "ground", "bodies"});
    FemSceneDesc& d = s_.fem;
    d.enabled = true;
    if (const YAML::Node n = r_.find(fem, "integrator"); n.IsDefined())
      d.implicit = r_.choice(n, p + ".integrator", {"implicit", "explicit"}) == "implicit";
    if (const YAML::Node n = r_.find(fem, "steps_per_frame"); n.IsDefined()) {
      const long long v = r_.integer(n, p + ".steps_per_frame", "FEM steps per frame, an integer >= 1");
      if (v < 1) r_.fail(n, p + ".steps_per_frame", "expected an integer >= 1");
      d.steps_per_frame = int(v);
    }
    if (const YAML::Node n = r_.find(fem, "damping"); n.IsDefined()) {
      r_.check_map(n, p + ".damping", {"mass", "stiffness"});
      d.damping_mass = non_negative(n, p + ".damping", "mass", 0, "the mass-proportional damping alpha [1/s] >= 0");
      d.damping_stiffness =
          non_negative(n, p + ".damping", "stiffness", 0, "the stiffness-proportional damping beta [s] >= 0");
    }
    if (const YAML::Node g = r_.find(fem, "ground"); g.IsDefined()) parse_ground(g, p + ".ground");
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

  void parse_body(const YAML::Node& n, const std::string& p, FemBodyDesc& b) {
    if (!n.IsMap()) r_.fail(n, p, "expected {material, mesh | box | cylinder, ...}");
    r_.check_map(n, p, {"material", "mesh", "box", "cylinder", "translation", "velocity", "pin", "move"});
    b.where = context(r_.locate(n, p), p);
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
    // The selections must pick something, or the user's intent was lost.
    auto selects = [&](int ax, double bound, bool below) {
      for (const auto& v : mesh.vertices) {
        const double c = v[std::size_t(ax)] + b.translation[std::size_t(ax)];
        if (below ? c <= bound : c >= bound) return true;
      }
      return false;
    };
    if (b.pin && !selects(b.pin_axis, b.pin_below, true))
      r_.fail(r_.find(n, "pin"), p + ".pin", "selects no vertex (no vertex has x[axis] <= below after translation)");
    if (b.move && !selects(b.move_axis, b.move_above, false))
      r_.fail(r_.find(n, "move"), p + ".move", "selects no vertex (no vertex has x[axis] >= above after translation)");
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
  }
  for (auto& v : m.vertices)
    for (int a = 0; a < 3; ++a) v[std::size_t(a)] += b.translation[std::size_t(a)];
  return m;
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
  st.ground.enabled = d.ground;
  st.ground.normal = d.ground_normal;
  st.ground.offset = d.ground_offset;
  st.ground.stiffness = d.ground_stiffness;
  st.ground.delta = d.ground_delta;
  st.ground.friction = d.ground_friction;
  st.ground.slip_speed = d.ground_slip_speed;
  world_ = std::make_unique<fem::FemWorld<Real>>(st);
  std::vector<int> pinned, moved;
  std::vector<std::array<double, 3>> move_velocity;
  for (const FemBodyDesc& b : d.bodies) {
    const fem::TetMesh mesh = body_mesh(b);
    materials::MaterialDesc mat = scene.materials[std::size_t(b.material_index)].desc;
    int first = 0;
    try {
      world_->add_tet_body(b.name, mesh, mat);
      first = world_->num_vertices() - int(mesh.vertices.size());
    } catch (const InputError& e) {
      throw InputError(b.where + ": " + e.what());
    }
    first_vertex_.push_back(first);
    surfaces_.push_back(fem::tet_surface(mesh));
    for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
      const int id = first + int(v);
      for (int a = 0; a < 3; ++a) world_->velocities()[std::size_t(3 * id + a)] = Real(b.velocity[std::size_t(a)]);
      if (b.pin && mesh.vertices[v][std::size_t(b.pin_axis)] <= b.pin_below) {
        pinned.push_back(id);
      } else if (b.move && mesh.vertices[v][std::size_t(b.move_axis)] >= b.move_above) {
        moved.push_back(id);
        move_velocity.push_back(b.move_velocity);
      }
    }
  }
  if (!pinned.empty()) world_->pin(pinned);
  if (!moved.empty()) {
    const int steps = std::max(1, scene.simulation.frames * d.steps_per_frame);
    std::vector<std::vector<Real>> trajectory(std::size_t(steps), std::vector<Real>(3 * moved.size()));
    for (int n = 0; n < steps; ++n)
      for (std::size_t k = 0; k < moved.size(); ++k)
        for (int a = 0; a < 3; ++a)
          trajectory[std::size_t(n)][3 * k + std::size_t(a)] =
              world_->rest_positions()[std::size_t(3 * moved[k] + a)] +
              Real(move_velocity[k][std::size_t(a)] * (n + 1) * st.dt);
    world_->prescribe(moved, trajectory);
  }
}

template <class Real>
void FemSceneRun<Real>::step_frame() {
  for (int i = 0; i < scene_.fem.steps_per_frame; ++i) world_->step();
}

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

template class FemSceneRun<float>;
template class FemSceneRun<double>;

}  // namespace pl::scene
