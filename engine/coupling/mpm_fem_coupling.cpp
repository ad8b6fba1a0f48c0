// MpmFemCoupling: orchestration of the MPM <-> FEM penalty (the physics of
// one pair is kernels/coupling/mpm_fem_contact.hpp).  The pairs are visited
// serially in a fixed order (vertex slots ascending, stencil offsets in
// for_each_stencil_offset order): a few hundred surface vertices x 27 nodes
// per substep, cheap next to P2G, and bit-deterministic.
#include "engine/coupling/mpm_fem_coupling.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/core/error.hpp"
#include "kernels/math/bspline.hpp"

namespace pl {

template <class Real>
MpmFemCoupling<Real>::MpmFemCoupling(MpmWorld<Real, 3>& mpm, fem::FemWorld<Real>& fem,
                                     std::vector<std::array<int, 3>> triangles, const MpmFemCouplingSettings& s,
                                     const std::string& context)
    : mpm_(mpm), fem_(fem), triangles_(std::move(triangles)) {
  const auto fail = [&](const std::string& what) { throw InputError(context + ": " + what); };
  const auto finite = [](double v) { return std::isfinite(v); };
  if (!(s.stiffness > 0) || !finite(s.stiffness)) fail("stiffness must be > 0 [1/s^2], got " + std::to_string(s.stiffness));
  if (!(s.friction >= 0) || !finite(s.friction)) fail("friction must be >= 0, got " + std::to_string(s.friction));
  if (!(s.slip_speed > 0) || !finite(s.slip_speed)) fail("slip_speed must be > 0 [m/s], got " + std::to_string(s.slip_speed));
  if (!finite(s.skin) || (s.skin >= 0 && !(s.skin > 0))) fail("skin must be > 0 [m] (or left out: half a cell)");
  if (!finite(s.softness) || (s.softness >= 0 && !(s.softness > 0))) fail("softness must be > 0 [m] (or left out: skin / 4)");
  const double dx = mpm.settings().dx, dt = mpm.settings().dt;
  if (std::fabs(fem.settings().dt - dt) > 1e-9 * dt)
    fail("the FEM step (" + std::to_string(fem.settings().dt) + " s) must equal the MPM substep (" + std::to_string(dt) +
         " s): the worlds exchange forces every substep");
  if (triangles_.empty()) fail("no FEM surface triangles to couple");
  for (const auto& t : triangles_)
    for (int v : t)
      if (v < 0 || v >= fem.num_vertices()) fail("surface triangle vertex " + std::to_string(v) + " is not an FEM vertex");
  if (s.check_stable_dt && fem.settings().integrator == fem::FemIntegrator::kSymplecticEuler) {
    const double limit = fem.explicit_stable_dt();
    if (dt > 0.9 * limit)
      fail("simulation.dt = " + std::to_string(dt) + " s is above 0.9 x the FEM bodies' explicit stability limit (" +
           std::to_string(limit) + " s): lower dt or soften the FEM material");
  }
  params_.stiffness = Real(s.stiffness);
  params_.skin = Real(s.skin > 0 ? s.skin : 0.5 * dx);
  params_.softness = Real(s.softness > 0 ? s.softness : 0.25 * double(params_.skin));
  params_.friction = Real(s.friction);
  params_.slip_speed = Real(s.slip_speed);

  for (const auto& t : triangles_) vertices_.insert(vertices_.end(), t.begin(), t.end());
  std::sort(vertices_.begin(), vertices_.end());
  vertices_.erase(std::unique(vertices_.begin(), vertices_.end()), vertices_.end());
  for (const auto& t : triangles_) {
    std::array<int, 3> slots;
    for (int c = 0; c < 3; ++c)
      slots[std::size_t(c)] = int(std::lower_bound(vertices_.begin(), vertices_.end(), t[std::size_t(c)]) - vertices_.begin());
    triangle_slots_.push_back(slots);
  }
  try {
    mpm_.set_grid_coupling(this);  // throws for a non-CPU backend
  } catch (const InputError& e) {
    fail(e.what());
  }
  clear_adjoint();
}

template <class Real>
MpmFemCoupling<Real>::~MpmFemCoupling() {
  if (mpm_.grid_coupling() == this) mpm_.set_grid_coupling(nullptr);
}

template <class Real>
void MpmFemCoupling<Real>::step(int substeps) {
  step_with(substeps, [this] { fem_.step(); });
}

template <class Real>
void MpmFemCoupling<Real>::step_with(int substeps, const std::function<void()>& fem_step) {
  for (int s = 0; s < substeps; ++s) {
    mpm_.step(1);  // runs apply() with the FEM state at the start of the substep
    fem_.set_external_forces(forces_);
    fem_step();
  }
}

template <class Real>
void MpmFemCoupling<Real>::vertex_normals(std::vector<Real>& normals) const {
  normals.assign(3 * vertices_.size(), Real(0));
  const Real* x = fem_.positions().data();
  for (std::size_t t = 0; t < triangles_.size(); ++t) {
    Real share[3];
    triangle_normal_share(x + 3 * triangles_[t][0], x + 3 * triangles_[t][1], x + 3 * triangles_[t][2], share);
    for (int c = 0; c < 3; ++c)
      for (int a = 0; a < 3; ++a) normals[3 * std::size_t(triangle_slots_[t][std::size_t(c)]) + std::size_t(a)] += share[a];
  }
}

template <class Real>
void MpmFemCoupling<Real>::apply(const GridView<Real, 3>& grid, Real dt) {
  std::vector<Real> normals;
  vertex_normals(normals);
  const std::vector<Real>& x = fem_.positions();
  const std::vector<Real>& v = fem_.velocities();
  forces_.assign(x.size(), Real(0));
  pairs_.clear();
  // Inputs from the P2G grid for every pair first: a node touched by several
  // vertices must see the same P2G momentum in each pair (the sum is explicit).
  for (std::size_t slot = 0; slot < vertices_.size(); ++slot) {
    const std::size_t id = std::size_t(vertices_[slot]);
    Vec<Real, 3> xg;
    for (int a = 0; a < 3; ++a) xg[a] = (x[3 * id + std::size_t(a)] - grid.origin[a]) * grid.inv_dx;
    const QuadraticStencil<Real, 3> st = QuadraticStencil<Real, 3>::at(xg, Real(1));
    for_each_stencil_offset<3>([&](const int(&off)[3]) {
      int ijk[3];
      for (int a = 0; a < 3; ++a) {
        ijk[a] = st.base[a] + off[a];
        if (ijk[a] < 0 || ijk[a] >= grid.res[a]) return;
      }
      const std::size_t node = (std::size_t(ijk[0]) * std::size_t(grid.res[1]) + std::size_t(ijk[1])) * std::size_t(grid.res[2]) +
                               std::size_t(ijk[2]);
      const Real m = grid.mass[node];
      if (!(m > Real(0))) return;
      Pair p;
      p.slot = int(slot);
      p.node = node;
      for (int a = 0; a < 3; ++a) {
        p.node_x[a] = grid.origin[a] + Real(ijk[a]) * grid.dx;
        p.in.p[a] = grid.momentum[node][a];
        p.in.x[a] = x[3 * id + std::size_t(a)];
        p.in.v[a] = v[3 * id + std::size_t(a)];
        p.in.n[a] = normals[3 * slot + std::size_t(a)];
      }
      p.in.m = m;
      p.in.k = params_.stiffness;
      p.in.mu = params_.friction;
      pairs_.push_back(p);
    });
  }
  for (const Pair& p : pairs_) {
    Real dp[3];
    pair_momentum(p.in, p.node_x, params_, dt, grid.inv_dx, dp);
    const std::size_t id = std::size_t(vertices_[std::size_t(p.slot)]);
    for (int a = 0; a < 3; ++a) {
      grid.momentum[p.node][a] += dp[a];
      forces_[3 * id + std::size_t(a)] -= dp[a] / dt;  // equal and opposite
    }
  }
}

// Adjoint of apply.  With F_i = -sum_n dp_in / dt and p'_n = p_n + sum_i dp_in:
//   dL/d dp_in = dL/dp'_n - dL/dF_i / dt,
// pulled back through pair_momentum to (p_n, m_n, x_i, v_i, n_i, k, mu); p'_n
// passes dL/dp'_n to p_n unchanged (identity part), and n_i back to the
// triangle corners (adj_triangle_normal_share).
template <class Real>
void MpmFemCoupling<Real>::adjoint(const GridView<Real, 3>& grid, const GridAdjointView<Real, 3>& adj_grid, Real dt) {
  (void)grid;
  if (before_adjoint) before_adjoint();
  const std::size_t ndof = std::size_t(3 * fem_.num_vertices());
  if (adj_positions.size() != ndof) clear_adjoint();
  std::vector<Real> adj_n(3 * vertices_.size(), Real(0));
  std::vector<ContactPairInput<Real>> adj_in(pairs_.size());
  for (std::size_t k = 0; k < pairs_.size(); ++k) {
    const Pair& p = pairs_[k];
    const std::size_t id = std::size_t(vertices_[std::size_t(p.slot)]);
    Real g[3];
    for (int a = 0; a < 3; ++a) {
      g[a] = adj_grid.momentum[p.node][a];
      if (!adj_force_.empty()) g[a] -= adj_force_[3 * id + std::size_t(a)] / dt;
    }
    ContactPairInput<Real>& ai = adj_in[k];
    for (int i = 0; i < kContactPairInputs; ++i) contact_input(ai, i) = Real(0);
    pair_momentum_vjp(p.in, p.node_x, params_, dt, grid.inv_dx, g, ai);
  }
  // Scatter after every pair read dL/dp'_n (the momentum adjoint is updated in place).
  for (std::size_t k = 0; k < pairs_.size(); ++k) {
    const Pair& p = pairs_[k];
    const ContactPairInput<Real>& ai = adj_in[k];
    const std::size_t id = std::size_t(vertices_[std::size_t(p.slot)]);
    for (int a = 0; a < 3; ++a) {
      adj_grid.momentum[p.node][a] += ai.p[a];
      adj_positions[3 * id + std::size_t(a)] += ai.x[a];
      adj_velocities[3 * id + std::size_t(a)] += ai.v[a];
      adj_n[3 * std::size_t(p.slot) + std::size_t(a)] += ai.n[a];
    }
    adj_grid.mass[p.node] += ai.m;
    adj_stiffness += ai.k;
    adj_friction += ai.mu;
  }
  const Real* x = fem_.positions().data();
  for (std::size_t t = 0; t < triangles_.size(); ++t) {
    Real share[3] = {Real(0), Real(0), Real(0)};
    for (int c = 0; c < 3; ++c)
      for (int a = 0; a < 3; ++a) share[a] += adj_n[3 * std::size_t(triangle_slots_[t][std::size_t(c)]) + std::size_t(a)];
    const std::size_t i0 = 3 * std::size_t(triangles_[t][0]), i1 = 3 * std::size_t(triangles_[t][1]),
                      i2 = 3 * std::size_t(triangles_[t][2]);
    adj_triangle_normal_share(x + i0, x + i1, x + i2, share, &adj_positions[i0], &adj_positions[i1], &adj_positions[i2]);
  }
}

template <class Real>
void MpmFemCoupling<Real>::clear_adjoint() {
  const std::size_t ndof = std::size_t(3 * fem_.num_vertices());
  adj_positions.assign(ndof, Real(0));
  adj_velocities.assign(ndof, Real(0));
  adj_stiffness = adj_friction = Real(0);
}

template class MpmFemCoupling<float>;
template class MpmFemCoupling<double>;

}  // namespace pl
