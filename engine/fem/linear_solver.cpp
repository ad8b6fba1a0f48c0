#include "engine/fem/linear_solver.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/fem/cg_solver.hpp"
#include "engine/fem/fem_cpu_exec.hpp"

namespace pl::fem {

template <class Real>
bool SparseSymmetricSolver<Real>::factor(const Matrix& A) {
  if (settings_.linear_solver == FemLinearSolver::kDirectLdlt) {
    ldlt_.compute(A);
    return ldlt_.info() == Eigen::Success;
  }
  A_ = A;
  A_.makeCompressed();
  inv_diag_.assign(std::size_t(A_.rows()), Real(0));
  const Eigen::Matrix<Real, Eigen::Dynamic, 1> d = A_.diagonal();
  for (Eigen::Index i = 0; i < d.size(); ++i) {
    if (!(d(i) > Real(0))) return false;  // an SPD matrix has a positive diagonal
    inv_diag_[std::size_t(i)] = Real(1) / d(i);
  }
  return true;
}

template <class Real>
bool SparseSymmetricSolver<Real>::solve(const std::vector<Real>& b, std::vector<Real>& x) {
  last_iterations_ = 0;
  if (settings_.linear_solver == FemLinearSolver::kDirectLdlt) {
    Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, 1>> bm(b.data(), Eigen::Index(b.size()));
    Eigen::Matrix<Real, Eigen::Dynamic, 1> r = ldlt_.solve(bm);
    if (ldlt_.info() != Eigen::Success || !r.allFinite()) return false;
    x.assign(r.data(), r.data() + r.size());
    return true;
  }
  // Symmetric: the compressed-column arrays are the compressed-row arrays.
  const CsrView<Real> view{A_.outerIndexPtr(), A_.innerIndexPtr(), A_.valuePtr()};
  x.assign(b.size(), Real(0));
  // A relative residual below ~100 machine epsilons is not reachable (float runs).
  const double tol = std::max(settings_.cg_tolerance, 100.0 * double(std::numeric_limits<Real>::epsilon()));
  const CgResult res = conjugate_gradient<FemCpuExec, Real>(b.size(), view, inv_diag_.data(), b.data(), x.data(), tol,
                                                            settings_.cg_max_iterations);
  last_iterations_ = res.iterations;
  if (!res.converged) return false;
  for (Real v : x)
    if (!std::isfinite(double(v))) return false;
  return true;
}

template class SparseSymmetricSolver<float>;
template class SparseSymmetricSolver<double>;

}  // namespace pl::fem
