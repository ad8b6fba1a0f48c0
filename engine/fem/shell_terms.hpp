// Thin-shell energy terms for the FEM world (engine/fem/energy_term.hpp):
//   MembraneTerm  in-plane stretching and shearing of every triangle
//                 (kernels/fem/shell_membrane.hpp: StVK or Neo-Hookean)
//   HingeTerm     discrete-shell bending of every interior edge with optional
//                 plastic rest angles (kernels/fem/discrete_shell_hinge.hpp)
// A sheet is both: the world adds its vertices (lumped masses from
// sheet_mesh.hpp), then one term of each kind over the same vertices.
//
// Usage:
//   TriangleMesh sheet = make_rectangular_sheet({0,0,0}, {0.2,0,0}, {0,0.2,0}, 20, 20);
//   int first = world.add_vertices(sheet.vertices, lumped_sheet_masses(sheet, 0.2));
//   ShellMaterial mat;  mat.youngs_modulus = 1e6;  mat.thickness = 1e-3;
//   world.add_energy_term(std::make_shared<MembraneTerm<double>>("sheet", sheet, first, mat));
//   world.add_energy_term(std::make_shared<HingeTerm<double>>("sheet", sheet, first,
//                         plate_bending_stiffness(mat.youngs_modulus, mat.poisson_ratio, mat.thickness),
//                         /*yield_angle=*/0.3));
//
// Each term keeps per-element rest data computed once from the rest mesh; the
// per-element bodies run in parallel (Thrust, OpenMP policy) into per-element
// buffers that are then summed in a fixed order, so results are bit-identical
// for any thread count (needed by the checkpointed adjoint's recomputation).
#pragma once

#include <array>
#include <limits>
#include <string>
#include <vector>

#include "engine/fem/energy_term.hpp"
#include "engine/geometry/triangle_mesh.hpp"
#include "kernels/fem/discrete_shell_hinge.hpp"
#include "kernels/fem/shell_membrane.hpp"

namespace pl::fem {

/// Membrane material of a shell; SI units.
struct ShellMaterial {
  MembraneModel model = MembraneModel::kStVK;
  double youngs_modulus = 1e6;  // [Pa]
  double poisson_ratio = 0.3;   // [-], in (-1, 0.5)
  double thickness = 1e-3;      // [m]
};

/// "" when valid; otherwise which field is wrong and the expected range.
std::string validate(const ShellMaterial& m);

/// A hinge: the shared edge (v[0], v[1]) and the wings v[2] (triangle
/// v0 v1 v2) and v[3] (triangle v1 v0 v3), in mesh vertex numbering.
using HingeVertices = std::array<int, 4>;

/// Every interior edge of a consistently oriented manifold triangle mesh as a
/// hinge, ordered by (smaller, larger) vertex of the edge.  Throws InputError
/// naming `context` for an edge with more than two triangles or two triangles
/// traversing an edge in the same direction (validate_sheet_mesh explains).
std::vector<HingeVertices> extract_hinges(const TriangleMesh& mesh, const std::string& context);

template <class Real>
class MembraneTerm final : public EnergyTerm<Real> {
 public:
  /// The mesh's vertices (its rest shape) are world vertices first_vertex...
  /// Throws InputError for an invalid material or mesh (validate_sheet_mesh).
  MembraneTerm(std::string label, const TriangleMesh& rest_mesh, int first_vertex, const ShellMaterial& material);

  std::string name() const override { return "membrane '" + label_ + "'"; }
  Real energy(const Real* x) const override;
  void add_gradient(const Real* x, Real* grad) const override;
  void add_hessian(const Real* x, bool project_psd, std::vector<Eigen::Triplet<Real>>& out) const override;
  /// out += (∂²E/∂x²) u, element by element (no assembly).
  void add_hessian_vector(const Real* x, const Real* u, Real* out) const override;

  /// youngs_modulus [Pa], poisson_ratio [-], thickness [m].
  std::vector<std::string> parameter_names() const override;
  std::vector<Real> parameters() const override;
  void set_parameters(const std::vector<Real>& theta) override;
  void add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const override;

  /// Rest stiffness K0 (stiffness-proportional Rayleigh damping): the exact
  /// membrane Hessian at the rest shape, which is PSD there (no stress).
  bool has_rest_stiffness() const override { return true; }
  void add_rest_stiffness(std::vector<Eigen::Triplet<Real>>& out) const override;
  void add_rest_stiffness_vector(const Real* u, Real* out) const override;
  void add_rest_stiffness_parameter_vjp(const Real* u, const Real* w, Real* adj_theta) const override;

  int num_triangles() const { return int(triangles_.size()); }

 private:
  /// Per-triangle rest K0 blocks (81 each) for Lamé (mu, lambda, h) = `lame`, `thickness`.
  std::vector<Real> rest_blocks(Lame<Real> lame, Real thickness) const;

  std::string label_;
  ShellMaterial material_;
  std::vector<std::array<int, 3>> triangles_;  // world vertex indices
  std::vector<MembraneRest<Real>> rest_;
  std::vector<Real> rest_positions_;  // 9 per triangle
};

template <class Real>
class HingeTerm final : public EnergyTerm<Real> {
 public:
  /// Bending of every interior edge of `rest_mesh` (vertices first_vertex...).
  /// Rest angles start at the rest mesh's dihedral angles (a flat sheet: 0).
  /// bending_stiffness k_b [J] (plate_bending_stiffness(E, ν, h) for a
  /// Kirchhoff plate); yield_angle θ_y [rad] > 0, +infinity for purely elastic
  /// bending.  Throws InputError for invalid values or meshes.
  HingeTerm(std::string label, const TriangleMesh& rest_mesh, int first_vertex, Real bending_stiffness,
            Real yield_angle = std::numeric_limits<Real>::infinity());

  std::string name() const override { return "hinges '" + label_ + "'"; }
  Real energy(const Real* x) const override;
  void add_gradient(const Real* x, Real* grad) const override;
  void add_hessian(const Real* x, bool project_psd, std::vector<Eigen::Triplet<Real>>& out) const override;
  /// out += (∂²E/∂x²) u, hinge by hinge (no assembly).
  void add_hessian_vector(const Real* x, const Real* u, Real* out) const override;

  /// bending_stiffness [J], yield_angle [rad].
  std::vector<std::string> parameter_names() const override;
  std::vector<Real> parameters() const override;
  void set_parameters(const std::vector<Real>& theta) override;
  void add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const override;

  /// The rest angles θ̄ [rad], one per hinge.
  std::vector<Real> internal_state() const override { return rest_angle_; }
  void set_internal_state(const std::vector<Real>& s) override;
  void end_step(const Real* x) override;
  void adj_end_step(const Real* x, const std::vector<Real>& s_before, const Real* adj_s_after, Real* adj_x,
                    Real* adj_s_before) const override;
  void adj_end_step_parameters(const Real* x, const std::vector<Real>& s_before, const Real* adj_s_after,
                               Real* adj_theta) const override;
  void add_gradient_state_vjp(const Real* x, const Real* w, Real* adj_s) const override;

  /// Rest stiffness K0 = k_b w g0 g0ᵀ (g0 = ∂θ/∂x at the rest shape, where the
  /// initial rest angle makes θ - θ̄ = 0): fixed at construction, not moved
  /// by plastic updates, so damping stays linear in the velocity.
  bool has_rest_stiffness() const override { return true; }
  void add_rest_stiffness(std::vector<Eigen::Triplet<Real>>& out) const override;
  void add_rest_stiffness_vector(const Real* u, Real* out) const override;
  void add_rest_stiffness_parameter_vjp(const Real* u, const Real* w, Real* adj_theta) const override;

  int num_hinges() const { return int(hinges_.size()); }
  const std::vector<HingeVertices>& hinges() const { return hinges_; }  // world vertex indices
  /// Current dihedral angle of every hinge at x [rad].
  std::vector<Real> angles(const Real* x) const;

 private:
  void check_parameters(Real bending_stiffness, Real yield_angle) const;

  std::string label_;
  Real stiffness_;
  Real yield_angle_;
  std::vector<HingeVertices> hinges_;  // world vertex indices
  std::vector<Real> weight_;
  std::vector<Real> rest_angle_;
  std::vector<Real> rest_angle_gradient_;  // g0: 12 per hinge (zero for a degenerate rest hinge)
};

}  // namespace pl::fem
