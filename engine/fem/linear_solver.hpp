// The sparse symmetric solve behind Newton steps and implicit adjoints.
//
// One interface so the backend can change: on the CPU it is Eigen's
// SimplicialLDLT (sparse LDL^T with AMD ordering; works for the indefinite
// exact Hessians of the adjoint solve as long as no pivot vanishes, which a
// mass term M/h^2 on every free DOF prevents).  A CUDA build would put a CG on
// the kernel layer behind the same two calls.
#pragma once

#include <string>
#include <vector>

#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>

namespace pl::fem {

template <class Real>
class SparseSymmetricSolver {
 public:
  using Matrix = Eigen::SparseMatrix<Real>;
  /// Factors A (symmetric; both triangles stored).  False if the factorization failed.
  bool factor(const Matrix& A) {
    ldlt_.compute(A);
    return ldlt_.info() == Eigen::Success;
  }
  /// x = A^-1 b.  False if the solve failed or produced non-finite values.
  bool solve(const std::vector<Real>& b, std::vector<Real>& x) const {
    Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, 1>> bm(b.data(), Eigen::Index(b.size()));
    Eigen::Matrix<Real, Eigen::Dynamic, 1> r = ldlt_.solve(bm);
    if (ldlt_.info() != Eigen::Success || !r.allFinite()) return false;
    x.assign(r.data(), r.data() + r.size());
    return true;
  }

 private:
  Eigen::SimplicialLDLT<Matrix> ldlt_;
};

}  // namespace pl::fem
