// The sparse symmetric solve behind Newton steps and implicit adjoints, behind
// one interface so the backend can change:
//   kDirectLdlt  Eigen's SimplicialLDLT (sparse LDL^T, AMD ordering): exact, the
//                CPU default; also fine for the indefinite exact Hessians of the
//                adjoint as long as no pivot vanishes (M/h^2 on every free DOF).
//   kConjugateGradient  Jacobi-preconditioned CG on the kernel layer
//                (cg_solver.hpp): the solve a CUDA build uses; needs an SPD matrix.
#pragma once

#include <string>
#include <vector>

#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>

#include "engine/fem/fem_settings.hpp"

namespace pl::fem {

template <class Real>
class SparseSymmetricSolver {
 public:
  using Matrix = Eigen::SparseMatrix<Real>;
  explicit SparseSymmetricSolver(const FemSettings& settings) : settings_(settings) {}
  /// Prepares A (symmetric; both triangles stored).  False if it failed.
  bool factor(const Matrix& A);
  /// x = A^-1 b.  False if the solve failed (CG: no convergence) or gave non-finite values.
  bool solve(const std::vector<Real>& b, std::vector<Real>& x);
  /// CG iterations of the last solve (0 for the direct solver).
  int last_iterations() const { return last_iterations_; }

 private:
  FemSettings settings_;
  Eigen::SimplicialLDLT<Matrix> ldlt_;
  Matrix A_;
  std::vector<Real> inv_diag_;
  int last_iterations_ = 0;
};

}  // namespace pl::fem
