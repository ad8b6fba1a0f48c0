// Small fixed-size square matrices for kernels (host and device).
//
// Row-major aggregate; m(i, j) is row i, column j.  Every operation is a loop
// over D so the same code serves 2D and 3D: no hand-unrolled 3x3 arithmetic
// (the compiler unrolls constant-trip loops itself).
#pragma once

#include "kernels/math/vec.hpp"

namespace pl {

template <class Real, int D>
struct Mat {
  Real a[D][D];

  PL_HD PL_INLINE Real& operator()(int i, int j) { return a[i][j]; }
  PL_HD PL_INLINE const Real& operator()(int i, int j) const { return a[i][j]; }

  PL_HD PL_INLINE static Mat zero() {
    Mat r;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) r.a[i][j] = Real(0);
    return r;
  }
  PL_HD PL_INLINE static Mat identity() { return diagonal(Real(1)); }
  PL_HD PL_INLINE static Mat diagonal(Real d) {
    Mat r = zero();
    for (int i = 0; i < D; ++i) r.a[i][i] = d;
    return r;
  }
  PL_HD PL_INLINE static Mat diagonal(const Vec<Real, D>& d) {
    Mat r = zero();
    for (int i = 0; i < D; ++i) r.a[i][i] = d[i];
    return r;
  }
  template <class Other>
  PL_HD PL_INLINE Mat<Other, D> cast() const {
    Mat<Other, D> r;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) r.a[i][j] = Other(a[i][j]);
    return r;
  }

  PL_HD PL_INLINE Mat& operator+=(const Mat& o) {
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) a[i][j] += o.a[i][j];
    return *this;
  }
  PL_HD PL_INLINE Mat& operator-=(const Mat& o) {
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) a[i][j] -= o.a[i][j];
    return *this;
  }
  PL_HD PL_INLINE Mat& operator*=(Real s) {
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) a[i][j] *= s;
    return *this;
  }
};

template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> operator+(Mat<Real, D> a, const Mat<Real, D>& b) {
  return a += b;
}
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> operator-(Mat<Real, D> a, const Mat<Real, D>& b) {
  return a -= b;
}
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> operator*(Mat<Real, D> a, Real s) {
  return a *= s;
}
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> operator*(Real s, Mat<Real, D> a) {
  return a *= s;
}
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> operator*(const Mat<Real, D>& x, const Mat<Real, D>& y) {
  Mat<Real, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      Real s = Real(0);
      for (int k = 0; k < D; ++k) s += x(i, k) * y(k, j);
      r(i, j) = s;
    }
  return r;
}
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> operator*(const Mat<Real, D>& m, const Vec<Real, D>& x) {
  Vec<Real, D> r;
  for (int i = 0; i < D; ++i) {
    Real s = Real(0);
    for (int k = 0; k < D; ++k) s += m(i, k) * x[k];
    r[i] = s;
  }
  return r;
}
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> transpose(const Mat<Real, D>& m) {
  Mat<Real, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = m(j, i);
  return r;
}
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> outer(const Vec<Real, D>& x, const Vec<Real, D>& y) {
  Mat<Real, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = x[i] * y[j];
  return r;
}
template <class Real, int D>
PL_HD PL_INLINE Real trace(const Mat<Real, D>& m) {
  Real s = Real(0);
  for (int i = 0; i < D; ++i) s += m(i, i);
  return s;
}
/// Frobenius inner product A:B = sum_ij A_ij B_ij.
template <class Real, int D>
PL_HD PL_INLINE Real ddot(const Mat<Real, D>& x, const Mat<Real, D>& y) {
  Real s = Real(0);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) s += x(i, j) * y(i, j);
  return s;
}
template <class Real, int D>
PL_HD PL_INLINE Real frobenius_norm(const Mat<Real, D>& m) {
  return sqrt(ddot(m, m));
}

template <class Real>
PL_HD PL_INLINE Real determinant(const Mat<Real, 2>& m) {
  return m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0);
}
template <class Real>
PL_HD PL_INLINE Real determinant(const Mat<Real, 3>& m) {
  return m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1)) -
         m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0)) +
         m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0));
}

/// Cofactor matrix: cof(F) = det(F) F^{-T}; defined (and smooth) even when F is
/// singular, which is why energies use it instead of the inverse.
template <class Real>
PL_HD PL_INLINE Mat<Real, 2> cofactor(const Mat<Real, 2>& m) {
  return {{{m(1, 1), -m(1, 0)}, {-m(0, 1), m(0, 0)}}};
}
template <class Real>
PL_HD PL_INLINE Mat<Real, 3> cofactor(const Mat<Real, 3>& m) {
  Mat<Real, 3> c;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const int i1 = (i + 1) % 3, i2 = (i + 2) % 3, j1 = (j + 1) % 3, j2 = (j + 2) % 3;
      c(i, j) = m(i1, j1) * m(i2, j2) - m(i1, j2) * m(i2, j1);
    }
  return c;
}
/// VJP of det: adj_F += adj_J cof(F)  (d det F / dF = cof F, Jacobi's formula).
template <class Real, int D>
PL_HD PL_INLINE void adj_determinant(const Mat<Real, D>& F, Real adj_J, Mat<Real, D>& adj_F) {
  adj_F += adj_J * cofactor(F);
}

/// VJP of cof: adj_F += d(cof(F) : A)/dF with A = adj_cof.  Each cofactor is a
/// D-1 minor, linear in each entry it contains: in 2D the map is linear and
/// the VJP is cof(A); in 3D cof_ij = F(i1,j1) F(i2,j2) - F(i1,j2) F(i2,j1)
/// (i1 = i+1, i2 = i+2 mod 3), differentiated entry by entry.
template <class Real>
PL_HD PL_INLINE void adj_cofactor(const Mat<Real, 2>& /*F*/, const Mat<Real, 2>& adj_cof, Mat<Real, 2>& adj_F) {
  adj_F += cofactor(adj_cof);
}
template <class Real>
PL_HD PL_INLINE void adj_cofactor(const Mat<Real, 3>& F, const Mat<Real, 3>& adj_cof, Mat<Real, 3>& adj_F) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const int i1 = (i + 1) % 3, i2 = (i + 2) % 3, j1 = (j + 1) % 3, j2 = (j + 2) % 3;
      const Real a = adj_cof(i, j);
      adj_F(i1, j1) += a * F(i2, j2);
      adj_F(i2, j2) += a * F(i1, j1);
      adj_F(i1, j2) -= a * F(i2, j1);
      adj_F(i2, j1) -= a * F(i1, j2);
    }
}

/// Inverse via the cofactor; caller guarantees det != 0.
template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> inverse(const Mat<Real, D>& m) {
  return transpose(cofactor(m)) * (Real(1) / determinant(m));
}

template <class Real, int D>
PL_HD PL_INLINE bool all_finite(const Mat<Real, D>& m) {
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j)
      if (!isfinite(m(i, j))) return false;
  return true;
}

}  // namespace pl
