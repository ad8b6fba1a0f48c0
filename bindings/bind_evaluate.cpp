// The evaluation function in Python (issue 10): what an executor runs on a
// worker for one candidate, and what the population hook of optimize_scene
// expects back.  Every call releases the GIL, so a thread pool of Python
// threads evaluates candidates in parallel (LocalExecutor).
//
//   _pliant.evaluate(desc, u, seed, gradient, threads) -> (loss, gradient, metrics, ok, reason)
//   _pliant.Problem(desc).evaluate(...)   same, the scene's target files read once
//   _pliant.scene_assets(desc) -> [{key_path, written, resolved, companion}, ...]
//
// `threads` is the OpenMP team of this one evaluation (set on the calling
// thread only); executors fix it (1) so that local and remote results are
// bit-identical.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <memory>

#include "bindings/bind_parts.hpp"
#include "bindings/population_hook.hpp"
#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/optim/evaluate.hpp"
#include "engine/optim/scene_assets.hpp"

namespace py = pybind11;

namespace pl::py_bind {

namespace {

py::tuple evaluation_tuple(const optim::Evaluation& e) {
  return py::make_tuple(e.loss, e.gradient, e.metrics, e.ok, e.error);
}

void check_threads(int threads) {
  if (threads < 1) throw InputError("evaluate(threads=" + std::to_string(threads) + "): expected an integer >= 1");
}

optim::Evaluation evaluate_unlocked(const optim::Problem& problem, const std::vector<double>& u, std::uint64_t seed,
                                    bool gradient, int threads) {
  check_threads(threads);
  if (int(u.size()) != problem.dimension())
    throw InputError(problem.scene().path + ": evaluate: u has " + std::to_string(u.size()) +
                     " values; the scene's controls have " + std::to_string(problem.dimension()));
  py::gil_scoped_release release;
  set_cpu_threads(threads);
  return problem.evaluate(u, seed, gradient);
}

std::unique_ptr<optim::Problem> make_problem(const scene::SceneDesc& desc) {
  if (!desc.optimization.present())
    throw InputError(desc.path + ": the scene has no controls, objective and optimizer sections; evaluate needs them "
                                 "(docs/scene_format.md, Optimization)");
  py::gil_scoped_release release;
  return std::make_unique<optim::Problem>(desc);
}

optim::Evaluation evaluation_from_python(const py::handle& item, std::size_t k) {
  const auto t = item.cast<py::tuple>();
  if (t.size() != 5)
    throw SimulationError("population evaluator: result " + std::to_string(k) +
                          " must be (loss, gradient, metrics, ok, reason), got " + std::to_string(t.size()) + " items");
  optim::Evaluation e;
  e.loss = t[0].cast<double>();
  e.gradient = t[1].is_none() ? std::vector<double>{} : t[1].cast<std::vector<double>>();
  e.metrics = t[2].is_none() ? std::map<std::string, double>{} : t[2].cast<std::map<std::string, double>>();
  e.ok = t[3].cast<bool>();
  e.error = t[4].is_none() ? std::string() : t[4].cast<std::string>();
  return e;
}

}  // namespace

optim::PopulationEvaluate population_from_python(const py::object& population) {
  if (population.is_none()) return {};
  if (!PyCallable_Check(population.ptr()))
    throw InputError("optimize_scene(population=...): expected a callable(points, seed, gradient)");
  return [population](const std::vector<std::vector<double>>& points, std::uint64_t seed, bool gradient) {
    py::gil_scoped_acquire gil;
    const py::object results = population(points, seed, gradient);
    std::vector<optim::Evaluation> out;
    std::size_t k = 0;
    for (const py::handle item : results) out.push_back(evaluation_from_python(item, k++));
    return out;
  };
}

void define_evaluate(py::module_& m) {
  py::class_<optim::Problem>(m, "Problem",
                             "The evaluation function of a scene (engine/optim/evaluate.hpp), target files read once.")
      .def(py::init(&make_problem), py::arg("scene"))
      .def_property_readonly("dimension", &optim::Problem::dimension)
      .def("initial_unit", [](const optim::Problem& p) { return p.layout().initial_unit(); },
           "The controls' init values as the optimizer's [0, 1] variables.")
      .def("to_physical", [](const optim::Problem& p, const std::vector<double>& u) { return p.layout().to_physical(u); })
      .def(
          "evaluate",
          [](const optim::Problem& p, const std::vector<double>& u, std::uint64_t seed, bool gradient, int threads) {
            return evaluation_tuple(evaluate_unlocked(p, u, seed, gradient, threads));
          },
          py::arg("u"), py::arg("seed") = 0, py::arg("gradient") = true, py::arg("threads") = 1,
          "(loss, gradient, metrics, ok, reason); the GIL is released while it runs.");

  m.def(
      "evaluate",
      [](const scene::SceneDesc& desc, const std::vector<double>& u, std::uint64_t seed, bool gradient, int threads) {
        check_threads(threads);
        const std::unique_ptr<optim::Problem> p = make_problem(desc);
        return evaluation_tuple(evaluate_unlocked(*p, u, seed, gradient, threads));
      },
      py::arg("scene"), py::arg("u"), py::arg("seed") = 0, py::arg("gradient") = true, py::arg("threads") = 1,
      "One evaluation of the scene's objective: (loss, gradient, metrics, ok, reason).");

  m.def(
      "scene_assets",
      [](const scene::SceneDesc& desc) {
        py::list out;
        for (const auto& a : optim::scene_assets(desc)) {
          py::dict d;
          d["key_path"] = a.key_path;
          d["written"] = a.written;
          d["resolved"] = a.resolved;
          d["companion"] = a.companion;
          out.append(d);
        }
        return out;
      },
      py::arg("scene"), "The files the scene reads (meshes, targets), each with the scene key that names it.");
  m.def(
      "scene_run_settings",
      [](const scene::SceneDesc& desc) {
        py::dict d;
        d["output_dir"] = desc.output.dir;
        d["seed"] = desc.optimization.optimizer.seed;
        d["has_optimization"] = desc.optimization.present();
        return d;
      },
      py::arg("scene"), "output.dir, optimizer.seed and whether the scene has optimization sections.");
}

}  // namespace pl::py_bind
