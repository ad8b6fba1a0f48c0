// Entry point of the compiled part of the `pliant` package.  The public API is
// the pure-Python layer in python/pliant/, which wraps these classes; names here
// are an implementation detail (see _pliant.pyi for their signatures).
#include "bindings/bind_parts.hpp"

PYBIND11_MODULE(_pliant, m) {
  m.doc() = "Compiled core of Pliant (differentiable MPM). Use the `pliant` package, not this module.";
  pl::py_bind::define_core(m);
  pl::py_bind::define_scene(m);
  pl::py_bind::define_mpm(m);
  pl::py_bind::define_diff(m);
  pl::py_bind::define_optim(m);
  pl::py_bind::define_evaluate(m);  // issue 10
}
