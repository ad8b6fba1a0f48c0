// engine/mpm in Python: one class per (precision, dimension), named
// SimCore<f32|f64>_<2|3>d; python/pliant/simulation.py picks the right one.
// State arrays are zero-copy views of the world's host copy (sim_core.hpp
// explains the staleness rules); mass, volume, material and body are read-only
// because they are tied to densities and tables the engine validates.
#include <pybind11/stl.h>

#include "bindings/bind_parts.hpp"
#include "bindings/numpy_util.hpp"
#include "bindings/sim_core.hpp"
#include "materials/registry.hpp"

namespace py = pybind11;

namespace pl::py_bind {

namespace {

Backend resolve(const std::string& requested, bool is_double) {
  // The CUDA backend runs float only: "auto" in double means the CPU.
  if (requested == "auto" && is_double) return Backend::Cpu;
  return resolve_backend(requested, "Simulation(backend='" + requested + "')");
}

template <class Real, int D>
py::list material_list(const MpmWorld<Real, D>& w) {
  py::list out;
  for (const auto& m : w.materials()) {
    py::dict params;
    const auto info = materials::model_info(m.model_id);
    for (int k = 0; k < info.num_params; ++k) params[info.params[k].name] = m.params[std::size_t(k)];
    py::dict d;
    d["label"] = m.label;
    d["model"] = m.model_name;
    d["density"] = m.density;
    d["params"] = params;
    out.append(d);
  }
  return out;
}

template <class Real, int D>
void set_material(SimCore<Real, D>& sim, int index, py::object density, const std::map<std::string, double>& changes) {
  auto& w = sim.world();
  if (index < 0 || index >= int(w.materials().size()))
    throw py::index_error("set_material: material index " + std::to_string(index) + " is out of range [0, " +
                          std::to_string(w.materials().size()) + ")");
  const auto& old = w.materials()[std::size_t(index)];
  std::map<std::string, double> named;
  const auto info = materials::model_info(old.model_id);
  for (int k = 0; k < info.num_params; ++k) named[info.params[k].name] = old.params[std::size_t(k)];
  for (const auto& [name, value] : changes) named[name] = value;  // unknown names are refused by make_material
  const double rho = density.is_none() ? old.density : density.cast<double>();
  sim.touch();
  sim.host();  // pending view edits stay pending (set_material rescales masses on the host copy)
  w.set_material(index, materials::make_material(old.label, old.model_name, named, rho,
                                                 "Simulation.set_material('" + old.label + "')"));
}

template <class Real, int D>
void define_sim(py::module_& m, const char* name) {
  using Sim = SimCore<Real, D>;
  py::class_<Sim>(m, name, "An MPM world built from a scene (see pliant.Simulation).")
      .def(py::init([](const scene::SceneDesc& s, const std::string& backend) {
             if (s.simulation.dim != D)
               throw InputError("Simulation: the scene is " + std::to_string(s.simulation.dim) + "D, this class is " +
                                std::to_string(D) + "D");
             return std::make_unique<Sim>(s, resolve(backend, std::is_same_v<Real, double>));
           }),
           py::arg("scene"), py::arg("backend") = "auto")
      .def(
          "step",
          [](Sim& s, int substeps) {
            s.touch();
            s.require_not_failed("step");
            s.host();  // edits made through the views are uploaded by the step
            typename Sim::Running running(s);
            py::gil_scoped_release release;
            s.step(substeps);
          },
          py::arg("substeps") = 1, "Advances `substeps` substeps of dt (raises SimulationError naming the particle on failure).")
      .def("reset", &Sim::reset, "Back to the initial state, t = 0.")
      .def(
          "check_stability",
          [](Sim& s) {
            s.touch();
            return scene::check_stability(s.scene(), s.world()).message();
          },
          "Re-runs the dt guard with the current velocities; raises InputError when dt is too large.")
      .def_property_readonly("x", [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().x, self, true); })
      .def_property_readonly("v", [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().v, self, true); })
      .def_property_readonly("F", [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().F, self, true); })
      .def_property_readonly("C", [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().C, self, true); })
      .def_property_readonly("plastic",
                             [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().plastic, self, true); })
      .def_property_readonly("mass",
                             [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().mass, self, false); })
      .def_property_readonly("volume",
                             [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().volume, self, false); })
      .def_property_readonly("material",
                             [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().material, self, false); })
      .def_property_readonly("body",
                             [](py::object self) { return view_of<Real>(self.cast<Sim&>().host().body, self, false); })
      .def("external_forces",
           [](Sim& s) -> py::object {
             const auto& f = s.world().particles().force;
             if (f.empty()) return py::none();
             return copy_of<Real>(f);
           })
      .def(
          "set_external_forces",
          [](Sim& s, py::object forces) {
            std::vector<Vec<Real, D>> f;
            if (!forces.is_none()) {
              const auto n = py::ssize_t(s.world().num_particles());
              copy_into(checked_array<Real>(forces, {n, D}, "set_external_forces"), f);
            }
            s.touch();
            s.host();
            s.world().set_external_forces(f);
          },
          py::arg("forces"), "Per-particle external forces [N], shape (n, dim), applied every substep; None clears.")
      .def_property_readonly("materials", [](Sim& s) { return material_list(s.world()); })
      .def("set_material", &set_material<Real, D>, py::arg("index"), py::arg("density"), py::arg("params"))
      .def("set_wall_friction",
           [](Sim& s, int axis, int side, double friction) {
             s.touch();
             s.world().set_wall_friction(axis, side, friction);
           })
      .def_property_readonly("bodies",
                             [](Sim& s) {
                               py::list out;
                               for (const auto& b : s.world().bodies()) {
                                 py::dict d;
                                 d["name"] = b.name;
                                 d["material"] = b.material;
                                 d["first"] = b.first;
                                 d["count"] = b.count;
                                 out.append(d);
                               }
                               return out;
                             })
      .def_property_readonly("num_particles", [](Sim& s) { return s.world().num_particles(); })
      .def_property_readonly("step_count", [](Sim& s) { return s.world().step_count(); })
      .def_property_readonly("time", [](Sim& s) { return s.world().time(); })
      .def_property_readonly("dt", [](Sim& s) { return s.world().settings().dt; })
      .def_property_readonly("backend", [](Sim& s) { return std::string(backend_name(s.world().backend())); })
      .def_property_readonly("generation", &Sim::generation)
      .def_property_readonly("scene", [](Sim& s) { return s.scene(); });
}

}  // namespace

void define_mpm(py::module_& m) {
  define_sim<float, 2>(m, "SimCoreF32_2d");
  define_sim<float, 3>(m, "SimCoreF32_3d");
  define_sim<double, 2>(m, "SimCoreF64_2d");
  define_sim<double, 3>(m, "SimCoreF64_3d");
}

}  // namespace pl::py_bind
