// Forward-mode dual numbers (value + one tangent) for kernels.
//
// Why: the adjoint of a tool collision needs the derivative of the SDF
// normal with respect to the query point (the SDF Hessian) applied to one
// vector.  Writing a Hessian by hand for every primitive (and for the
// trilinear mesh sampler) doubles the code and its bugs; evaluating the
// hand-written gradient once with x + eps d gives the Hessian-vector
// product H d exactly (to round-off), and the SDF functions only need to be
// templated on their scalar type.  The same trick differentiates the rotation
// exponential on the host (engine/coupling/tool.cpp).
//
// Comparisons and floor act on the value only: branches (which face of a box
// is closest, which grid cell holds the point) are piecewise constant, so the
// derivative inside a branch is exact and a one-sided one on its boundary.
#pragma once

#include <cmath>

#include "engine/core/config.hpp"

namespace pl {

// The Dual overloads below would hide the global math functions from
// unqualified calls inside namespace pl (vec.hpp's sqrt, for instance);
// bring the global ones in next to them.
using ::fabs;
using ::floor;
using ::sqrt;

template <class Real>
struct Dual {
  Real v;  // value
  Real d;  // tangent (directional derivative)

  Dual() = default;
  PL_HD PL_INLINE Dual(Real value) : v(value), d(Real(0)) {}  // NOLINT: constants promote implicitly
  PL_HD PL_INLINE Dual(Real value, Real tangent) : v(value), d(tangent) {}

  PL_HD PL_INLINE Dual& operator+=(const Dual& o) {
    v += o.v;
    d += o.d;
    return *this;
  }
  PL_HD PL_INLINE Dual& operator-=(const Dual& o) {
    v -= o.v;
    d -= o.d;
    return *this;
  }
  PL_HD PL_INLINE Dual& operator*=(const Dual& o) {
    d = d * o.v + v * o.d;
    v *= o.v;
    return *this;
  }
};

template <class Real>
PL_HD PL_INLINE Dual<Real> operator+(Dual<Real> a, const Dual<Real>& b) { return a += b; }
template <class Real>
PL_HD PL_INLINE Dual<Real> operator-(Dual<Real> a, const Dual<Real>& b) { return a -= b; }
template <class Real>
PL_HD PL_INLINE Dual<Real> operator-(const Dual<Real>& a) { return {-a.v, -a.d}; }
template <class Real>
PL_HD PL_INLINE Dual<Real> operator*(Dual<Real> a, const Dual<Real>& b) { return a *= b; }
template <class Real>
PL_HD PL_INLINE Dual<Real> operator/(const Dual<Real>& a, const Dual<Real>& b) {
  return {a.v / b.v, (a.d * b.v - a.v * b.d) / (b.v * b.v)};
}
template <class Real>
PL_HD PL_INLINE bool operator<(const Dual<Real>& a, const Dual<Real>& b) { return a.v < b.v; }
template <class Real>
PL_HD PL_INLINE bool operator>(const Dual<Real>& a, const Dual<Real>& b) { return a.v > b.v; }
template <class Real>
PL_HD PL_INLINE bool operator<=(const Dual<Real>& a, const Dual<Real>& b) { return a.v <= b.v; }
template <class Real>
PL_HD PL_INLINE bool operator>=(const Dual<Real>& a, const Dual<Real>& b) { return a.v >= b.v; }

template <class Real>
PL_HD PL_INLINE Dual<Real> sqrt(const Dual<Real>& a) {
  const Real s = sqrt(a.v);
  return {s, s > Real(0) ? a.d / (Real(2) * s) : Real(0)};
}
template <class Real>
PL_HD PL_INLINE Dual<Real> fabs(const Dual<Real>& a) { return a.v < Real(0) ? -a : a; }
template <class Real>
PL_HD PL_INLINE Dual<Real> floor(const Dual<Real>& a) { return {floor(a.v), Real(0)}; }

/// The value of a Real or a Dual (for indices and branch decisions).
template <class Real>
PL_HD PL_INLINE Real value_of(const Real& a) { return a; }
template <class Real>
PL_HD PL_INLINE Real value_of(const Dual<Real>& a) { return a.v; }

}  // namespace pl
