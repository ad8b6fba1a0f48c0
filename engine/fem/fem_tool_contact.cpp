// FEM vertices against one rigid tool (model and derivatives in
// kernels/coupling/fem_tool_contact.hpp).  Vertices near a tool are few and
// the per-vertex bodies cheap, so the loops are serial and deterministic, as
// for the sphere collider (sdf_contact_term.cpp).
#include "engine/fem/fem_tool_contact.hpp"

#include <cmath>
#include <stdexcept>

#include "engine/core/error.hpp"

namespace pl::fem {

namespace {

ToolSpec<3> checked_spec(const ToolSpec<3>& spec, const std::string& context) {
  const std::string where = context + ": tool '" + spec.name + "'";
  auto positive = [&](double value, const char* key, const char* what) {
    if (!(value > 0) || !std::isfinite(value))
      throw InputError(where + ": " + key + " must be " + what + " for contact with FEM bodies, got " +
                       std::to_string(value));
  };
  positive(spec.stiffness, "stiffness", "a finite penalty stiffness > 0 [1/s^2]");
  positive(spec.softness, "softness", "a finite softplus length > 0 [m]");
  positive(spec.smoothing, "smoothing", "a finite friction smoothing speed > 0 [m/s]");
  if (!(spec.friction >= 0) || !std::isfinite(spec.friction))
    throw InputError(where + ": friction must be a finite Coulomb coefficient >= 0");
  return spec;
}

template <class Real>
Vec<Real, 3> to_real(const Vec<double, 3>& v) {
  return Vec<Real, 3>{{Real(v[0]), Real(v[1]), Real(v[2])}};
}
template <class Real>
Mat<Real, 3> to_real(const Mat<double, 3>& m) {
  Mat<Real, 3> r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r(i, j) = Real(m(i, j));
  return r;
}

}  // namespace

template <class Real>
FemToolContact<Real>::FemToolContact(const ToolSpec<3>& spec, double dt, const std::string& context)
    : tool_(checked_spec(spec, context), dt, context), dt_(dt) {
  if (tool_.spec().mesh) field_.assign(tool_.spec().mesh->values.begin(), tool_.spec().mesh->values.end());
}

template <class Real>
FemToolStep<Real> FemToolContact<Real>::begin_step(long step, bool dynamic) const {
  FemToolStep<Real> s;
  s.step = step;
  s.dynamic = dynamic;
  const ToolState<Real, 3> start = tool_.state<Real>(step, field_.empty() ? nullptr : field_.data());
  s.geometry = start.geometry;
  // Copies: Tool::pose plans on demand and may reallocate its plan.
  const typename Tool<3>::Pose p0 = tool_.pose(step);
  // A static solve has no step: the tool stands at the current pose.
  const typename Tool<3>::Pose p1 = dynamic ? tool_.pose(step + 1) : p0;
  s.c_start = to_real<Real>(p0.position);
  s.R_start = to_real<Real>(p0.rotation);
  s.c_end = to_real<Real>(p1.position);
  s.R_end = to_real<Real>(p1.rotation);
  s.velocity = dynamic ? to_real<Real>(p0.velocity) : Vec<Real, 3>::zero();
  s.angular = dynamic ? to_real<Real>(p0.angular) : Vec<Real, 3>::zero();
  s.friction = dynamic ? Real(tool_.spec().friction) : Real(0);
  s.stiffness = Real(tool_.spec().stiffness);
  s.softness = Real(tool_.spec().softness);
  s.dt = Real(dt_);
  s.slip_eps = Real(tool_.spec().smoothing) * s.dt;
  return s;
}

template <class Real>
FemToolContactConstants<Real> FemToolContact<Real>::constants(const FemToolStep<Real>& s, Real mass) const {
  return FemToolContactConstants<Real>{mass, s.softness, s.slip_eps, s.dt};
}

template <class Real>
void FemToolContact<Real>::flat_inputs(const FemToolStep<Real>& s, const std::vector<Real>& x_prev,
                                       const std::vector<Real>& y, std::size_t v,
                                       Real (&flat)[FemToolContactIndex::size]) const {
  using I = FemToolContactIndex;
  for (int a = 0; a < 3; ++a) {
    flat[I::y + a] = y[3 * v + std::size_t(a)];
    flat[I::x_prev + a] = x_prev[3 * v + std::size_t(a)];
    flat[I::c_end + a] = s.c_end[a];
    flat[I::velocity + a] = s.velocity[a];
    flat[I::angular + a] = s.angular[a];
    flat[I::c_start + a] = s.c_start[a];
    for (int b = 0; b < 3; ++b) {
      flat[I::R_end + 3 * a + b] = s.R_end(a, b);
      flat[I::R_start + 3 * a + b] = s.R_start(a, b);
    }
  }
  flat[I::friction] = s.friction;
  flat[I::stiffness] = s.stiffness;
}

template <class Real>
Real FemToolContact<Real>::energy(const FemToolStep<Real>& s, const std::vector<Real>& x_prev,
                                  const std::vector<Real>& mass, const std::vector<Real>& y) const {
  Real e = 0, flat[FemToolContactIndex::size];
  for (std::size_t v = 0; v < mass.size(); ++v) {
    flat_inputs(s, x_prev, y, v, flat);
    const FemToolContactInputs<Real> in = fem_tool_inputs_from_flat(flat);
    if (fem_tool_in_range(s.geometry, constants(s, mass[v]), in))
      e += fem_tool_contact_energy(s.geometry, constants(s, mass[v]), in);
  }
  return e;
}

template <class Real>
void FemToolContact<Real>::add_gradient(const FemToolStep<Real>& s, const std::vector<Real>& x_prev,
                                        const std::vector<Real>& mass, const std::vector<Real>& y,
                                        std::vector<Real>& grad) const {
  Real flat[FemToolContactIndex::size];
  for (std::size_t v = 0; v < mass.size(); ++v) {
    flat_inputs(s, x_prev, y, v, flat);
    const FemToolContactInputs<Real> in = fem_tool_inputs_from_flat(flat);
    if (!fem_tool_in_range(s.geometry, constants(s, mass[v]), in)) continue;
    const Vec<Real, 3> g = fem_tool_contact_gradient(s.geometry, constants(s, mass[v]), in);
    for (int a = 0; a < 3; ++a) grad[3 * v + std::size_t(a)] += g[a];
  }
}

template <class Real>
void FemToolContact<Real>::add_hessian(const FemToolStep<Real>& s, const std::vector<Real>& x_prev,
                                       const std::vector<Real>& mass, const std::vector<Real>& y, bool project_psd,
                                       std::vector<Eigen::Triplet<Real>>& out) const {
  Real flat[FemToolContactIndex::size], H[3][3];
  for (std::size_t v = 0; v < mass.size(); ++v) {
    flat_inputs(s, x_prev, y, v, flat);
    if (!fem_tool_in_range(s.geometry, constants(s, mass[v]), fem_tool_inputs_from_flat(flat))) continue;
    fem_tool_contact_hessian(s.geometry, constants(s, mass[v]), flat, project_psd, H);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b)
        if (H[a][b] != Real(0)) out.emplace_back(int(3 * v) + a, int(3 * v) + b, H[a][b]);
  }
}

template <class Real>
void FemToolContact<Real>::record_reaction(const FemToolStep<Real>& s, const std::vector<Real>& x_prev,
                                           const std::vector<Real>& mass, const std::vector<Real>& y) {
  std::vector<Real> grad(y.size(), Real(0));
  add_gradient(s, x_prev, mass, y, grad);
  ToolReaction r;
  for (std::size_t v = 0; v < mass.size(); ++v) {
    const Vec<double, 3> f{{double(grad[3 * v]), double(grad[3 * v + 1]), double(grad[3 * v + 2])}};
    const Vec<double, 3> arm{{double(y[3 * v] - s.c_end[0]), double(y[3 * v + 1] - s.c_end[1]),
                              double(y[3 * v + 2] - s.c_end[2])}};
    const Vec<double, 3> t = cross(arm, f);
    for (int a = 0; a < 3; ++a) r.force[a] += f[a], r.torque[a] += t[a];
  }
  if (reactions_.size() <= std::size_t(s.step)) reactions_.resize(std::size_t(s.step) + 1);
  reactions_[std::size_t(s.step)] = r;
}

template <class Real>
void FemToolContact<Real>::adjoint_begin(long first, long end) {
  if (end < first) throw std::logic_error("FemToolContact::adjoint_begin: end before first");
  tool_.adjoint_begin(first, end + 1);  // the last step's end pose is Tool substep `end`
  adj_active_ = true;
  adj_first_ = first;
  adj_next_ = end - 1;
  pending_.assign(kToolAdjointSize<3>, 0.0);
}

template <class Real>
void FemToolContact<Real>::adjoint_step(const FemToolStep<Real>& s, const std::vector<Real>& x_prev,
                                        const std::vector<Real>& mass, const std::vector<Real>& y,
                                        const std::vector<Real>& w, std::vector<Real>& adj_x_prev,
                                        std::vector<Real>& adj_mass) {
  using I = FemToolContactIndex;
  using B = ToolAdjointIndex<3>;
  // Without an active pass (a caller that steps FemWorld::adjoint_step
  // itself and wants no tool gradients) only the state adjoint is propagated.
  if (adj_active_ && s.step != adj_next_)
    throw std::logic_error("FemToolContact::adjoint_step: tool '" + name() + "' expected step " +
                           std::to_string(adj_next_) + ", got " + std::to_string(s.step));
  if (!adj_active_) pending_.assign(kToolAdjointSize<3>, 0.0);  // scratch, discarded
  current_.assign(kToolAdjointSize<3>, 0.0);  // Tool substep s.step
  Real flat[I::size], out[I::size];
  for (std::size_t v = 0; v < mass.size(); ++v) {
    flat_inputs(s, x_prev, y, v, flat);
    if (!fem_tool_in_range(s.geometry, constants(s, mass[v]), fem_tool_inputs_from_flat(flat))) continue;
    const Vec<Real, 3> wv{{w[3 * v], w[3 * v + 1], w[3 * v + 2]}};
    fem_tool_contact_gradient_vjp(s.geometry, constants(s, mass[v]), flat, wv, out);
    const Vec<Real, 3> g = fem_tool_contact_gradient(s.geometry, constants(s, mass[v]), fem_tool_inputs_from_flat(flat));
    adj_mass[v] -= dot(wv, g) / mass[v];
    // dL/dp += -(dg/dp)^T w
    for (int a = 0; a < 3; ++a) {
      adj_x_prev[3 * v + std::size_t(a)] -= out[I::x_prev + a];
      pending_[B::position + a] -= double(out[I::c_end + a]);
      current_[B::velocity + a] -= double(out[I::velocity + a]);
      current_[B::angular + a] -= double(out[I::angular + a]);
      current_[B::position + a] -= double(out[I::c_start + a]);
    }
    for (int k = 0; k < 9; ++k) {
      pending_[B::rotation + k] -= double(out[I::R_end + k]);
      current_[B::rotation + k] -= double(out[I::R_start + k]);
    }
    if (s.dynamic) current_[B::friction] -= double(out[I::friction]);
    current_[B::stiffness] -= double(out[I::stiffness]);
  }
  if (!adj_active_) return;
  tool_.adjoint_step(s.step + 1, pending_.data());
  pending_.swap(current_);
  --adj_next_;
}

template <class Real>
ToolGradients<3> FemToolContact<Real>::adjoint_end() {
  if (!adj_active_) throw std::logic_error("FemToolContact::adjoint_end without adjoint_begin");
  if (adj_next_ != adj_first_ - 1)
    throw std::logic_error("FemToolContact::adjoint_end: tool '" + name() + "': steps " + std::to_string(adj_first_) +
                           " .. " + std::to_string(adj_next_) + " were not visited");
  tool_.adjoint_step(adj_first_, pending_.data());
  adj_active_ = false;
  return tool_.adjoint_end();
}

template class FemToolContact<float>;
template class FemToolContact<double>;

}  // namespace pl::fem
