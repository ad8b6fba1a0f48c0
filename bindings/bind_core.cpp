// engine/core and materials/registry in Python: the two error types, backend
// queries, the CPU thread count and the material-model registry.
//
// pl::InputError becomes pliant.InputError (a ValueError: the caller passed
// something wrong) and pl::SimulationError becomes pliant.SimulationError (a
// RuntimeError: the input was fine but the run failed); both keep the C++
// message word for word, so a scene key or particle named there is named in
// Python too.
#include <pybind11/stl.h>

#include "bindings/bind_parts.hpp"
#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "materials/registry.hpp"

namespace py = pybind11;

namespace pl::py_bind {

namespace {

int model_id(const std::string& name) {
  const auto names = materials::model_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return int(i);
  std::string valid;
  for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
  throw InputError("unknown material model '" + name + "'; valid models: " + valid);
}

}  // namespace

void define_core(py::module_& m) {
  py::register_exception<InputError>(m, "InputError", PyExc_ValueError);
  py::register_exception<SimulationError>(m, "SimulationError", PyExc_RuntimeError);

  m.attr("__version__") = PLIANT_VERSION;
  m.def("cuda_compiled", &cuda_compiled, "True when this build contains the CUDA backend.");
  m.def("cuda_device_count", &cuda_device_count, "Usable CUDA devices (0 without a GPU or CUDA build).");
  m.def("cuda_unavailable_reason", &cuda_unavailable_reason, "Why CUDA cannot run here ('' when it can).");
  m.def("set_cpu_threads", &set_cpu_threads, py::arg("threads"),
        "Threads of the CPU backend (OpenMP); 0 or negative means all cores.");
  m.def("cpu_threads", &cpu_threads, "Threads the CPU backend uses.");
  m.def("model_names", &materials::model_names, "Registry names of the constitutive models.");
  m.def(
      "model_parameters",
      [](const std::string& name) {
        const auto info = materials::model_info(model_id(name));
        py::list out;
        for (int k = 0; k < info.num_params; ++k) {
          const auto& p = info.params[k];
          out.append(py::make_tuple(p.name, p.unit, p.default_value, p.meaning));
        }
        return out;
      },
      py::arg("model"), "(name, unit, default, meaning) of each parameter of `model`, in the engine's order.");
  m.attr("max_material_parameters") = materials::kMaxParams;
}

}  // namespace pl::py_bind
