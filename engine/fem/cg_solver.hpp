// Jacobi-preconditioned conjugate gradients on the kernel layer (Hestenes &
// Stiefel 1952; the preconditioned form of Shewchuk, "An Introduction to the
// Conjugate Gradient Method Without the Agonizing Pain", 1994, Sec. B3).
//
// Every vector operation is a kernels/fem/tet_cg_kernels.hpp body launched with
// parallel_for<Exec>, and dot products are thrust::inner_product with the same
// policy, so the solve runs unchanged on the CUDA backend once its vectors live
// in device memory.  Deterministic for a fixed thread count.
//
// CG needs a symmetric positive-definite matrix: Newton's PSD-projected
// Hessians plus M/h^2 are; the exact Hessian of an adjoint solve usually is (M/h^2
// dominates) and a breakdown (p^T A p <= 0) is reported as a failed solve.
#pragma once

#include <cmath>
#include <vector>

#include <thrust/inner_product.h>

#include "engine/core/parallel.hpp"
#include "kernels/fem/tet_cg_kernels.hpp"

namespace pl::fem {

struct CgResult {
  bool converged = false;
  int iterations = 0;
  double relative_residual = 0;
};

/// Solves A x = b from x = 0.  `inv_diag` = 1 / diag(A).  Stops when
/// |r| <= tolerance |b| or after max_iterations.
template <class Exec, class Real>
CgResult conjugate_gradient(std::size_t n, const CsrView<Real>& A, const Real* inv_diag, const Real* b, Real* x,
                            double tolerance, int max_iterations) {
  auto dot = [&](const Real* u, const Real* v) {
    return double(thrust::inner_product(Exec::policy(), u, u + n, v, Real(0)));
  };
  std::vector<Real> r(b, b + n), z(n), p(n), q(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = Real(0);
  CgResult result;
  const double b_norm = std::sqrt(dot(b, b));
  if (b_norm == 0) {
    result.converged = true;
    return result;
  }
  parallel_for<Exec>(n, JacobiKernel<Real>{inv_diag, r.data(), z.data()});
  p = z;
  double rz = dot(r.data(), z.data());
  for (int it = 0; it < max_iterations; ++it) {
    parallel_for<Exec>(n, CsrMultiplyKernel<Real>{A, p.data(), q.data()});
    const double pq = dot(p.data(), q.data());
    if (!(pq > 0)) break;  // not positive definite (or NaN)
    const Real a = Real(rz / pq);
    parallel_for<Exec>(n, CgUpdateKernel<Real>{a, p.data(), q.data(), x, r.data()});
    result.iterations = it + 1;
    result.relative_residual = std::sqrt(dot(r.data(), r.data())) / b_norm;
    if (result.relative_residual <= tolerance) {
      result.converged = true;
      return result;
    }
    parallel_for<Exec>(n, JacobiKernel<Real>{inv_diag, r.data(), z.data()});
    const double rz_next = dot(r.data(), z.data());
    parallel_for<Exec>(n, CgDirectionKernel<Real>{Real(rz_next / rz), z.data(), p.data()});
    rz = rz_next;
  }
  return result;
}

}  // namespace pl::fem
