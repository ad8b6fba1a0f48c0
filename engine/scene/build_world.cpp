#include "engine/scene/build_world.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "engine/core/error.hpp"
#include "engine/geometry/triangle_mesh.hpp"
#include "engine/mpm/sampling.hpp"
#include "engine/scene/tools_loader.hpp"  // issue 6

namespace pl::scene {

namespace {

template <int D>
std::array<double, D> head(const std::array<double, 3>& v) {
  std::array<double, D> out{};
  for (int a = 0; a < D; ++a) out[a] = v[a];
  return out;
}

SamplingSettings sampling_settings(const SceneDesc& scene, const BodyDesc& body) {
  SamplingSettings s;
  s.dx = scene.simulation.dx;
  s.particles_per_cell = body.particles_per_cell;
  s.seed = body.seed;
  return s;
}

/// Same rule as the loader's check for analytic shapes, for a mesh once it is
/// placed: the world refuses particles in the wall layers.
void check_mesh_inside(const SceneDesc& scene, const BodyDesc& body, const TriangleMesh& mesh) {
  const SimulationDesc& sim = scene.simulation;
  const Aabb3 box = bounding_box(mesh);
  static const char* axis_names[3] = {"x", "y", "z"};
  for (int a = 0; a < sim.dim; ++a) {
    const double inner_lo = sim.origin[a] + sim.bound_cells * sim.dx;
    const double inner_hi = sim.origin[a] + (sim.cells[a] - sim.bound_cells) * sim.dx;
    if (box.lower[a] < inner_lo || box.upper[a] > inner_hi) {
      std::ostringstream os;
      os << context(body.shape.loc, "bodies." + body.name + ".shape") << ": the mesh '" << body.shape.file
         << "' (after scale, rotation_deg and translation) spans " << box.lower[a] << " to " << box.upper[a]
         << " m along " << axis_names[a] << ", outside the domain interior [" << inner_lo << ", " << inner_hi
         << "] m (the domain minus the " << sim.bound_cells << "-cell wall layer)";
      throw InputError(os.str());
    }
  }
}

}  // namespace

Backend scene_backend(const SceneDesc& scene) {
  const SimulationDesc& sim = scene.simulation;
  // CUDA runs float only; "auto" means "the fastest backend that can run this".
  if (sim.backend == "auto" && sim.precision == Precision::Double) return Backend::Cpu;
  return resolve_backend(sim.backend, scene.where("simulation.backend"));
}

template <int D>
MpmSettings<D> make_settings(const SimulationDesc& sim) {
  if (sim.dim != D)
    throw std::logic_error("make_settings<" + std::to_string(D) + "> called for a " + std::to_string(sim.dim) +
                           "D scene");
  MpmSettings<D> s;
  s.dx = sim.dx;
  s.dt = sim.dt;
  s.bound_cells = sim.bound_cells;
  s.cfl = sim.cfl;
  s.allow_unstable_dt = sim.allow_unstable_dt;
  for (int a = 0; a < D; ++a) {
    s.resolution[a] = sim.cells[a] + 1;
    s.origin[a] = sim.origin[a];
    s.gravity[a] = sim.gravity[a];
    for (int side = 0; side < 2; ++side) s.walls[a][side] = WallSpec{sim.walls[a][side].type, sim.walls[a][side].friction};
  }
  return s;
}

template <int D>
std::vector<std::array<double, D>> sample_body(const SceneDesc& scene, const BodyDesc& body) {
  const std::string ctx = context(body.shape.loc, "bodies." + body.name + ".shape");
  const SamplingSettings ss = sampling_settings(scene, body);
  const ShapeDesc& sh = body.shape;
  switch (sh.type) {
    case ShapeType::Box:
      return sample_box<D>(head<D>(sh.lower), head<D>(sh.upper), ss, ctx);
    case ShapeType::Sphere:
      return sample_sphere<D>(head<D>(sh.center), sh.radius, ss, ctx);
    case ShapeType::Cylinder:
      return sample_cylinder<D>(head<D>(sh.center), sh.radius, sh.height, sh.axis, ss, ctx);
    case ShapeType::Mesh: {
      TriangleMesh mesh;
      try {
        mesh = load_obj(sh.resolved_file);
        validate_closed_manifold(mesh, sh.resolved_file);
      } catch (const InputError& e) {
        // The mesh code names the file; the user also needs the scene key that points at it.
        throw InputError(scene.where("bodies." + body.name + ".shape.file") + ": " + e.what());
      }
      MeshTransform t;
      t.scale = sh.scale;
      t.rotation_deg = sh.rotation_deg;
      t.translation = sh.translation;
      mesh = transform_mesh(mesh, t, ctx);
      check_mesh_inside(scene, body, mesh);
      return sample_mesh<D>(mesh, ss, ctx);
    }
  }
  throw std::logic_error("sample_body: unknown shape type");
}

template <class Real, int D>
std::unique_ptr<MpmWorld<Real, D>> build_world(const SceneDesc& scene, Backend backend) {
  std::vector<materials::MaterialDesc> table = scene.material_table();
  // A scene of FEM bodies only has no `materials:`; its MPM world stays empty and
  // is never stepped, but MpmWorld needs a material table, so give it a default
  // one that no particle uses.
  if (table.empty()) table.push_back(materials::make_material("unused", "fixed_corotated", {}, 1000, scene.path));
  auto world = std::make_unique<MpmWorld<Real, D>>(make_settings<D>(scene.simulation), std::move(table), backend,
                                                   scene.path);
  for (const BodyDesc& body : scene.bodies) {
    const auto positions = sample_body<D>(scene, body);
    if (positions.empty())
      throw InputError(context(body.shape.loc, "bodies." + body.name + ".shape") +
                       ": sampling produced no particles; the shape is smaller than a grid cell (dx = " +
                       std::to_string(scene.simulation.dx) + " m) or misses every cell centre");
    world->add_body(body.name, positions, body.material_index, head<D>(body.velocity),
                    particle_volume(sampling_settings(scene, body), D));
  }
  add_scene_tools(scene, *world);  // issue 6: the tools section
  return world;
}

template <class Real, int D>
std::unique_ptr<MpmWorld<Real, D>> build_world(const SceneDesc& scene) {
  return build_world<Real, D>(scene, scene_backend(scene));
}

template <class Real, int D>
StabilityReport check_stability(const SceneDesc& scene, const MpmWorld<Real, D>& world) {
  const auto& p = world.particles();
  std::vector<double> max_speed(world.materials().size(), -1.0);
  for (std::size_t i = 0; i < p.size(); ++i) {
    double& s = max_speed[p.material[i]];
    s = std::max(s, double(norm(p.v[i])));
  }
  const SimulationDesc& sim = scene.simulation;
  StabilityReport r = check_time_step(sim.dt, sim.dx, sim.cfl, world.materials(), max_speed);
  if (!r.ok() && !sim.allow_unstable_dt) throw InputError(scene.where("simulation.dt") + ": " + r.message());
  return r;
}

template MpmSettings<2> make_settings<2>(const SimulationDesc&);
template MpmSettings<3> make_settings<3>(const SimulationDesc&);
template std::vector<std::array<double, 2>> sample_body<2>(const SceneDesc&, const BodyDesc&);
template std::vector<std::array<double, 3>> sample_body<3>(const SceneDesc&, const BodyDesc&);
template std::unique_ptr<MpmWorld<float, 2>> build_world<float, 2>(const SceneDesc&);
template std::unique_ptr<MpmWorld<float, 3>> build_world<float, 3>(const SceneDesc&);
template std::unique_ptr<MpmWorld<double, 2>> build_world<double, 2>(const SceneDesc&);
template std::unique_ptr<MpmWorld<double, 3>> build_world<double, 3>(const SceneDesc&);
template std::unique_ptr<MpmWorld<float, 2>> build_world<float, 2>(const SceneDesc&, Backend);
template std::unique_ptr<MpmWorld<float, 3>> build_world<float, 3>(const SceneDesc&, Backend);
template std::unique_ptr<MpmWorld<double, 2>> build_world<double, 2>(const SceneDesc&, Backend);
template std::unique_ptr<MpmWorld<double, 3>> build_world<double, 3>(const SceneDesc&, Backend);
template StabilityReport check_stability(const SceneDesc&, const MpmWorld<float, 2>&);
template StabilityReport check_stability(const SceneDesc&, const MpmWorld<float, 3>&);
template StabilityReport check_stability(const SceneDesc&, const MpmWorld<double, 2>&);
template StabilityReport check_stability(const SceneDesc&, const MpmWorld<double, 3>&);

}  // namespace pl::scene
