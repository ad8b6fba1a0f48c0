// Elastic energy of a set of linear tetrahedra (one soft body), an EnergyTerm
// for FemWorld.  The per-element physics is kernels/fem/tet_element.hpp; this
// class holds the mesh data, launches the per-element kernels and sums their
// per-element results in a fixed order (deterministic for any thread count).
//
// Usage:
//   TetMesh mesh = make_box_mesh({0, 0, 0}, {1, .1, .1}, {20, 2, 2});
//   auto mat = materials::make_material("beam", "stable_neo_hookean", {{"E", 1e6}}, 1000, "beam");
//   auto term = std::make_shared<TetEnergyTerm<double>>("beam", mesh, /*first vertex in the world*/ 0, mat);
// Models: the elastic models of materials/ (no plastic return mapping, not a
// fluid, with an adjoint): fixed_corotated, stable_neo_hookean, stvk_hencky.
// Parameters θ are the model's (E, nu), named as in the model's kParams.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/fem/energy_term.hpp"
#include "engine/fem/tet_mesh.hpp"
#include "kernels/fem/tet_element.hpp"
#include "materials/registry.hpp"

namespace pl::fem {

/// True when model `model_id` can be used for tets (see the header).
bool tet_model_supported(int model_id);

template <class Real>
class TetEnergyTerm : public EnergyTerm<Real> {
 public:
  /// vertex_offset: the world index of the mesh's vertex 0.  Throws InputError
  /// for a model tets cannot use.
  TetEnergyTerm(std::string label, const TetMesh& mesh, int vertex_offset, const materials::MaterialDesc& material);

  std::string name() const override { return "tets '" + label_ + "'"; }
  Real energy(const Real* x) const override;
  void add_gradient(const Real* x, Real* grad) const override;
  void add_hessian(const Real* x, bool project_psd, std::vector<Eigen::Triplet<Real>>& out) const override;
  void add_hessian_vector(const Real* x, const Real* u, Real* out) const override;

  std::vector<std::string> parameter_names() const override;
  std::vector<Real> parameters() const override;
  void set_parameters(const std::vector<Real>& theta) override;
  void add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const override;

  bool has_rest_stiffness() const override { return true; }
  void add_rest_stiffness(std::vector<Eigen::Triplet<Real>>& out) const override;
  void add_rest_stiffness_vector(const Real* u, Real* out) const override;
  void add_rest_stiffness_parameter_vjp(const Real* u, const Real* w, Real* adj_theta) const override;

  int num_elements() const { return int(rest_.size()); }
  const materials::MaterialDesc& material() const { return material_; }

 private:
  template <class F>
  void with_model(F&& f) const;
  std::size_t num_values(const Real* x) const;

  std::string label_;
  materials::MaterialDesc material_;
  int num_params_ = 0;
  std::vector<int> tets_;  // 4 global indices per element
  std::vector<TetRest<Real>> rest_;
  std::array<Real, materials::kMaxParams> params_{};
};

}  // namespace pl::fem
