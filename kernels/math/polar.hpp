// Polar rotation R of F = R S for the rotation-variant convention of svd.hpp:
// R = U V^T of svd_rotation_variant(F), a proper rotation (det R = +1) even for
// an inverted F.  Host and device.
//
// Why not always R = U V^T of the SVD: the corotated stresses need R only, and
// the general SVD (one-sided Jacobi sweeps, sort, Givens QR, canonical signs)
// is a long chain of dependent square roots and divisions: ~840 ns per float
// 3x3 and ~50-150 ns per 2x2 call on one core here (microbenchmark on
// F = I + 0.3 noise), 36% of a 3D differentiable soft-robot profile
// (docs/peer_results.md).  The paths below take a few ns (2D) and ~80-170 ns
// (3D, ~3.8 Newton steps on average) for well-conditioned F and fall back to
// the SVD for the rest, so the result is the same function (up to rounding)
// everywhere.
//
// 2D, closed form.  For F = [[a, b], [c, d]] = U diag(s1, s2) V^T (U, V
// rotations, s1 >= |s2|), U V^T is the rotation that maximizes tr(R^T F)
// (with Q = V^T R^T U = rot(t): tr(R^T F) = (s1 + s2) cos t, maximal at t = 0
// when s1 + s2 > 0; the nearest-orthogonal-matrix property of the polar
// factor, Higham 1986, restricted to rotations).  For R = rot(theta):
//   tr(R^T F) = (a + d) cos(theta) + (c - b) sin(theta)
// so (cos, sin) = (a + d, c - b) / |(a + d, c - b)|, and |(a + d, c - b)| =
// s1 + s2 (> 0 in the fast domain below).
//
// 3D, Newton's iteration for the polar factor: N. J. Higham, "Computing the
// polar decomposition -- with applications", SIAM J. Sci. Stat. Comput. 7(4),
// 1986, eq. (3.1):  X_0 = F,  X_{k+1} = (X_k + X_k^{-T}) / 2,  with
// X^{-T} = cof(X) / det(X).  It converges quadratically to the orthogonal polar
// factor for any nonsingular F (each singular value follows s <- (s + 1/s)/2);
// for det F > 0 that factor is the proper rotation U V^T.  (Taichi's peer
// script uses the same iteration with a fixed 8 steps; McAdams et al. 2011 is
// the other common fast 3x3 route, an SVD by fixed approximate Jacobi sweeps.)
// F is first scaled by its largest |entry| (R does not depend on the scale;
// it keeps cof and det clear of float overflow/underflow).
// Stopping: the step |X_{k+1} - X_k|_F is the current error to first order,
// and the next error is about half its square, so once |step|^2 <= eps the
// iterate X_{k+1} is within ~eps of R.
// Fallback to the SVD (same result up to rounding, never a different branch
// of R): det(F / max|F_ij|) <= kPolarFastMinDet (inverted, singular or
// ill-conditioned F; also where R itself jumps, s_i + s_j = 0), non-finite F,
// or no Newton convergence within kPolarNewtonMaxSteps.  The same domain
// decides the adjoint (polar_adjoint.hpp): PolarFactors::fast.
#pragma once

#include "kernels/math/svd.hpp"

namespace pl {

/// polar_factors' result: R, and which path gave it.
template <class Real, int D>
struct PolarFactors {
  Mat<Real, D> R;  // polar_rotation(F)
  bool fast;       // true: closed form / Newton (F in the fast domain: det F > 0, well
                   // conditioned), whose VJP needs only R and S = R^T F
                   // (polar_adjoint.hpp); false: R = U V^T of the SVD the caller got back
};

namespace polar_detail {

/// The fast paths are used when det(F / max|F_ij|) exceeds this (else the
/// SVD): F not inverted, and s_min / s_max above ~1e-3 (Newton then needs at
/// most ~12 steps, and the VJP's (s_i + s_j) denominators stay clear of 0).
constexpr double kPolarFastMinDet = 1e-3;
/// Newton steps before giving up (s in [1e-2, 1e2] needs at most ~10).
constexpr int kPolarNewtonMaxSteps = 12;

template <class Real, int D>
PL_HD PL_INLINE Real max_abs_entry(const Mat<Real, D>& F) {
  Real scale = Real(0);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      const Real a = fabs(F(i, j));
      scale = a > scale ? a : scale;
    }
  return scale;
}

/// F / max|F_ij| when that scale is positive and finite and the scaled
/// determinant exceeds kPolarFastMinDet, i.e. when F is in the fast domain.
template <class Real, int D>
PL_HD PL_INLINE bool scaled_in_fast_domain(const Mat<Real, D>& F, Mat<Real, D>& X) {
  const Real scale = max_abs_entry(F);
  if (!(scale > Real(0) && scale <= Real(FLT_MAX))) return false;  // zero, NaN or Inf
  X = (Real(1) / scale) * F;
  return determinant(X) > Real(kPolarFastMinDet);
}

/// 2D closed form (header), for X in the fast domain (s1 + s2 > 0).
template <class Real>
PL_HD PL_INLINE Mat<Real, 2> polar_rotation_closed_form(const Mat<Real, 2>& X) {
  const Real c = X(0, 0) + X(1, 1), s = X(1, 0) - X(0, 1);
  const Real inv = Real(1) / sqrt(c * c + s * s);  // 1 / (s1 + s2)
  Mat<Real, 2> R;
  R(0, 0) = c * inv;
  R(0, 1) = -s * inv;
  R(1, 0) = s * inv;
  R(1, 1) = c * inv;
  return R;
}

/// 3D Newton iteration (header) from X in the fast domain.  False when it did
/// not converge within kPolarNewtonMaxSteps.
template <class Real>
PL_HD PL_INLINE bool polar_rotation_newton(Mat<Real, 3> X, Mat<Real, 3>& R) {
  for (int k = 0; k < kPolarNewtonMaxSteps; ++k) {
    const Mat<Real, 3> cof = cofactor(X);
    const Real det = X(0, 0) * cof(0, 0) + X(0, 1) * cof(0, 1) + X(0, 2) * cof(0, 2);
    const Real half_inv_det = Real(0.5) / det;
    Real step2 = Real(0);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        const Real next = Real(0.5) * X(i, j) + half_inv_det * cof(i, j);
        const Real d = next - X(i, j);
        step2 += d * d;
        X(i, j) = next;
      }
    if (step2 <= svd_detail::Eps<Real>::value) {
      R = X;
      return true;
    }
  }
  return false;
}

}  // namespace polar_detail

/// The polar rotation of F and how it was found.  When the fast path does not
/// apply, `svd` receives svd_rotation_variant(F) (for the adjoint) and R = U V^T;
/// otherwise `svd` is left untouched.
template <class Real, int D>
PL_HD PL_INLINE PolarFactors<Real, D> polar_factors(const Mat<Real, D>& F, Svd<Real, D>& svd) {
  PolarFactors<Real, D> f;
  Mat<Real, D> X;
  f.fast = polar_detail::scaled_in_fast_domain(F, X);
  if (f.fast) {
    if constexpr (D == 2)
      f.R = polar_detail::polar_rotation_closed_form(X);
    else
      f.fast = polar_detail::polar_rotation_newton(X, f.R);
  }
  if (!f.fast) {
    svd = svd_rotation_variant(F);
    f.R = svd.U * transpose(svd.V);
  }
  return f;
}

/// svd_rotation_variant(F), by the polar factor in 2D: where the closed-form R
/// applies (det F > 0, well conditioned), F = R S with S = R^T F symmetric
/// positive definite, S = V diag(sigma) V^T in closed form and U = R V.  For
/// S = [[p, q], [q, r]], with m = (p + r)/2, d = (p - r)/2, h = |(d, q)|:
///   sigma_0 = m + h,  sigma_1 = det F / sigma_0  (no cancellation), and the
///   eigenvector of sigma_0 is (d + h, q) when d >= 0, else (q, h - d) (the
///   better conditioned of the two rows of S - sigma_0 I), normalized;
///   V = [v, (-v_1, v_0)] (det V = +1); h = 0 (repeated values) gives V = I.
/// Same convention as svd.hpp (sorted, U, V rotations; all sigma > 0 here).
/// About 2x cheaper than the Jacobi SVD (microbenchmark) for the snow return
/// mapping, which needs the singular values.  3D, and 2D outside the fast domain: svd_rotation_variant.
template <class Real, int D>
PL_HD PL_INLINE Svd<Real, D> svd_rotation_variant_fast(const Mat<Real, D>& F) {
  Svd<Real, D> out;
  if constexpr (D == 2) {
    const PolarFactors<Real, 2> f = polar_factors(F, out);
    if (!f.fast) return out;  // polar_factors computed the general SVD
    const Mat<Real, 2> S = transpose(f.R) * F;
    const Real m = Real(0.5) * (S(0, 0) + S(1, 1)), d = Real(0.5) * (S(0, 0) - S(1, 1));
    const Real q = Real(0.5) * (S(0, 1) + S(1, 0));
    const Real h = sqrt(d * d + q * q);
    out.sigma[0] = m + h;
    out.sigma[1] = determinant(F) / out.sigma[0];
    Real v0 = Real(1), v1 = Real(0);
    if (h > Real(0)) {
      v0 = d >= Real(0) ? d + h : q;
      v1 = d >= Real(0) ? q : h - d;
      const Real inv = Real(1) / sqrt(v0 * v0 + v1 * v1);
      v0 *= inv;
      v1 *= inv;
    }
    out.V(0, 0) = v0;
    out.V(1, 0) = v1;
    out.V(0, 1) = -v1;
    out.V(1, 1) = v0;
    out.U = f.R * out.V;
    return out;
  } else {
    return svd_rotation_variant(F);
  }
}

template <class Real, int D>
PL_HD PL_INLINE Mat<Real, D> polar_rotation(const Mat<Real, D>& F) {
  Svd<Real, D> unused;
  return polar_factors(F, unused).R;
}

}  // namespace pl
