// The adjoint of one FemWorld step (formulas in the comments of each part).
//
// Implicit Euler: x_{n+1} solves g(x; p) = grad Phi(x; p) = 0 on the free DOFs
// (p = x_n, v_n, parameters, constrained targets).  By the implicit function
// theorem (DiffPD, Du et al. 2021, Sec. 4; DiffCloth, Li et al. 2022, Sec. 4.2),
//   H w = dL/dx_{n+1}   (H = d^2 Phi/dx^2 at x_{n+1}, EXACT: no PSD projection,
//                        free rows and columns only)
//   dL/dp += -(dg/dp)^T w
// and a constrained DOF c (target t_c) couples through H: dL/dt_c = dL/dx_c - (H w)_c.
// v_{n+1} = (x_{n+1} - x_n)/h adds dL/dv_{n+1}/h to dL/dx_{n+1} and -dL/dv_{n+1}/h to dL/dx_n.
// The per-term contributions dg/dp come from fem_objective.hpp's Phi:
//   x_hat = x_n + h v_n:   dg/dx_n = -M/h^2 - alpha M/h - beta K0/h + d(grad D)/dx_n,  dg/dv_n = -M/h
//   theta (term params):   dg/dtheta = d(grad E)/dtheta + beta/h d(K0 (x - x_n))/dtheta
//   alpha, beta, mu, m_v:  the factor of each in g (g is linear in each of them).
//   friction: grad D = mu lambda(x_n) a(|u_T|) u_T, u = x - x_n, so
//     d(grad D)/dx_n = -D''(u) + mu a u_T (d lambda/dx_n)^T.
//
// Symplectic Euler: v_{n+1} = v_n + h M^-1 f(x_n, v_n), x_{n+1} = x_n + h v_{n+1}:
//   vbar = dL/dv_{n+1} + h dL/dx_{n+1},  a = h M^-1 vbar  (free vertices),
//   dL/dx_n = dL/dx_{n+1} + (df/dx_n)^T a,  dL/dv_n = vbar + (df/dv_n)^T a,
// with (df/dx_n)^T a = -K(x_n) a - (contact Hessian) a - friction's lambda term
// (Hessian-vector products: EnergyTerm::add_hessian_vector), and
// (df/dv_n)^T a = -alpha M a - beta K0 a - h D''(h v_T) a.
//
// Internal term states s (plastic hinges): s_{n+1} = update(s_n, x_{n+1})
// after the step, E depends on s_n; adj_end_step then add_gradient_state_vjp.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/fem/fem_objective.hpp"
#include "engine/fem/linear_solver.hpp"

namespace pl::fem {

template <class Real>
typename FemWorld<Real>::StateAdjoint FemWorld<Real>::zero_state_adjoint() const {
  StateAdjoint a;
  a.x.assign(x_.size(), Real(0));
  a.v.assign(x_.size(), Real(0));
  a.term_state.resize(terms_.size());
  for (std::size_t k = 0; k < terms_.size(); ++k) a.term_state[k].assign(terms_[k]->internal_state().size(), Real(0));
  return a;
}

template <class Real>
FemParameterGradients<Real> FemWorld<Real>::zero_gradients() const {
  FemParameterGradients<Real> g;
  for (const auto& t : terms_) g.term_parameters.emplace_back(t->parameters().size(), Real(0));
  g.mass.assign(mass_.size(), Real(0));
  g.density.assign(bodies_.size(), Real(0));
  g.prescribed.assign(trajectory_.size(), std::vector<Real>(3 * prescribed_.size(), Real(0)));
  return g;
}

template <class Real>
void FemWorld<Real>::finish_density_gradients(FemParameterGradients<Real>& grads) const {
  grads.density.assign(bodies_.size(), Real(0));
  for (std::size_t b = 0; b < bodies_.size(); ++b)
    for (int i = 0; i < bodies_[b].num_vertices; ++i)
      grads.density[b] += grads.mass[std::size_t(bodies_[b].first_vertex + i)] * Real(bodies_[b].unit_mass[std::size_t(i)]);
}

template <class Real>
void FemWorld<Real>::adjoint_step(StateAdjoint& adj, FemParameterGradients<Real>& grads) {
  const std::vector<Real> x_n = x_, v_n = v_;
  std::vector<std::vector<Real>> s_n;
  for (const auto& t : terms_) s_n.push_back(t->internal_state());
  const int n = step_;
  auto restore = [&] {
    x_ = x_n;
    v_ = v_n;
    for (std::size_t k = 0; k < terms_.size(); ++k) terms_[k]->set_internal_state(s_n[k]);
    step_ = n;
  };
  try {
    if (settings_.integrator == FemIntegrator::kImplicitEuler)
      adjoint_implicit(adj, grads);
    else
      adjoint_explicit(adj, grads);
  } catch (...) {
    restore();
    throw;
  }
  restore();
}

// Accumulates the parts shared by both integrators: given the step's end
// positions x_end (state s_n still current in the terms), pulls adj.term_state
// (dL/ds_{n+1}) back through end_step into adj.x and a fresh dL/ds_n.
template <class Real>
static std::vector<std::vector<Real>> adjoint_end_step(const std::vector<std::shared_ptr<EnergyTerm<Real>>>& terms,
                                                       const std::vector<Real>& x_end,
                                                       typename FemWorld<Real>::StateAdjoint& adj,
                                                       FemParameterGradients<Real>& grads) {
  std::vector<std::vector<Real>> adj_s_n(terms.size());
  for (std::size_t k = 0; k < terms.size(); ++k) {
    const std::vector<Real> s = terms[k]->internal_state();
    adj_s_n[k].assign(s.size(), Real(0));
    if (s.empty()) continue;
    terms[k]->adj_end_step(x_end.data(), s, adj.term_state[k].data(), adj.x.data(), adj_s_n[k].data());
    // The update may depend on parameters too (plastic hinges: the yield angle).
    terms[k]->adj_end_step_parameters(x_end.data(), s, adj.term_state[k].data(), grads.term_parameters[k].data());
  }
  return adj_s_n;
}

template <class Real>
void FemWorld<Real>::adjoint_implicit(StateAdjoint& adj, FemParameterGradients<Real>& grads) {
  using V3 = Vec<Real, 3>;
  const Real h = Real(settings_.dt);
  const std::size_t nv = mass_.size(), ndof = 3 * nv;
  // Recompute x_{n+1}.
  Objective obj(*this, true);
  std::vector<Real> y = obj.x_hat;
  constrained_targets(step_, y);
  newton(obj, y, "implicit step (recomputed for the adjoint)");

  std::vector<std::vector<Real>> adj_s_n = adjoint_end_step(terms_, y, adj, grads);
  std::vector<Real> xt(ndof), new_x(ndof), new_v(ndof, Real(0));
  for (std::size_t i = 0; i < ndof; ++i) {
    xt[i] = adj.x[i] + adj.v[i] / h;
    new_x[i] = -adj.v[i] / h;
  }
  // Exact Hessian; free block solve.
  std::vector<Eigen::Triplet<Real>> all, free;
  obj.hessian(y, false, all);
  const Eigen::Index dim = static_cast<Eigen::Index>(ndof);
  Eigen::SparseMatrix<Real> H(dim, dim);
  H.setFromTriplets(all.begin(), all.end());
  for (const auto& t : all) {
    const int r = free_index_[std::size_t(t.row())], c = free_index_[std::size_t(t.col())];
    if (r >= 0 && c >= 0) free.emplace_back(r, c, t.value());
  }
  std::vector<Real> w(ndof, Real(0));
  if (num_free_ > 0) {
    Eigen::SparseMatrix<Real> Hff(num_free_, num_free_);
    Hff.setFromTriplets(free.begin(), free.end());
    std::vector<Real> rhs(static_cast<std::size_t>(num_free_)), wf;
    for (std::size_t i = 0; i < ndof; ++i)
      if (free_index_[i] >= 0) rhs[std::size_t(free_index_[i])] = xt[i];
    SparseSymmetricSolver<Real> solver(settings_);
    if (!solver.factor(Hff) || !solver.solve(rhs, wf)) {
      std::ostringstream os;
      os << "fem adjoint of implicit step " << step_
         << ": the exact Hessian at the converged state could not be solved (singular or not finite)";
      throw SimulationError(os.str());
    }
    for (std::size_t i = 0; i < ndof; ++i)
      if (free_index_[i] >= 0) w[i] = wf[std::size_t(free_index_[i])];
  }
  // Constrained targets: dL/dt_c = xt_c - (H w)_c.
  if (!prescribed_.empty()) {
    Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, 1>> wm(w.data(), Eigen::Index(ndof));
    const Eigen::Matrix<Real, Eigen::Dynamic, 1> Hw = H * wm;
    auto& g = grads.prescribed[std::size_t(trajectory_index(step_))];
    for (std::size_t k = 0; k < prescribed_.size(); ++k)
      for (int d = 0; d < 3; ++d) {
        const std::size_t i = std::size_t(3 * prescribed_[k] + d);
        g[3 * k + std::size_t(d)] += xt[i] - Hw(Eigen::Index(i));
      }
  }
  // Inertia, mass damping, gravity, contact, friction: per vertex.
  const V3 grav = obj.gravity();
  const Real alpha = obj.alpha, beta = obj.beta;
  Real adj_alpha = 0, adj_beta = 0, adj_mu = 0;
  for (std::size_t v = 0; v < nv; ++v) {
    const Real m = mass_[v];
    const V3 wv = Objective::vert(w, v), yv = Objective::vert(y, v);
    const V3 dn = yv - Objective::vert(x_, v), dh = yv - Objective::vert(obj.x_hat, v);
    Objective::add_vert(new_x, v, (m / (h * h) + alpha * m / h) * wv);
    Objective::add_vert(new_v, v, (m / h) * wv);
    adj_alpha -= m / h * dot(wv, dn);
    V3 dg_dm = (Real(1) / (h * h)) * dh - grav + (alpha / h) * dn;
    if (!external_force_.empty()) dg_dm += (Real(1) / m) * Objective::vert(external_force_, v);  // issue 6: x_hat's h^2 f / m
    if (obj.ground_on) dg_dm += ground_normal_gradient(obj.ground, Real(1), yv);
    if (obj.ground_on && obj.lambda[v] > Real(0)) {  // friction (its mu-gradient also at mu = 0)
      const Real lam = obj.lambda[v];
      GroundPlane<Real> unit_mu = obj.ground;
      unit_mu.friction = Real(1);
      adj_mu -= dot(wv, friction_gradient(unit_mu, lam, dn));
    }
    if (obj.friction_on() && obj.lambda[v] > Real(0)) {
      const Real lam = obj.lambda[v];
      const V3 gD = friction_gradient(obj.ground, lam, dn);
      dg_dm += (Real(1) / m) * gD;
      // -(d grad D/dx_n)^T w = D'' w - (mu a u_T . w) grad lambda
      Objective::add_vert(new_x, v, friction_hessian_vector(obj.ground, lam, dn, wv));
      const Real coef = dot(friction_gradient(obj.ground, lam, dn), wv) / lam;  // mu a u_T . w
      Objective::add_vert(new_x, v, (-coef) * ground_normal_force_gradient(obj.ground, m, Objective::vert(x_, v)));
    }
    grads.mass[v] -= dot(wv, dg_dm);
  }
  // Rayleigh stiffness damping and the terms' parameters and states.
  std::vector<Real> u(ndof);
  for (std::size_t i = 0; i < ndof; ++i) u[i] = y[i] - x_[i];
  if (beta != Real(0)) {
    std::vector<Real> Kw(ndof, Real(0)), Ku(ndof, Real(0));
    obj.rest_stiffness_times(w, Kw);
    obj.rest_stiffness_times(u, Ku);
    for (std::size_t i = 0; i < ndof; ++i) {
      new_x[i] += beta / h * Kw[i];
      adj_beta -= w[i] * Ku[i] / h;
    }
  } else {
    std::vector<Real> Ku(ndof, Real(0));
    obj.rest_stiffness_times(u, Ku);
    for (std::size_t i = 0; i < ndof; ++i) adj_beta -= w[i] * Ku[i] / h;
  }
  for (std::size_t k = 0; k < terms_.size(); ++k) {
    std::vector<Real> tmp(grads.term_parameters[k].size(), Real(0));
    terms_[k]->add_gradient_parameter_vjp(y.data(), w.data(), tmp.data());
    if (beta != Real(0) && terms_[k]->has_rest_stiffness()) {
      std::vector<Real> tb(tmp.size(), Real(0));
      terms_[k]->add_rest_stiffness_parameter_vjp(u.data(), w.data(), tb.data());
      for (std::size_t i = 0; i < tmp.size(); ++i) tmp[i] += beta / h * tb[i];
    }
    for (std::size_t i = 0; i < tmp.size(); ++i) grads.term_parameters[k][i] -= tmp[i];
    if (!adj_s_n[k].empty()) {
      std::vector<Real> ts(adj_s_n[k].size(), Real(0));
      terms_[k]->add_gradient_state_vjp(y.data(), w.data(), ts.data());
      for (std::size_t i = 0; i < ts.size(); ++i) adj_s_n[k][i] -= ts[i];
    }
  }
  adj_external_force_ = w;  // issue 6: f enters g = grad Phi as -f (via x_hat), so dL/df = w (0 on constrained DOFs)
  for (std::size_t k = 0; k < tools_.size(); ++k)  // issue 6 (fem_tool): -(dg/dp)^T w into x_n, masses, the tool
    tools_[k]->adjoint_step(obj.tool_steps[k], x_, mass_, y, w, new_x, grads.mass);
  grads.damping_mass += adj_alpha;
  grads.damping_stiffness += adj_beta;
  grads.friction += adj_mu;
  adj.x = std::move(new_x);
  adj.v = std::move(new_v);
  adj.term_state = std::move(adj_s_n);
}

template <class Real>
void FemWorld<Real>::adjoint_explicit(StateAdjoint& adj, FemParameterGradients<Real>& grads) {
  using V3 = Vec<Real, 3>;
  const Real h = Real(settings_.dt);
  const std::size_t nv = mass_.size(), ndof = 3 * nv;
  // Recompute x_{n+1} (only needed for the terms' end_step adjoint).
  std::vector<std::vector<Real>> adj_s_n;
  {
    bool any_state = false;
    for (const auto& t : terms_) any_state = any_state || !t->internal_state().empty();
    if (any_state) {
      const std::vector<Real> x_n = x_, v_n = v_;
      explicit_step();
      const std::vector<Real> x_end = x_;
      x_ = x_n;
      v_ = v_n;
      adj_s_n = adjoint_end_step(terms_, x_end, adj, grads);
    } else {
      adj_s_n.resize(terms_.size());
    }
  }
  const Real alpha = Real(settings_.damping_mass), beta = Real(settings_.damping_stiffness);
  const GroundPlane<Real> ground = ground_plane();
  const bool ground_on = settings_.ground.enabled;
  std::vector<Real> a(ndof, Real(0)), new_x(ndof, Real(0)), new_v(ndof, Real(0));
  std::vector<Real>* traj_grad = prescribed_.empty() ? nullptr : &grads.prescribed[std::size_t(trajectory_index(step_))];
  std::vector<int> prescribed_slot(nv, -1);
  for (std::size_t k = 0; k < prescribed_.size(); ++k) prescribed_slot[std::size_t(prescribed_[k])] = int(k);
  for (std::size_t v = 0; v < nv; ++v) {
    if (free_index_[3 * v] < 0) {
      for (int d = 0; d < 3; ++d) {
        const std::size_t i = 3 * v + std::size_t(d);
        new_x[i] = -adj.v[i] / h;
        if (prescribed_slot[v] >= 0) (*traj_grad)[3 * std::size_t(prescribed_slot[v]) + std::size_t(d)] += adj.x[i] + adj.v[i] / h;
      }
      continue;
    }
    for (int d = 0; d < 3; ++d) {
      const std::size_t i = 3 * v + std::size_t(d);
      const Real vbar = adj.v[i] + h * adj.x[i];
      new_v[i] = vbar;
      new_x[i] = adj.x[i];
      a[i] = h * vbar / mass_[v];
    }
  }
  adj_external_force_ = a;  // issue 6: f enters v_{n+1} as h M^-1 f, so dL/df = a (0 on constrained vertices)
  // Elastic: (df/dx_n)^T a = -K a; parameters; mass through -grad E / m.
  std::vector<Real> Ka(ndof, Real(0)), gradE(ndof, Real(0));
  for (std::size_t k = 0; k < terms_.size(); ++k) {
    terms_[k]->add_hessian_vector(x_.data(), a.data(), Ka.data());
    terms_[k]->add_gradient(x_.data(), gradE.data());
    std::vector<Real> tmp(grads.term_parameters[k].size(), Real(0));
    terms_[k]->add_gradient_parameter_vjp(x_.data(), a.data(), tmp.data());
    if (beta != Real(0) && terms_[k]->has_rest_stiffness()) {
      std::vector<Real> tb(tmp.size(), Real(0));
      terms_[k]->add_rest_stiffness_parameter_vjp(v_.data(), a.data(), tb.data());
      for (std::size_t i = 0; i < tmp.size(); ++i) tmp[i] += beta * tb[i];
    }
    for (std::size_t i = 0; i < tmp.size(); ++i) grads.term_parameters[k][i] -= tmp[i];
    if (!adj_s_n[k].empty()) {
      std::vector<Real> ts(adj_s_n[k].size(), Real(0));
      terms_[k]->add_gradient_state_vjp(x_.data(), a.data(), ts.data());
      for (std::size_t i = 0; i < ts.size(); ++i) adj_s_n[k][i] -= ts[i];
    }
  }
  std::vector<Real> K0a(ndof, Real(0)), K0v(ndof, Real(0));
  {
    Objective tmp(*this, false);
    tmp.rest_stiffness_times(a, K0a);
    tmp.rest_stiffness_times(v_, K0v);
  }
  for (std::size_t i = 0; i < ndof; ++i) {
    new_x[i] -= Ka[i];
    new_v[i] -= beta * K0a[i];
    grads.damping_stiffness -= a[i] * K0v[i];
  }
  for (std::size_t v = 0; v < nv; ++v) {
    const Real m = mass_[v];
    const V3 av = Objective::vert(a, v), xv = Objective::vert(x_, v), vv = Objective::vert(v_, v);
    Objective::add_vert(new_v, v, (-alpha * m) * av);
    grads.damping_mass -= m * dot(av, vv);
    grads.mass[v] += dot(av, Objective::vert(gradE, v) + beta * Objective::vert(K0v, v)) / m;
    if (!external_force_.empty()) grads.mass[v] -= dot(av, Objective::vert(external_force_, v)) / m;  // issue 6: h f / m
    if (!ground_on) continue;
    const Real c = ground_normal_curvature(ground, m, xv);
    Objective::add_vert(new_x, v, (-c * dot(ground.normal, av)) * ground.normal);
    const Real lambda = ground_normal_force(ground, m, xv);
    if (lambda > Real(0)) {
      const V3 u = h * vv;
      GroundPlane<Real> unit_mu = ground;
      unit_mu.friction = Real(1);
      grads.friction -= dot(av, friction_gradient(unit_mu, lambda, u));
      if (ground.friction != Real(0)) {
        Objective::add_vert(new_v, v, (-h) * friction_hessian_vector(ground, lambda, u, av));
        const Real coef = dot(friction_gradient(ground, lambda, u), av) / lambda;
        Objective::add_vert(new_x, v, (-coef) * ground_normal_force_gradient(ground, m, xv));
      }
    }
  }
  adj.x = std::move(new_x);
  adj.v = std::move(new_v);
  adj.term_state = std::move(adj_s_n);
}

#define PL_FEM_ADJOINT(Real)                                                                              \
  template typename FemWorld<Real>::StateAdjoint FemWorld<Real>::zero_state_adjoint() const;              \
  template FemParameterGradients<Real> FemWorld<Real>::zero_gradients() const;                            \
  template void FemWorld<Real>::finish_density_gradients(FemParameterGradients<Real>&) const;             \
  template void FemWorld<Real>::adjoint_step(StateAdjoint&, FemParameterGradients<Real>&);                \
  template void FemWorld<Real>::adjoint_implicit(StateAdjoint&, FemParameterGradients<Real>&);            \
  template void FemWorld<Real>::adjoint_explicit(StateAdjoint&, FemParameterGradients<Real>&);
PL_FEM_ADJOINT(float)
PL_FEM_ADJOINT(double)

}  // namespace pl::fem
