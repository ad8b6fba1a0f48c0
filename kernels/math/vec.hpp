// Small fixed-size vectors for kernels (host and device).
//
// Why not Eigen: Eigen's CUDA support is partial and its expression templates
// make device code slow to compile.  These types are deliberately plain
// aggregates: trivially copyable, no constructors beyond aggregate init, so they
// can live in thrust vectors and be memcpy'd between host and device.
#pragma once

#include <cmath>
#include <math.h>  // brings float overloads of sqrt/isfinite into the global namespace on host; CUDA provides them on device

#include "engine/core/config.hpp"

namespace pl {

template <class Real, int D>
struct Vec {
  Real v[D];

  PL_HD PL_INLINE Real& operator[](int i) { return v[i]; }
  PL_HD PL_INLINE const Real& operator[](int i) const { return v[i]; }

  PL_HD PL_INLINE static Vec zero() {
    Vec r;
    for (int i = 0; i < D; ++i) r.v[i] = Real(0);
    return r;
  }
  PL_HD PL_INLINE static Vec constant(Real c) {
    Vec r;
    for (int i = 0; i < D; ++i) r.v[i] = c;
    return r;
  }
  PL_HD PL_INLINE static Vec unit(int axis) {
    Vec r = zero();
    r.v[axis] = Real(1);
    return r;
  }
  template <class Other>
  PL_HD PL_INLINE Vec<Other, D> cast() const {
    Vec<Other, D> r;
    for (int i = 0; i < D; ++i) r.v[i] = Other(v[i]);
    return r;
  }

  PL_HD PL_INLINE Vec& operator+=(const Vec& o) {
    for (int i = 0; i < D; ++i) v[i] += o.v[i];
    return *this;
  }
  PL_HD PL_INLINE Vec& operator-=(const Vec& o) {
    for (int i = 0; i < D; ++i) v[i] -= o.v[i];
    return *this;
  }
  PL_HD PL_INLINE Vec& operator*=(Real s) {
    for (int i = 0; i < D; ++i) v[i] *= s;
    return *this;
  }
};

template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> operator+(Vec<Real, D> a, const Vec<Real, D>& b) {
  return a += b;
}
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> operator-(Vec<Real, D> a, const Vec<Real, D>& b) {
  return a -= b;
}
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> operator-(const Vec<Real, D>& a) {
  Vec<Real, D> r;
  for (int i = 0; i < D; ++i) r[i] = -a[i];
  return r;
}
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> operator*(Vec<Real, D> a, Real s) {
  return a *= s;
}
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> operator*(Real s, Vec<Real, D> a) {
  return a *= s;
}
template <class Real, int D>
PL_HD PL_INLINE Real dot(const Vec<Real, D>& a, const Vec<Real, D>& b) {
  Real s = Real(0);
  for (int i = 0; i < D; ++i) s += a[i] * b[i];
  return s;
}
template <class Real, int D>
PL_HD PL_INLINE Real squared_norm(const Vec<Real, D>& a) {
  return dot(a, a);
}
template <class Real, int D>
PL_HD PL_INLINE Real norm(const Vec<Real, D>& a) {
  return sqrt(dot(a, a));
}
template <class Real>
PL_HD PL_INLINE Vec<Real, 3> cross(const Vec<Real, 3>& a, const Vec<Real, 3>& b) {
  return {{a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]}};
}

template <class Real, int D>
PL_HD PL_INLINE bool all_finite(const Vec<Real, D>& a) {
  for (int i = 0; i < D; ++i)
    if (!isfinite(a[i])) return false;
  return true;
}

}  // namespace pl
