// The incremental potential Phi of one implicit step (or the static potential),
// its gradient and Hessian; shared by the Newton solve (fem_implicit.cpp) and
// the implicit adjoint (fem_world_adjoint.cpp).  Internal to engine/fem.
// Formula: fem_world.hpp header.
#pragma once

#include <vector>

#include <Eigen/SparseCore>

#include "engine/fem/fem_tool_contact.hpp"  // issue 6 (fem_tool)
#include "engine/fem/fem_world.hpp"
#include "kernels/fem/tet_ground_contact.hpp"

namespace pl::fem {

template <class Real>
struct FemWorld<Real>::Objective {
  using V3 = Vec<Real, 3>;
  const FemWorld<Real>& w;
  bool dynamic;
  Real h;
  std::vector<Real> x_n, x_hat;  // dynamic only
  bool ground_on;
  GroundPlane<Real> ground;
  std::vector<Real> lambda;       // frozen normal force per vertex (dynamic with ground)
  std::vector<Eigen::Triplet<Real>> rest_stiffness;  // K0 (dynamic with beta > 0)
  Real alpha, beta;
  std::vector<FemToolStep<Real>> tool_steps;  // issue 6 (fem_tool): per tool, this step's poses

  Objective(const FemWorld<Real>& world, bool dyn) : w(world), dynamic(dyn), h(Real(world.settings_.dt)) {
    const std::size_t n = world.mass_.size();
    ground_on = world.settings_.ground.enabled;
    ground = world.ground_plane();
    alpha = dynamic ? Real(world.settings_.damping_mass) : Real(0);
    beta = dynamic ? Real(world.settings_.damping_stiffness) : Real(0);
    if (dynamic) {
      x_n = world.x_;
      x_hat.resize(3 * n);
      for (std::size_t i = 0; i < 3 * n; ++i) x_hat[i] = world.x_[i] + h * world.v_[i];
      // issue 6: external forces f (MPM <-> FEM coupling) as x_hat += h^2 M^-1 f, which adds -x^T f to Phi
      if (!world.external_force_.empty())
        for (std::size_t i = 0; i < 3 * n; ++i) x_hat[i] += h * h * world.external_force_[i] / world.mass_[i / 3];
      lambda.assign(n, Real(0));
      if (ground_on)
        for (std::size_t v = 0; v < n; ++v) lambda[v] = ground_normal_force(ground, world.mass_[v], vert(x_n, v));
      if (beta != Real(0))
        for (const auto& t : world.terms_)
          if (t->has_rest_stiffness()) t->add_rest_stiffness(rest_stiffness);
    }
    for (const auto& tool : world.tools_) tool_steps.push_back(tool->begin_step(world.step_, dynamic));  // issue 6 (fem_tool)
  }
  /// Positions at the start of the step (the current ones for a static solve).
  const std::vector<Real>& previous() const { return dynamic ? x_n : w.x_; }

  static V3 vert(const std::vector<Real>& a, std::size_t v) { return V3{{a[3 * v], a[3 * v + 1], a[3 * v + 2]}}; }
  static void add_vert(std::vector<Real>& a, std::size_t v, const V3& d) {
    for (int k = 0; k < 3; ++k) a[3 * v + std::size_t(k)] += d[k];
  }
  V3 gravity() const {
    return V3{{Real(w.settings_.gravity[0]), Real(w.settings_.gravity[1]), Real(w.settings_.gravity[2])}};
  }
  bool friction_on() const { return dynamic && ground_on && ground.friction != Real(0); }

  /// (y - x_n) restricted to K0: K0 (y - x_n).
  void rest_stiffness_times(const std::vector<Real>& u, std::vector<Real>& out) const {
    for (const auto& t : w.terms_)
      if (t->has_rest_stiffness()) t->add_rest_stiffness_vector(u.data(), out.data());
  }

  Real value(const std::vector<Real>& y) const {
    Real phi = Real(0);
    for (const auto& t : w.terms_) phi += t->energy(y.data());
    const V3 g = gravity();
    const std::size_t n = w.mass_.size();
    for (std::size_t v = 0; v < n; ++v) {
      const Real m = w.mass_[v];
      const V3 yv = vert(y, v);
      phi -= m * dot(g, yv);
      if (ground_on) phi += ground_normal_energy(ground, m, yv);
      if (dynamic) {
        const V3 dh = yv - vert(x_hat, v), dn = yv - vert(x_n, v);
        phi += m / (Real(2) * h * h) * squared_norm(dh) + alpha * m / (Real(2) * h) * squared_norm(dn);
        if (friction_on() && lambda[v] > Real(0)) phi += friction_energy(ground, lambda[v], dn);
      }
    }
    if (beta != Real(0)) {
      std::vector<Real> u(y.size()), Ku(y.size(), Real(0));
      for (std::size_t i = 0; i < y.size(); ++i) u[i] = y[i] - x_n[i];
      rest_stiffness_times(u, Ku);
      Real q = Real(0);
      for (std::size_t i = 0; i < y.size(); ++i) q += u[i] * Ku[i];
      phi += beta / (Real(2) * h) * q;
    }
    for (std::size_t k = 0; k < tool_steps.size(); ++k)  // issue 6 (fem_tool)
      phi += w.tools_[k]->energy(tool_steps[k], previous(), w.mass_, y);
    return phi;
  }

  void gradient(const std::vector<Real>& y, std::vector<Real>& grad) const {
    grad.assign(y.size(), Real(0));
    for (const auto& t : w.terms_) t->add_gradient(y.data(), grad.data());
    const V3 g = gravity();
    const std::size_t n = w.mass_.size();
    for (std::size_t v = 0; v < n; ++v) {
      const Real m = w.mass_[v];
      const V3 yv = vert(y, v);
      V3 gv = (-m) * g;
      if (ground_on) gv += ground_normal_gradient(ground, m, yv);
      if (dynamic) {
        const V3 dh = yv - vert(x_hat, v), dn = yv - vert(x_n, v);
        gv += (m / (h * h)) * dh + (alpha * m / h) * dn;
        if (friction_on() && lambda[v] > Real(0)) gv += friction_gradient(ground, lambda[v], dn);
      }
      add_vert(grad, v, gv);
    }
    if (beta != Real(0)) {
      std::vector<Real> u(y.size()), Ku(y.size(), Real(0));
      for (std::size_t i = 0; i < y.size(); ++i) u[i] = y[i] - x_n[i];
      rest_stiffness_times(u, Ku);
      for (std::size_t i = 0; i < y.size(); ++i) grad[i] += beta / h * Ku[i];
    }
    for (std::size_t k = 0; k < tool_steps.size(); ++k)  // issue 6 (fem_tool)
      w.tools_[k]->add_gradient(tool_steps[k], previous(), w.mass_, y, grad);
  }

  /// Per-vertex 3x3 blocks (mass, damping, contact, friction) and the terms' Hessians.
  void hessian(const std::vector<Real>& y, bool project_psd, std::vector<Eigen::Triplet<Real>>& out) const {
    for (const auto& t : w.terms_) t->add_hessian(y.data(), project_psd, out);
    const std::size_t n = w.mass_.size();
    for (std::size_t v = 0; v < n; ++v) {
      const Real m = w.mass_[v];
      const V3 yv = vert(y, v);
      Real block[3][3] = {};
      if (dynamic) {
        const Real diag = m / (h * h) + alpha * m / h;
        for (int k = 0; k < 3; ++k) block[k][k] += diag;
      }
      if (ground_on) {
        const Real c = ground_normal_curvature(ground, m, yv);
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) block[a][b] += c * ground.normal[a] * ground.normal[b];
      }
      if (friction_on() && lambda[v] > Real(0)) {
        const V3 dn = yv - vert(x_n, v);
        for (int b = 0; b < 3; ++b) {
          const V3 col = friction_hessian_vector(ground, lambda[v], dn, V3::unit(b));
          for (int a = 0; a < 3; ++a) block[a][b] += col[a];
        }
      }
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          if (block[a][b] != Real(0)) out.emplace_back(int(3 * v) + a, int(3 * v) + b, block[a][b]);
    }
    if (beta != Real(0))
      for (const auto& t : rest_stiffness) out.emplace_back(t.row(), t.col(), beta / h * t.value());
    for (std::size_t k = 0; k < tool_steps.size(); ++k)  // issue 6 (fem_tool)
      w.tools_[k]->add_hessian(tool_steps[k], previous(), w.mass_, y, project_psd, out);
  }
};

}  // namespace pl::fem
