// Implicit Euler and static solves: Newton on the incremental potential
// (fem_objective.hpp) with PSD-projected Hessians, backtracking line search and
// the sparse symmetric solve (linear_solver.hpp), over the free DOFs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/fem/fem_objective.hpp"
#include "engine/fem/linear_solver.hpp"

namespace pl::fem {

template <class Real>
int FemWorld<Real>::newton(Objective& objective, std::vector<Real>& y, const char* what) {
  const Real eps = std::numeric_limits<Real>::epsilon();
  const Real tol = std::max(Real(settings_.newton_tolerance), Real(100) * eps) * length_scale();
  const std::size_t ndof = y.size();
  std::vector<Real> grad, grad_trial, d_free, d(ndof, Real(0)), trial(ndof);
  std::vector<Real> rhs(static_cast<std::size_t>(num_free_));
  std::vector<Eigen::Triplet<Real>> all, free;
  SparseSymmetricSolver<Real> solver(settings_);
  auto fail = [&](const std::string& why) {
    std::ostringstream os;
    os << "fem " << what << " at step " << step_ << ": " << why;
    throw SimulationError(os.str());
  };
  if (num_free_ == 0) return 0;
  for (int it = 0; it < settings_.newton_max_iterations; ++it) {
    objective.gradient(y, grad);
    all.clear();
    objective.hessian(y, true, all);
    free.clear();
    free.reserve(all.size());
    for (const auto& t : all) {
      const int r = free_index_[std::size_t(t.row())], c = free_index_[std::size_t(t.col())];
      if (r >= 0 && c >= 0) free.emplace_back(r, c, t.value());
    }
    Eigen::SparseMatrix<Real> H(num_free_, num_free_);
    H.setFromTriplets(free.begin(), free.end());
    for (std::size_t i = 0; i < ndof; ++i)
      if (free_index_[i] >= 0) rhs[std::size_t(free_index_[i])] = -grad[i];
    if (!solver.factor(H) || !solver.solve(rhs, d_free))
      fail("the Newton system could not be solved (a free part of the mesh with no mass and no support?)");
    Real slope = Real(0), dmax = Real(0);
    for (std::size_t i = 0; i < ndof; ++i) {
      d[i] = free_index_[i] >= 0 ? d_free[std::size_t(free_index_[i])] : Real(0);
      slope += grad[i] * d[i];
      dmax = std::max(dmax, std::abs(d[i]));
    }
    if (dmax <= tol) {
      for (std::size_t i = 0; i < ndof; ++i) y[i] += d[i];
      return it + 1;
    }
    const Real phi0 = objective.value(y);
    Real step = Real(1);
    bool accepted = false;
    for (int k = 0; k < settings_.line_search_max_halvings; ++k, step *= Real(0.5)) {
      for (std::size_t i = 0; i < ndof; ++i) trial[i] = y[i] + step * d[i];
      const Real phi = objective.value(trial);
      if (std::isfinite(double(phi)) && phi <= phi0 + Real(1e-4) * step * slope) {
        accepted = true;
        break;
      }
      if (k == 0) {
        // Near convergence Phi cannot resolve the decrease (round-off, float):
        // accept the full step if it reduces the gradient.
        objective.gradient(trial, grad_trial);
        Real g0 = 0, g1 = 0;
        for (std::size_t i = 0; i < ndof; ++i)
          if (free_index_[i] >= 0) {
            g0 = std::max(g0, std::abs(grad[i]));
            g1 = std::max(g1, std::abs(grad_trial[i]));
          }
        if (std::isfinite(double(phi)) && std::abs(phi - phi0) <= Real(1e3) * eps * std::abs(phi0) && g1 < g0) {
          accepted = true;
          break;
        }
      }
    }
    if (!accepted) fail("the line search found no decrease of the incremental potential (non-finite forces?)");
    y = trial;
    if (step * dmax <= tol) return it + 1;
  }
  std::ostringstream os;
  os << "Newton did not converge in " << settings_.newton_max_iterations
     << " iterations (raise newton_max_iterations or newton_tolerance, or lower dt)";
  fail(os.str());
  return -1;
}

template <class Real>
void FemWorld<Real>::implicit_step() {
  Objective objective(*this, true);
  std::vector<Real> y = objective.x_hat;
  constrained_targets(step_, y);
  last_newton_iterations_ = newton(objective, y, "implicit step");
  for (std::size_t k = 0; k < tools_.size(); ++k)  // issue 6 (fem_tool): the tools' reactions at x_{n+1}
    tools_[k]->record_reaction(objective.tool_steps[k], objective.x_n, mass_, y);
  const Real h = Real(settings_.dt);
  for (std::size_t i = 0; i < y.size(); ++i) {
    v_[i] = (y[i] - x_[i]) / h;
    x_[i] = y[i];
  }
}

template <class Real>
int FemWorld<Real>::solve_static() {
  Objective objective(*this, false);
  std::vector<Real> y = x_;
  constrained_targets(step_, y);
  const int iterations = newton(objective, y, "static solve");
  x_ = y;
  std::fill(v_.begin(), v_.end(), Real(0));
  return iterations;
}

#define PL_FEM_IMPLICIT(Real)                                                                   \
  template int FemWorld<Real>::newton(Objective&, std::vector<Real>&, const char*);             \
  template void FemWorld<Real>::implicit_step();                                                \
  template int FemWorld<Real>::solve_static();
PL_FEM_IMPLICIT(float)
PL_FEM_IMPLICIT(double)

}  // namespace pl::fem
