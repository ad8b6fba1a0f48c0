// engine/scene in Python: a validated scene (SceneDesc) from a file or from
// text, with overrides applied exactly as `pliant run --set` applies them.
// The Python Scene class (python/pliant/scene.py) builds scene text for
// programmatic scenes, so both paths go through the same validation and the
// same error messages.
#include <pybind11/stl.h>

#include "bindings/bind_parts.hpp"
#include "engine/scene/scene_loader.hpp"

namespace py = pybind11;

namespace pl::py_bind {

namespace {

py::tuple head(const std::array<double, 3>& v, int dim) {
  py::tuple t(dim);
  for (int a = 0; a < dim; ++a) t[a] = v[a];
  return t;
}

py::list material_list(const scene::SceneDesc& s) {
  py::list out;
  for (const auto& m : s.materials) {
    py::dict params;
    const auto info = materials::model_info(m.desc.model_id);
    for (int k = 0; k < info.num_params; ++k) params[info.params[k].name] = m.desc.params[std::size_t(k)];
    py::dict d;
    d["label"] = m.label;
    d["model"] = m.model;
    d["density"] = m.density;
    d["params"] = params;
    out.append(d);
  }
  return out;
}

py::list body_list(const scene::SceneDesc& s) {
  py::list out;
  for (const auto& b : s.bodies) {
    py::dict d;
    d["name"] = b.name;
    d["material"] = b.material;
    d["shape"] = scene::shape_type_name(b.shape.type);
    d["particles_per_cell"] = b.particles_per_cell;
    d["seed"] = b.seed;
    d["velocity"] = head(b.velocity, s.simulation.dim);
    out.append(d);
  }
  return out;
}

}  // namespace

void define_scene(py::module_& m) {
  using scene::SceneDesc;
  py::class_<SceneDesc>(m, "SceneDesc", "A validated scene (engine/scene/scene_desc.hpp). Immutable from Python.")
      .def_property_readonly("path", [](const SceneDesc& s) { return s.path; })
      .def_property_readonly("description", [](const SceneDesc& s) { return s.description; })
      .def_property_readonly("dim", [](const SceneDesc& s) { return s.simulation.dim; })
      .def_property_readonly("precision",
                             [](const SceneDesc& s) { return std::string(scene::precision_name(s.simulation.precision)); })
      .def_property_readonly("backend", [](const SceneDesc& s) { return s.simulation.backend; })
      .def_property_readonly("dt", [](const SceneDesc& s) { return s.simulation.dt; })
      .def_property_readonly("substeps_per_frame", [](const SceneDesc& s) { return s.simulation.substeps_per_frame; })
      .def_property_readonly("frames", [](const SceneDesc& s) { return s.simulation.frames; })
      .def_property_readonly("dx", [](const SceneDesc& s) { return s.simulation.dx; })
      .def_property_readonly("origin", [](const SceneDesc& s) { return head(s.simulation.origin, s.simulation.dim); })
      .def_property_readonly("cells",
                             [](const SceneDesc& s) {
                               py::tuple t(s.simulation.dim);
                               for (int a = 0; a < s.simulation.dim; ++a) t[a] = s.simulation.cells[a];
                               return t;
                             })
      .def_property_readonly("domain_upper",
                             [](const SceneDesc& s) { return head(s.simulation.domain_upper(), s.simulation.dim); })
      .def_property_readonly("bound_cells", [](const SceneDesc& s) { return s.simulation.bound_cells; })
      .def_property_readonly("gravity", [](const SceneDesc& s) { return head(s.simulation.gravity, s.simulation.dim); })
      .def_property_readonly("materials", &material_list)
      .def_property_readonly("bodies", &body_list)
      .def_property_readonly("source_sha256", [](const SceneDesc& s) { return s.source_sha256; })
      .def("__repr__", [](const SceneDesc& s) {
        return "<SceneDesc '" + s.path + "' " + std::to_string(s.simulation.dim) + "D, " +
               std::to_string(s.materials.size()) + " materials, " + std::to_string(s.bodies.size()) + " bodies>";
      });

  m.def(
      "load_scene",
      [](const std::string& path, const std::vector<std::string>& overrides) {
        return scene::load_scene(path, overrides);
      },
      py::arg("path"), py::arg("overrides") = std::vector<std::string>{},
      "Reads, overrides ('key.path=value' strings) and validates a scene file.");
  m.def(
      "parse_scene",
      [](const std::string& text, const std::string& display_name, const std::string& base_dir,
         const std::vector<std::string>& overrides) {
        return scene::parse_scene(text, display_name, base_dir, overrides);
      },
      py::arg("text"), py::arg("display_name") = "<string>", py::arg("base_dir") = ".",
      py::arg("overrides") = std::vector<std::string>{}, "Parses and validates scene text held in memory.");
}

}  // namespace pl::py_bind
