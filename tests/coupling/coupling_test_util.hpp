// Shared helpers for the tool-coupling tests: tool states of every shape and
// a rotation from a few angles.
#pragma once

#include <cmath>

#include "kernels/coupling/tool_state.hpp"

namespace pl::test {

template <int D>
Mat<double, D> test_rotation(double a, double b, double c);

template <>
inline Mat<double, 2> test_rotation<2>(double a, double, double) {
  Mat<double, 2> r;
  r(0, 0) = std::cos(a), r(0, 1) = -std::sin(a);
  r(1, 0) = std::sin(a), r(1, 1) = std::cos(a);
  return r;
}

template <>
inline Mat<double, 3> test_rotation<3>(double a, double b, double c) {
  auto rx = Mat<double, 3>::identity(), ry = rx, rz = rx;
  rx(1, 1) = std::cos(a), rx(1, 2) = -std::sin(a), rx(2, 1) = std::sin(a), rx(2, 2) = std::cos(a);
  ry(0, 0) = std::cos(b), ry(0, 2) = std::sin(b), ry(2, 0) = -std::sin(b), ry(2, 2) = std::cos(b);
  rz(0, 0) = std::cos(c), rz(0, 1) = -std::sin(c), rz(1, 0) = std::sin(c), rz(1, 1) = std::cos(c);
  return rz * ry * rx;
}

/// A tool of the given shape with sizes around 0.2 m.
template <int D>
ToolGeometry<double, D> test_geometry(ToolShape shape) {
  ToolGeometry<double, D> g{};
  g.shape = shape;
  for (int a = 0; a < D; ++a) g.half[a] = 0.15 + 0.05 * a;
  g.radius = shape == ToolShape::RoundedBox ? 0.05 : 0.12;
  g.half_height = 0.2;
  return g;
}

}  // namespace pl::test
