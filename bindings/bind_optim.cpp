// engine/optim in Python: the `pliant optimize` loop (optimize_scene) with a
// Python callback per iteration.  The loop runs without the GIL; each callback
// takes it back.  An exception raised by a callback stops the run and reaches
// the caller unchanged (state.json lets `resume=True` continue later).
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings/bind_parts.hpp"
#include "bindings/population_hook.hpp"  // issue 10
#include "engine/core/error.hpp"
#include "engine/optim/optimize_run.hpp"

namespace py = pybind11;

namespace pl::py_bind {

namespace {

py::dict record_dict(const optim::IterationRecord& r) {
  py::dict d;
  d["iteration"] = r.iteration;
  d["phase"] = r.phase;
  d["loss"] = r.loss;
  d["best_loss"] = r.best_loss;
  d["grad_norm"] = r.grad_norm;
  d["sigma"] = r.sigma;
  d["evaluations"] = r.evaluations;
  d["failed"] = r.failed;
  d["u"] = r.u;
  d["metrics"] = r.metrics;
  return d;
}

}  // namespace

void define_optim(py::module_& m) {
  m.def(
      "optimize_scene",
      [](const scene::SceneDesc& scene, const std::string& out_dir, bool resume, int threads,
         const std::vector<std::string>& sets, bool previews, py::object on_iteration, py::object on_message,
         py::object population) {
        if (!scene.optimization.present())
          throw InputError(scene.path + ": the scene has no controls, objective and optimizer sections; see "
                                        "docs/scene_format.md (Optimization) and scenes/*opt*.yaml");
        optim::OptimizeOptions opt;
        opt.out_dir = out_dir;
        opt.resume = resume;
        opt.threads = threads;
        opt.sets = sets;
        opt.previews = previews;
        opt.evaluate_population = population_from_python(population);  // issue 10: executors
        if (!on_iteration.is_none())
          opt.on_iteration = [on_iteration](const optim::IterationRecord& r, double seconds) {
            py::gil_scoped_acquire gil;
            on_iteration(record_dict(r), seconds);
          };
        if (!on_message.is_none())
          opt.on_message = [on_message](const std::string& text) {
            py::gil_scoped_acquire gil;
            on_message(text);
          };
        optim::OptimizeResult r;
        {
          py::gil_scoped_release release;
          r = optim::optimize_scene(scene, opt);
        }
        py::dict d;
        d["out_dir"] = r.out_dir;
        d["iterations"] = r.iterations;
        d["resumed_from"] = r.resumed_from;
        d["initial_loss"] = r.initial_loss;
        d["best_loss"] = r.best_loss;
        d["best_controls"] = r.best_controls;
        d["best_metrics"] = r.best_metrics;
        d["stop_reason"] = r.stop_reason;
        d["wall_time_s"] = r.wall_time_s;
        return d;
      },
      py::arg("scene"), py::arg("out_dir"), py::arg("resume"), py::arg("threads"), py::arg("sets"),
      py::arg("previews"), py::arg("on_iteration"), py::arg("on_message"), py::arg("population") = py::none(),
      "Runs the scene's optimizer (engine/optim/optimize_run.hpp); see pliant.optimize.");
}

}  // namespace pl::py_bind
