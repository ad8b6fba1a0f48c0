// The pieces of the `pliant._pliant` extension module, one per engine folder.
// module.cpp calls them in order; later capabilities (engine/fem, tools) add
// a define_<folder>() here and one call there.
#pragma once

#include <pybind11/pybind11.h>

namespace pl::py_bind {

void define_core(pybind11::module_& m);   // exceptions, backends, threads, material registry
void define_scene(pybind11::module_& m);  // SceneDesc: load / parse scene files
void define_mpm(pybind11::module_& m);    // MPM simulations with zero-copy state views
void define_diff(pybind11::module_& m);   // differentiable rollouts (record, backward)
void define_optim(pybind11::module_& m);  // the scene optimizer (`pliant optimize`) with a per-iteration callback
void define_evaluate(pybind11::module_& m);  // issue 10: the evaluation function, scene assets (for executors)

}  // namespace pl::py_bind
