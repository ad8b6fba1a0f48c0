// A Python callable as the optimizer's population evaluator (issue 10):
// population(points, seed, gradient) -> [(loss, gradient, metrics, ok, reason), ...]
// called with the GIL held (the loop itself runs without it).  Used by
// bind_optim.cpp's optimize_scene(population=...); defined in bind_evaluate.cpp.
#pragma once

#include <pybind11/pybind11.h>

#include "engine/optim/population_evaluate.hpp"

namespace pl::py_bind {

/// None gives an empty function (the internal thread pool is used).
optim::PopulationEvaluate population_from_python(const pybind11::object& population);

}  // namespace pl::py_bind
