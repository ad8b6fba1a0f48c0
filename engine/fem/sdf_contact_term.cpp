// Sphere collider energy term (model in kernels/fem/sdf_contact.hpp).  The
// per-vertex bodies are cheap and touched vertices few, so the loops are
// serial and deterministic.
#include "engine/fem/sdf_contact_term.hpp"

#include <cmath>

#include "engine/core/error.hpp"

namespace pl::fem {

template <class Real>
SphereContactTerm<Real>::SphereContactTerm(std::string label, const SphereCollider<Real>& sphere,
                                           const std::vector<Real>& masses)
    : label_(std::move(label)), sphere_(sphere), mass_(masses) {
  for (int a = 0; a < 3; ++a)
    if (!std::isfinite(double(sphere.center[a])))
      throw InputError(name() + ": the centre must be finite");
  if (!(sphere.radius > 0) || !std::isfinite(double(sphere.radius)))
    throw InputError(name() + ": radius must be a finite length > 0 [m]");
  if (!(sphere.delta > 0) || !std::isfinite(double(sphere.delta)))
    throw InputError(name() + ": delta must be a finite penetration depth > 0 [m]");
  set_parameters({sphere.stiffness});
}

template <class Real>
void SphereContactTerm<Real>::set_parameters(const std::vector<Real>& theta) {
  if (theta.size() != 1 || !(theta[0] > 0) || !std::isfinite(double(theta[0])))
    throw InputError(name() + ": stiffness must be a finite stiffness per unit mass > 0 [1/s^2]");
  sphere_.stiffness = theta[0];
}

template <class Real>
Real SphereContactTerm<Real>::energy(const Real* x) const {
  Real e = 0;
  for (std::size_t i = 0; i < mass_.size(); ++i) e += sphere_contact_energy(sphere_, mass_[i], at(x, i));
  return e;
}

template <class Real>
void SphereContactTerm<Real>::add_gradient(const Real* x, Real* grad) const {
  for (std::size_t i = 0; i < mass_.size(); ++i) {
    const Vec<Real, 3> g = sphere_contact_gradient(sphere_, mass_[i], at(x, i));
    for (int a = 0; a < 3; ++a) grad[3 * i + std::size_t(a)] += g[a];
  }
}

template <class Real>
void SphereContactTerm<Real>::add_hessian(const Real* x, bool project_psd,
                                          std::vector<Eigen::Triplet<Real>>& out) const {
  Real h[9];
  for (std::size_t i = 0; i < mass_.size(); ++i) {
    Vec<Real, 3> n;
    Real dist;
    if (!(sphere_penetration(sphere_, at(x, i), n, dist) > 0)) continue;
    sphere_contact_hessian(sphere_, mass_[i], at(x, i), project_psd, h);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) out.emplace_back(int(3 * i) + r, int(3 * i) + c, h[3 * r + c]);
  }
}

template <class Real>
void SphereContactTerm<Real>::add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const {
  // dE/dx is linear in k: d(dE/dx)/dk = (dE/dx)/k.
  for (std::size_t i = 0; i < mass_.size(); ++i) {
    const Vec<Real, 3> g = sphere_contact_gradient(sphere_, mass_[i], at(x, i));
    for (int a = 0; a < 3; ++a) adj_theta[0] += g[a] / sphere_.stiffness * w[3 * i + std::size_t(a)];
  }
}

template <class Real>
Real SphereContactTerm<Real>::signed_distance(const Real* x, int i) const {
  return norm(at(x, std::size_t(i)) - sphere_.center) - sphere_.radius;
}

template class SphereContactTerm<float>;
template class SphereContactTerm<double>;

}  // namespace pl::fem
