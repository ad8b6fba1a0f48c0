// The contract between the FEM world (integrators, adjoint solves) and the
// element families that contribute elastic energy: tetrahedra, shell membranes,
// discrete-shell hinges.  The world never knows the physics of one element; an
// energy term never knows about time stepping.
//
// Why a host-side interface with virtual calls: the world calls each term a few
// times per Newton iteration (energy, gradient, Hessian), never per element, so
// the dispatch cost is nil; inside a term the per-element bodies are PL_HD
// functions in kernels/fem/ launched with parallel_for, as for MPM.
//
// Vertex positions are a flat array x[3 * num_vertices] (world coordinates, m),
// shared by all terms of one world; a term stores the global vertex indices of
// its elements.
//
// Every term has differentiable parameters θ (named, e.g. "youngs_modulus",
// "poisson_ratio", "bending_stiffness", "yield_angle") and may have internal
// state s (e.g. plastic rest angles) that changes only between steps.  The
// adjoint of an implicit step (implicit function theorem, DiffPD/DiffCloth)
// needs, with w the adjoint solve's solution:
//   adj_θ += -(∂(∇ₓE)/∂θ)ᵀ w     -> add_gradient_parameter_vjp (without the sign)
//   adj_s += -(∂(∇ₓE)/∂s)ᵀ w     -> add_gradient_state_vjp (without the sign)
// and the Hessian ∇²ₓE (add_hessian).  Explicit steps need the same products.
#pragma once

#include <string>
#include <vector>

#include <Eigen/SparseCore>

namespace pl::fem {

template <class Real>
class EnergyTerm {
 public:
  virtual ~EnergyTerm() = default;

  /// Short name for messages, e.g. "tets 'beam'" or "hinges 'sheet'".
  virtual std::string name() const = 0;

  // ---- forward ------------------------------------------------------------
  /// E(x; θ, s) in J.
  virtual Real energy(const Real* x) const = 0;
  /// grad += ∂E/∂x  (grad has 3 * num_vertices entries).
  virtual void add_gradient(const Real* x, Real* grad) const = 0;
  /// Appends the entries of ∂²E/∂x² (global row/column = 3 * vertex + axis).
  /// With project_psd each element block is projected to the nearest positive
  /// semi-definite matrix (Newton descent directions); the adjoint solve asks
  /// for the exact Hessian (project_psd = false).
  virtual void add_hessian(const Real* x, bool project_psd, std::vector<Eigen::Triplet<Real>>& out) const = 0;

  // ---- differentiable parameters θ -----------------------------------------
  virtual std::vector<std::string> parameter_names() const = 0;
  virtual std::vector<Real> parameters() const = 0;
  /// Throws pl::InputError naming the term and parameter when a value is invalid.
  virtual void set_parameters(const std::vector<Real>& theta) = 0;
  /// adj_theta += (∂(∂E/∂x)/∂θ)ᵀ w   (w has 3 * num_vertices entries).
  virtual void add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const = 0;

  // ---- internal state s (empty for purely elastic terms) -------------------
  virtual std::vector<Real> internal_state() const { return {}; }
  virtual void set_internal_state(const std::vector<Real>& /*s*/) {}
  /// After a step converged at x: s <- update(s, x) (e.g. plastic rest angles).
  virtual void end_step(const Real* /*x*/) {}
  /// Adjoint of end_step at (x, s_before): given adj_s_after, accumulate into
  /// adj_x and adj_s_before.
  virtual void adj_end_step(const Real* /*x*/, const std::vector<Real>& /*s_before*/, const Real* /*adj_s_after*/,
                            Real* /*adj_x*/, Real* /*adj_s_before*/) const {}
  /// adj_s += (∂(∂E/∂x)/∂s)ᵀ w.
  virtual void add_gradient_state_vjp(const Real* /*x*/, const Real* /*w*/, Real* /*adj_s*/) const {}
  /// Adjoint of end_step with respect to the parameters (added by the shell
  /// half: the plastic update depends on the yield angle):
  /// adj_theta += (∂s_after/∂θ)ᵀ adj_s_after at (x, s_before).  Callers of
  /// adj_end_step should call this too; terms whose end_step ignores θ keep
  /// the default.
  virtual void adj_end_step_parameters(const Real* /*x*/, const std::vector<Real>& /*s_before*/,
                                       const Real* /*adj_s_after*/, Real* /*adj_theta*/) const {}

  // ---- optional, with defaults (added by the tet/world half) ----------------
  /// out += (∂²E/∂x²) u.  The explicit integrator's adjoint calls this once per
  /// step; the default assembles the exact Hessian and multiplies, a term with
  /// a cheaper per-element product should override it.
  virtual void add_hessian_vector(const Real* x, const Real* u, Real* out) const {
    std::vector<Eigen::Triplet<Real>> triplets;
    add_hessian(x, false, triplets);
    for (const auto& t : triplets) out[t.row()] += t.value() * u[t.col()];
  }
  /// Stiffness-proportional Rayleigh damping (world setting β) damps with the
  /// term's REST stiffness K0 (a constant matrix, so the damping force is
  /// linear in the velocity and the adjoint needs no third derivatives).  A
  /// term that returns false here is not stiffness-damped.
  virtual bool has_rest_stiffness() const { return false; }
  /// Appends the entries of K0.
  virtual void add_rest_stiffness(std::vector<Eigen::Triplet<Real>>& /*out*/) const {}
  /// out += K0 u.
  virtual void add_rest_stiffness_vector(const Real* /*u*/, Real* /*out*/) const {}
  /// adj_theta += ∂(wᵀ K0 u)/∂θ.
  virtual void add_rest_stiffness_parameter_vjp(const Real* /*u*/, const Real* /*w*/, Real* /*adj_theta*/) const {}
};

}  // namespace pl::fem
