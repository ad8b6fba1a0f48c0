// Vector and sparse-matrix bodies of the conjugate-gradient solve
// (engine/fem/cg_solver.hpp), launched with pl::parallel_for so the same code
// serves the CPU (OpenMP) and CUDA backends.  They belong to the FEM solve of
// any element family; the tet_ prefix is the file's owner, not its scope.
#pragma once

#include <cstddef>

#include "engine/core/config.hpp"

namespace pl::fem {

/// A square sparse matrix in compressed-row form (a symmetric matrix's
/// compressed-column arrays read the same).
template <class Real>
struct CsrView {
  const int* row_begin;  // rows + 1 entries
  const int* column;
  const Real* value;
};

/// y = A x, one row per index.
template <class Real>
struct CsrMultiplyKernel {
  CsrView<Real> A;
  const Real* x;
  Real* y;
  PL_HD void operator()(std::size_t r) const {
    Real s = Real(0);
    for (int k = A.row_begin[r]; k < A.row_begin[r + 1]; ++k) s += A.value[k] * x[A.column[k]];
    y[r] = s;
  }
};

/// z = D^-1 r (Jacobi preconditioner; inv_diag = 1 / diag(A)).
template <class Real>
struct JacobiKernel {
  const Real* inv_diag;
  const Real* r;
  Real* z;
  PL_HD void operator()(std::size_t i) const { z[i] = inv_diag[i] * r[i]; }
};

/// x += a p; r -= a q  (the CG update of solution and residual in one pass).
template <class Real>
struct CgUpdateKernel {
  Real a;
  const Real* p;
  const Real* q;
  Real* x;
  Real* r;
  PL_HD void operator()(std::size_t i) const {
    x[i] += a * p[i];
    r[i] -= a * q[i];
  }
};

/// p = z + b p.
template <class Real>
struct CgDirectionKernel {
  Real b;
  const Real* z;
  Real* p;
  PL_HD void operator()(std::size_t i) const { p[i] = z[i] + b * p[i]; }
};

}  // namespace pl::fem
