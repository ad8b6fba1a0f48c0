// The kernel-layer conjugate gradient (engine/fem/cg_solver.hpp) vs Eigen's
// direct solve on a tet-mesh stiffness matrix plus mass (SPD), and its
// breakdown report on an indefinite matrix.
#include <gtest/gtest.h>

#include <Eigen/SparseCholesky>
#include <cmath>

#include "engine/fem/cg_solver.hpp"
#include "engine/fem/fem_cpu_exec.hpp"
#include "engine/fem/tet_energy_term.hpp"

namespace pl::fem {
namespace {

Eigen::SparseMatrix<double> stiffness_plus_mass(double mass_shift) {
  const TetMesh mesh = make_box_mesh({0, 0, 0}, {0.3, 0.1, 0.1}, {6, 2, 2});
  TetEnergyTerm<double> term("box", mesh, 0, materials::make_material("m", "fixed_corotated", {{"E", 1e5}}, 1000, "t"));
  std::vector<double> x;
  for (const auto& p : mesh.vertices)
    for (double c : p) x.push_back(1.1 * c);
  std::vector<Eigen::Triplet<double>> t;
  term.add_hessian(x.data(), true, t);
  const int n = int(x.size());
  for (int i = 0; i < n; ++i) t.emplace_back(i, i, mass_shift);
  Eigen::SparseMatrix<double> A(n, n);
  A.setFromTriplets(t.begin(), t.end());
  A.makeCompressed();
  return A;
}

TEST(TetCg, MatchesDirectSolveOnAStiffnessMatrix) {
  const Eigen::SparseMatrix<double> A = stiffness_plus_mass(10.0);
  const std::size_t n = std::size_t(A.rows());
  std::vector<double> b(n), x(n), inv_diag(n);
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = std::sin(0.37 * double(i)) + 0.5;
    inv_diag[i] = 1 / A.coeff(Eigen::Index(i), Eigen::Index(i));
  }
  const CsrView<double> view{A.outerIndexPtr(), A.innerIndexPtr(), A.valuePtr()};
  const CgResult r = conjugate_gradient<FemCpuExec, double>(n, view, inv_diag.data(), b.data(), x.data(), 1e-12, 5000);
  ASSERT_TRUE(r.converged) << r.iterations << " iterations, residual " << r.relative_residual;
  EXPECT_GT(r.iterations, 1);
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> ldlt(A);
  const Eigen::VectorXd ref = ldlt.solve(Eigen::Map<Eigen::VectorXd>(b.data(), Eigen::Index(n)));
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(x[i], ref(Eigen::Index(i)), 1e-9 * ref.cwiseAbs().maxCoeff());
}

TEST(TetCg, ReportsBreakdownOnAnIndefiniteMatrix) {
  const Eigen::SparseMatrix<double> A = stiffness_plus_mass(-1e3);  // shifts some eigenvalues below 0
  const std::size_t n = std::size_t(A.rows());
  std::vector<double> b(n, 1.0), x(n), inv_diag(n, 1.0);
  const CsrView<double> view{A.outerIndexPtr(), A.innerIndexPtr(), A.valuePtr()};
  const CgResult r = conjugate_gradient<FemCpuExec, double>(n, view, inv_diag.data(), b.data(), x.data(), 1e-12, 200);
  EXPECT_FALSE(r.converged);
}

}  // namespace
}  // namespace pl::fem
