// A static sphere collider for FEM vertices as an EnergyTerm
// (kernels/fem/sdf_contact.hpp has the penalty model, the same as the ground
// plane's), so it works with implicit Euler (Newton), symplectic Euler and the
// adjoint without changes to the world.  Frictionless.
//
// Usage:
//   SphereCollider<double> s{{0, 0.1, 0}, 0.1, 1e5, 1e-3};
//   world.add_energy_term(std::make_shared<SphereContactTerm<double>>("ball", s, world.masses()));
// The masses are copied at construction (stiffness is per unit vertex mass).
#pragma once

#include <string>
#include <vector>

#include "engine/fem/energy_term.hpp"
#include "kernels/fem/sdf_contact.hpp"

namespace pl::fem {

template <class Real>
class SphereContactTerm final : public EnergyTerm<Real> {
 public:
  /// Acts on every vertex with an entry in `masses` (vertex i has masses[i]).
  /// Throws InputError naming `label` for a non-positive radius, stiffness or
  /// delta, or a non-finite centre.
  SphereContactTerm(std::string label, const SphereCollider<Real>& sphere, const std::vector<Real>& masses);

  std::string name() const override { return "sphere collider '" + label_ + "'"; }
  Real energy(const Real* x) const override;
  void add_gradient(const Real* x, Real* grad) const override;
  void add_hessian(const Real* x, bool project_psd, std::vector<Eigen::Triplet<Real>>& out) const override;

  /// stiffness [1/s^2].
  std::vector<std::string> parameter_names() const override { return {"stiffness"}; }
  std::vector<Real> parameters() const override { return {sphere_.stiffness}; }
  void set_parameters(const std::vector<Real>& theta) override;
  void add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const override;

  const SphereCollider<Real>& sphere() const { return sphere_; }
  /// Signed distance of vertex i to the sphere surface at x [m].
  Real signed_distance(const Real* x, int i) const;

 private:
  Vec<Real, 3> at(const Real* x, std::size_t i) const { return {x[3 * i], x[3 * i + 1], x[3 * i + 2]}; }
  std::string label_;
  SphereCollider<Real> sphere_;
  std::vector<Real> mass_;
};

}  // namespace pl::fem
