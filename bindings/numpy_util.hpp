// NumPy helpers shared by the bindings: zero-copy views of engine vectors and
// checked conversions of user arrays.  Vec<Real, D> and Mat<Real, D> are plain
// arrays of Real (kernels/math), so a std::vector of them is a C-contiguous
// (n, D) or (n, D, D) block.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/math/mat.hpp"

namespace pl::py_bind {

namespace py = pybind11;

/// Elements per entry and the trailing shape of an engine element type.
template <class T, class Real>
struct ElementShape;
template <class Real>
struct ElementShape<Real, Real> {
  static std::vector<py::ssize_t> tail() { return {}; }
};
template <class Real>
struct ElementShape<int, Real> {
  static std::vector<py::ssize_t> tail() { return {}; }
};
template <class Real, int D>
struct ElementShape<Vec<Real, D>, Real> {
  static_assert(sizeof(Vec<Real, D>) == D * sizeof(Real), "Vec must be a plain array");
  static std::vector<py::ssize_t> tail() { return {D}; }
};
template <class Real, int D>
struct ElementShape<Mat<Real, D>, Real> {
  static_assert(sizeof(Mat<Real, D>) == D * D * sizeof(Real), "Mat must be a plain array");
  static std::vector<py::ssize_t> tail() { return {D, D}; }
};

inline std::vector<py::ssize_t> c_strides(const std::vector<py::ssize_t>& shape, py::ssize_t item) {
  std::vector<py::ssize_t> s(shape.size());
  py::ssize_t stride = item;
  for (std::size_t i = shape.size(); i-- > 0;) {
    s[i] = stride;
    stride *= shape[i];
  }
  return s;
}

/// A NumPy array over `data` (not a copy) whose lifetime holds `owner`.
template <class Real, class T>
py::array view_of(std::vector<T>& data, py::handle owner, bool writeable) {
  std::vector<py::ssize_t> shape{py::ssize_t(data.size())};
  for (auto t : ElementShape<T, Real>::tail()) shape.push_back(t);
  using Scalar = std::conditional_t<std::is_same_v<T, int>, int, Real>;
  py::array a(py::dtype::of<Scalar>(), shape, c_strides(shape, sizeof(Scalar)),
              reinterpret_cast<Scalar*>(data.data()), owner);
  if (!writeable) a.attr("flags").attr("writeable") = false;
  return a;
}

/// A new NumPy array holding a copy of `data`.
template <class Real, class T>
py::array copy_of(const std::vector<T>& data) {
  std::vector<py::ssize_t> shape{py::ssize_t(data.size())};
  for (auto t : ElementShape<T, Real>::tail()) shape.push_back(t);
  py::array_t<Real> a(shape);
  if (!data.empty()) std::memcpy(a.mutable_data(), data.data(), data.size() * sizeof(T));
  return std::move(a);
}

/// Converts `obj` into a C-contiguous Real array of exactly `shape`, or raises
/// TypeError (not numeric) / ValueError (wrong shape, non-finite) naming `what`.
template <class Real>
py::array_t<Real, py::array::c_style> checked_array(py::handle obj, const std::vector<py::ssize_t>& shape,
                                                     const std::string& what) {
  py::array raw = py::array::ensure(obj);
  if (!raw) throw py::type_error(what + ": expected an array of numbers, got " + std::string(py::str(py::type::of(obj))));
  const char kind = raw.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error(what + ": expected an array of numbers, got dtype " + std::string(py::str(raw.dtype())));
  auto describe = [](const std::vector<py::ssize_t>& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
  };
  std::vector<py::ssize_t> got(raw.shape(), raw.shape() + raw.ndim());
  if (got != shape) throw py::value_error(what + ": expected shape " + describe(shape) + ", got " + describe(got));
  auto a = py::array_t<Real, py::array::c_style | py::array::forcecast>::ensure(raw);
  const Real* p = a.data();
  for (py::ssize_t i = 0; i < a.size(); ++i)
    if (!std::isfinite(double(p[i]))) throw py::value_error(what + ": entry " + std::to_string(i) + " is not finite");
  return a;
}

/// Copies a checked array into engine elements.
template <class Real, class T>
void copy_into(const py::array_t<Real, py::array::c_style>& a, std::vector<T>& out) {
  out.resize(std::size_t(a.size()) * sizeof(Real) / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), a.data(), out.size() * sizeof(T));
}

}  // namespace pl::py_bind
