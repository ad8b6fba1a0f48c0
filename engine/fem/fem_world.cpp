// FemWorld: building, constraints, the explicit integrator and energies.  The
// implicit integrator is fem_implicit.cpp, the adjoint fem_world_adjoint.cpp.
#include "engine/fem/fem_world.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/fem/fem_objective.hpp"
#include "engine/fem/tet_energy_term.hpp"

namespace pl::fem {

std::string validate(const FemSettings& s) {
  auto finite = [](double v) { return std::isfinite(v); };
  if (!(s.dt > 0) || !finite(s.dt)) return "dt must be > 0 [s], got " + std::to_string(s.dt);
  for (double g : s.gravity)
    if (!finite(g)) return "gravity must be finite";
  if (!(s.damping_mass >= 0) || !finite(s.damping_mass)) return "damping_mass (alpha) must be >= 0 [1/s]";
  if (!(s.damping_stiffness >= 0) || !finite(s.damping_stiffness)) return "damping_stiffness (beta) must be >= 0 [s]";
  if (s.ground.enabled) {
    const auto& n = s.ground.normal;
    if (!(std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]) > 0)) return "ground.normal must be a nonzero vector";
    if (!(s.ground.stiffness > 0)) return "ground.stiffness must be > 0 [1/s^2]";
    if (!(s.ground.delta > 0)) return "ground.delta must be > 0 [m]";
    if (!(s.ground.friction >= 0) || !finite(s.ground.friction)) return "ground.friction must be >= 0";
    if (!(s.ground.slip_speed > 0)) return "ground.slip_speed must be > 0 [m/s]";
  }
  if (s.newton_max_iterations < 1) return "newton_max_iterations must be >= 1";
  if (!(s.newton_tolerance > 0)) return "newton_tolerance must be > 0";
  if (s.line_search_max_halvings < 1) return "line_search_max_halvings must be >= 1";
  if (!(s.cg_tolerance > 0) || !(s.cg_tolerance < 1)) return "cg_tolerance must be in (0, 1)";
  if (s.cg_max_iterations < 1) return "cg_max_iterations must be >= 1";
  return "";
}

template <class Real>
FemWorld<Real>::FemWorld(const FemSettings& settings) : settings_(settings) {
  throw_if_invalid("fem settings", validate(settings_));
}

template <class Real>
FemWorld<Real>::~FemWorld() = default;

template <class Real>
int FemWorld<Real>::add_vertices(const std::vector<std::array<double, 3>>& positions,
                                 const std::vector<double>& masses) {
  if (positions.size() != masses.size())
    throw InputError("fem world: add_vertices got " + std::to_string(positions.size()) + " positions and " +
                     std::to_string(masses.size()) + " masses");
  const int first = num_vertices();
  for (std::size_t i = 0; i < positions.size(); ++i) {
    if (!(masses[i] > 0) || !std::isfinite(masses[i]))
      throw InputError("fem world: vertex " + std::to_string(first + int(i)) + " has mass " +
                       std::to_string(masses[i]) + " (expected > 0; is it part of any element?)");
    for (int d = 0; d < 3; ++d) {
      if (!std::isfinite(positions[i][std::size_t(d)]))
        throw InputError("fem world: vertex " + std::to_string(first + int(i)) + " has a non-finite coordinate");
      x_.push_back(Real(positions[i][std::size_t(d)]));
      rest_.push_back(Real(positions[i][std::size_t(d)]));
      v_.push_back(Real(0));
    }
    mass_.push_back(Real(masses[i]));
  }
  rebuild_constraints();
  return first;
}

template <class Real>
void FemWorld<Real>::add_energy_term(std::shared_ptr<EnergyTerm<Real>> term) {
  if (!term) throw InputError("fem world: add_energy_term got a null term");
  terms_.push_back(std::move(term));
}

template <class Real>
int FemWorld<Real>::add_tet_body(const std::string& label, const TetMesh& mesh,
                                 const materials::MaterialDesc& material) {
  TetMesh checked = mesh;
  check_tet_mesh(checked);
  if (!(material.density > 0) || !std::isfinite(material.density))
    throw InputError("tets '" + label + "': density must be > 0 [kg/m^3]");
  TetBody body;
  body.unit_mass = lumped_vertex_mass(checked, 1.0);
  for (std::size_t i = 0; i < body.unit_mass.size(); ++i)
    if (!(body.unit_mass[i] > 0))
      throw InputError("tets '" + label + "': vertex " + std::to_string(i) + " of " + checked.source +
                       " belongs to no tetrahedron (remove unused vertices from the mesh)");
  std::vector<double> masses(body.unit_mass.size());
  for (std::size_t i = 0; i < masses.size(); ++i) masses[i] = body.unit_mass[i] * material.density;
  auto term = std::make_shared<TetEnergyTerm<Real>>(label, checked, num_vertices(), material);
  body.first_vertex = add_vertices(checked.vertices, masses);
  body.num_vertices = int(masses.size());
  body.density = material.density;
  add_energy_term(term);
  bodies_.push_back(std::move(body));
  return int(bodies_.size()) - 1;
}

template <class Real>
void FemWorld<Real>::pin(const std::vector<int>& vertices) {
  for (int v : vertices) {
    if (v < 0 || v >= num_vertices())
      throw InputError("fem world: pin: vertex " + std::to_string(v) + " out of range [0, " +
                       std::to_string(num_vertices()) + ")");
    if (std::find(pinned_.begin(), pinned_.end(), v) != pinned_.end()) continue;
    if (std::find(prescribed_.begin(), prescribed_.end(), v) != prescribed_.end())
      throw InputError("fem world: pin: vertex " + std::to_string(v) + " is already prescribed");
    pinned_.push_back(v);
    for (int d = 0; d < 3; ++d) pinned_target_.push_back(x_[std::size_t(3 * v + d)]);
    for (int d = 0; d < 3; ++d) v_[std::size_t(3 * v + d)] = Real(0);
  }
  rebuild_constraints();
}

template <class Real>
void FemWorld<Real>::prescribe(const std::vector<int>& vertices, const std::vector<std::vector<Real>>& trajectory) {
  for (int v : vertices) {
    if (v < 0 || v >= num_vertices())
      throw InputError("fem world: prescribe: vertex " + std::to_string(v) + " out of range [0, " +
                       std::to_string(num_vertices()) + ")");
    if (std::find(pinned_.begin(), pinned_.end(), v) != pinned_.end())
      throw InputError("fem world: prescribe: vertex " + std::to_string(v) + " is pinned");
  }
  if (!vertices.empty() && trajectory.empty())
    throw InputError("fem world: prescribe: the trajectory needs at least one step of targets");
  for (std::size_t s = 0; s < trajectory.size(); ++s) {
    if (trajectory[s].size() != 3 * vertices.size())
      throw InputError("fem world: prescribe: trajectory step " + std::to_string(s) + " has " +
                       std::to_string(trajectory[s].size()) + " values, expected 3 per vertex (" +
                       std::to_string(3 * vertices.size()) + ")");
    for (Real c : trajectory[s])
      if (!std::isfinite(double(c)))
        throw InputError("fem world: prescribe: trajectory step " + std::to_string(s) + " has a non-finite target");
  }
  prescribed_ = vertices;
  trajectory_ = trajectory;
  prescribe_start_ = step_;
  rebuild_constraints();
}

template <class Real>
void FemWorld<Real>::rebuild_constraints() {
  free_index_.assign(x_.size(), 0);
  for (int v : pinned_)
    for (int d = 0; d < 3; ++d) free_index_[std::size_t(3 * v + d)] = -1;
  for (int v : prescribed_)
    for (int d = 0; d < 3; ++d) free_index_[std::size_t(3 * v + d)] = -1;
  num_free_ = 0;
  for (auto& f : free_index_)
    if (f == 0) f = num_free_++;
}

template <class Real>
void FemWorld<Real>::constrained_targets(int n, std::vector<Real>& target) const {
  for (std::size_t k = 0; k < pinned_.size(); ++k)
    for (int d = 0; d < 3; ++d) target[std::size_t(3 * pinned_[k] + d)] = pinned_target_[3 * k + std::size_t(d)];
  if (prescribed_.empty()) return;
  const int s = trajectory_index(n);
  for (std::size_t k = 0; k < prescribed_.size(); ++k)
    for (int d = 0; d < 3; ++d)
      target[std::size_t(3 * prescribed_[k] + d)] = trajectory_[std::size_t(s)][3 * k + std::size_t(d)];
}

template <class Real>
int FemWorld<Real>::trajectory_index(int n) const {
  return std::clamp(n - prescribe_start_, 0, int(trajectory_.size()) - 1);
}

template <class Real>
GroundPlane<Real> FemWorld<Real>::ground_plane() const {
  const auto& g = settings_.ground;
  const double len = std::sqrt(g.normal[0] * g.normal[0] + g.normal[1] * g.normal[1] + g.normal[2] * g.normal[2]);
  GroundPlane<Real> p;
  for (int d = 0; d < 3; ++d) p.normal[d] = Real(g.normal[std::size_t(d)] / (len > 0 ? len : 1));
  p.offset = Real(g.offset);
  p.stiffness = Real(g.stiffness);
  p.delta = Real(g.delta);
  p.friction = Real(g.friction);
  p.slip_eps = Real(g.slip_speed * settings_.dt);
  return p;
}

template <class Real>
Real FemWorld<Real>::length_scale() const {
  Real lo[3], hi[3];
  for (int d = 0; d < 3; ++d) lo[d] = hi[d] = rest_.empty() ? Real(0) : rest_[std::size_t(d)];
  for (std::size_t i = 0; i < rest_.size(); ++i) {
    lo[i % 3] = std::min(lo[i % 3], rest_[i]);
    hi[i % 3] = std::max(hi[i % 3], rest_[i]);
  }
  Real s = Real(0);
  for (int d = 0; d < 3; ++d) s = std::max(s, hi[d] - lo[d]);
  return s > Real(0) ? s : Real(1);
}

template <class Real>
void FemWorld<Real>::set_masses(const std::vector<Real>& m) {
  if (m.size() != mass_.size())
    throw InputError("fem world: set_masses got " + std::to_string(m.size()) + " values, expected " +
                     std::to_string(mass_.size()));
  for (std::size_t i = 0; i < m.size(); ++i)
    if (!(m[i] > Real(0)) || !std::isfinite(double(m[i])))
      throw InputError("fem world: set_masses: vertex " + std::to_string(i) + " mass must be > 0");
  mass_ = m;
}

template <class Real>
void FemWorld<Real>::set_density(int body, double density) {
  if (body < 0 || body >= num_tet_bodies()) throw InputError("fem world: set_density: no tet body " + std::to_string(body));
  if (!(density > 0) || !std::isfinite(density)) throw InputError("fem world: set_density: density must be > 0 [kg/m^3]");
  TetBody& b = bodies_[std::size_t(body)];
  for (int i = 0; i < b.num_vertices; ++i)
    mass_[std::size_t(b.first_vertex + i)] += Real((density - b.density) * b.unit_mass[std::size_t(i)]);
  b.density = density;
}

template <class Real>
void FemWorld<Real>::set_damping(double alpha, double beta) {
  FemSettings s = settings_;
  s.damping_mass = alpha;
  s.damping_stiffness = beta;
  throw_if_invalid("fem settings", validate(s));
  settings_ = s;
}

template <class Real>
void FemWorld<Real>::set_friction(double mu) {
  FemSettings s = settings_;
  s.ground.friction = mu;
  throw_if_invalid("fem settings", validate(s));
  settings_ = s;
}

template <class Real>
Real FemWorld<Real>::elastic_energy() const {
  Real e = Real(0);
  for (const auto& t : terms_) e += t->energy(x_.data());
  return e;
}

template <class Real>
Real FemWorld<Real>::total_energy() const {
  Objective potential(*this, false);
  Real e = potential.value(x_);
  for (std::size_t i = 0; i < v_.size(); ++i) e += Real(0.5) * mass_[i / 3] * v_[i] * v_[i];
  return e;
}

template <class Real>
void FemWorld<Real>::step() {
  if (settings_.integrator == FemIntegrator::kImplicitEuler)
    implicit_step();
  else
    explicit_step();
  for (const auto& t : terms_) t->end_step(x_.data());  // e.g. plastic rest angles
  ++step_;
  check_finite();
}

template <class Real>
void FemWorld<Real>::check_finite() const {
  for (std::size_t i = 0; i < x_.size(); ++i) {
    if (std::isfinite(double(x_[i])) && std::isfinite(double(v_[i]))) continue;
    std::ostringstream os;
    os << "fem step " << step_ << ": vertex " << i / 3 << " has a non-finite position or velocity";
    if (settings_.integrator == FemIntegrator::kSymplecticEuler)
      os << " (symplectic Euler is stable only for dt < 2 / omega_max; explicit_stable_dt() estimates it, or use "
            "the implicit integrator)";
    throw SimulationError(os.str());
  }
}

// Power iteration on the mass-normalized stiffness S = M^-1/2 K M^-1/2 (free
// DOFs, K = Hessian of the elastic terms and the ground penalty at the current
// x): lambda_max(S) = omega_max^2, and symplectic Euler on an undamped linear
// oscillator is stable iff h omega < 2.  Power iteration approaches
// lambda_max from below, so the estimate can be optimistic by a few percent.
template <class Real>
double FemWorld<Real>::explicit_stable_dt(int iterations) const {
  const std::size_t ndof = x_.size();
  std::vector<double> q(ndof, 0.0);
  for (std::size_t i = 0; i < ndof; ++i)
    if (free_index_[i] >= 0) q[i] = 1.0 + 0.1 * std::sin(double(i));  // generic start
  const GroundPlane<Real> ground = ground_plane();
  double lambda = 0;
  for (int it = 0; it < iterations; ++it) {
    double norm = 0;
    for (double v : q) norm += v * v;
    norm = std::sqrt(norm);
    if (!(norm > 0)) return std::numeric_limits<double>::infinity();
    std::vector<Real> u(ndof), Ku(ndof, Real(0));
    for (std::size_t i = 0; i < ndof; ++i) u[i] = Real(q[i] / norm / std::sqrt(double(mass_[i / 3])));
    for (const auto& t : terms_) t->add_hessian_vector(x_.data(), u.data(), Ku.data());
    if (settings_.ground.enabled)
      for (std::size_t v = 0; v < mass_.size(); ++v) {
        const Real c = ground_normal_curvature(ground, mass_[v], Objective::vert(x_, v));
        const Real nu = dot(ground.normal, Objective::vert(u, v));
        for (int d = 0; d < 3; ++d) Ku[3 * v + std::size_t(d)] += c * nu * ground.normal[d];
      }
    lambda = 0;
    for (std::size_t i = 0; i < ndof; ++i) {
      q[i] = free_index_[i] >= 0 ? double(Ku[i]) / std::sqrt(double(mass_[i / 3])) : 0.0;
      lambda += q[i] * q[i];
    }
    lambda = std::sqrt(lambda);  // |S q_unit| -> lambda_max
  }
  return lambda > 0 ? 2.0 / std::sqrt(lambda) : std::numeric_limits<double>::infinity();
}

// Symplectic Euler with the forces of the header; friction acts on the
// tangential step h v_n with the normal force at x_n (tet_ground_contact.hpp).
template <class Real>
void FemWorld<Real>::explicit_step() {
  using V3 = Vec<Real, 3>;
  const Real h = Real(settings_.dt);
  const std::size_t n = mass_.size();
  std::vector<Real> force(3 * n, Real(0));
  for (const auto& t : terms_) t->add_gradient(x_.data(), force.data());  // +dE/dx, negated below
  const Real beta = Real(settings_.damping_stiffness), alpha = Real(settings_.damping_mass);
  if (beta != Real(0))
    for (const auto& t : terms_)
      if (t->has_rest_stiffness()) {
        std::vector<Real> bv(v_.size());
        for (std::size_t i = 0; i < v_.size(); ++i) bv[i] = beta * v_[i];
        t->add_rest_stiffness_vector(bv.data(), force.data());
      }
  const GroundPlane<Real> ground = ground_plane();
  const V3 g{{Real(settings_.gravity[0]), Real(settings_.gravity[1]), Real(settings_.gravity[2])}};
  std::vector<Real> target(x_);
  constrained_targets(step_, target);
  for (std::size_t v = 0; v < n; ++v) {
    const V3 xv = Objective::vert(x_, v), vv = Objective::vert(v_, v);
    if (free_index_[3 * v] < 0) {
      for (int d = 0; d < 3; ++d) {
        v_[3 * v + std::size_t(d)] = (target[3 * v + std::size_t(d)] - x_[3 * v + std::size_t(d)]) / h;
        x_[3 * v + std::size_t(d)] = target[3 * v + std::size_t(d)];
      }
      continue;
    }
    const Real m = mass_[v];
    V3 f = -Objective::vert(force, v) + m * g - (alpha * m) * vv;
    if (!external_force_.empty()) f += Objective::vert(external_force_, v);  // issue 6: coupling forces
    if (settings_.ground.enabled) {
      f -= ground_normal_gradient(ground, m, xv);
      const Real lambda = ground_normal_force(ground, m, xv);
      if (lambda > Real(0) && ground.friction != Real(0)) f -= friction_gradient(ground, lambda, h * vv);
    }
    for (int d = 0; d < 3; ++d) {
      v_[3 * v + std::size_t(d)] += h * f[d] / m;
      x_[3 * v + std::size_t(d)] += h * v_[3 * v + std::size_t(d)];
    }
  }
}

// issue 6: external vertex forces (MPM <-> FEM coupling).
template <class Real>
void FemWorld<Real>::set_external_forces(const std::vector<Real>& forces) {
  if (!forces.empty() && forces.size() != x_.size())
    throw InputError("fem: set_external_forces got " + std::to_string(forces.size()) + " values, expected 3 per vertex (" +
                     std::to_string(x_.size()) + ") or none");
  external_force_ = forces;
}

// issue 6 (mpm_fem): rollout checkpoints.
template <class Real>
typename FemWorld<Real>::Snapshot FemWorld<Real>::snapshot() const {
  Snapshot s{x_, v_, {}, step_};
  for (const auto& t : terms_) s.term_state.push_back(t->internal_state());
  return s;
}

template <class Real>
void FemWorld<Real>::restore(const Snapshot& s) {
  x_ = s.x;
  v_ = s.v;
  for (std::size_t k = 0; k < terms_.size(); ++k) terms_[k]->set_internal_state(s.term_state[k]);
  step_ = s.step;
}

template class FemWorld<float>;
template class FemWorld<double>;

}  // namespace pl::fem
