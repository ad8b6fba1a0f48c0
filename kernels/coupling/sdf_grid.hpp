// A signed distance field sampled on a regular grid (mesh tools), read by
// multilinear interpolation.  The grid is built once on the host
// (engine/coupling/mesh_sdf.cpp) in the tool's local frame.
//
// Inside the grid box: phi(p) = sum over the 2^D cell corners of w_c phi_c,
// w_c = prod_a (f_a or 1 - f_a), f = fractional position in the cell; the
// gradient is the analytic derivative of that interpolant (piecewise
// polynomial, continuous value, gradient jumps across cell faces).
// Outside the box: phi = phi(nearest box point) + distance to it, with the
// gradient pointing away from the box.  The grid is built with a margin of
// several cells around the mesh, so contact never happens out there.
// The base cell uses floor, not truncation, so negative coordinates land in
// the right cell before clamping.
#pragma once

#include "kernels/coupling/dual.hpp"
#include "kernels/math/vec.hpp"

namespace pl {

template <class Real>
struct SdfGridView {
  const Real* values;  // res[0] * res[1] * res[2] samples, x fastest [m]
  int res[3];          // samples per axis (>= 2 on each used axis)
  Real origin[3];      // local position of sample (0, 0, 0) [m]
  Real spacing;        // [m]
};

template <class T, class Real, int D>
PL_HD PL_INLINE T sample_sdf_grid(const SdfGridView<Real>& g, const Vec<T, D>& p, Vec<T, D>& grad) {
  // Clamp p to the grid box; remember how far outside it was.
  Vec<T, D> u, outside;
  T out2 = T(0);
  for (int a = 0; a < D; ++a) {
    const T lo = T(g.origin[a]);
    const T hi = T(g.origin[a] + g.spacing * Real(g.res[a] - 1));
    const T pc = p[a] < lo ? lo : (p[a] > hi ? hi : p[a]);
    outside[a] = p[a] - pc;
    out2 += outside[a] * outside[a];
    u[a] = (pc - lo) / T(g.spacing);
  }
  int base[D];
  Vec<T, D> f;
  for (int a = 0; a < D; ++a) {
    int i = int(value_of(floor(u[a])));
    if (i < 0) i = 0;
    if (i > g.res[a] - 2) i = g.res[a] - 2;
    base[a] = i;
    f[a] = u[a] - T(Real(i));
  }
  T phi = T(0);
  Vec<T, D> dphi_du;
  for (int a = 0; a < D; ++a) dphi_du[a] = T(0);
  for (int corner = 0; corner < (1 << D); ++corner) {
    long index = 0, stride = 1;
    for (int a = 0; a < D; ++a) {
      index += long(base[a] + ((corner >> a) & 1)) * stride;
      stride *= g.res[a];
    }
    const T value = T(g.values[index]);
    T weight = T(1);
    for (int a = 0; a < D; ++a) weight *= ((corner >> a) & 1) ? f[a] : T(1) - f[a];
    phi += weight * value;
    for (int a = 0; a < D; ++a) {
      T partial = value;  // d weight / d f_a times value
      for (int b = 0; b < D; ++b)
        if (b != a) partial *= ((corner >> b) & 1) ? f[b] : T(1) - f[b];
      dphi_du[a] += ((corner >> a) & 1) ? partial : -partial;
    }
  }
  if (out2 > T(0)) {
    const T dist = sqrt(out2);
    for (int a = 0; a < D; ++a) grad[a] = outside[a] / dist;
    return phi + dist;
  }
  for (int a = 0; a < D; ++a) grad[a] = dphi_du[a] / T(g.spacing);
  return phi;
}

}  // namespace pl
