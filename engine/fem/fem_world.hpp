// A 3D FEM world: vertices with lumped masses, elastic energy terms (tets,
// shells), gravity, Dirichlet (pinned) and prescribed-motion vertices, a ground
// plane with smooth frictional contact, and two integrators; plus the adjoint
// of one step (fem_world_adjoint.cpp) that FemRollout chains backwards.
//
// Usage:
//   FemSettings s;  s.dt = 1e-2;  s.ground.enabled = true;
//   FemWorld<double> world(s);
//   int body = world.add_tet_body("jelly", make_box_mesh({0,0,.1}, {.1,.1,.2}, {4,4,4}),
//                                 materials::make_material("jelly", "stable_neo_hookean", {{"E", 1e5}}, 1000, "jelly"));
//   world.pin({0, 1, 2});                        // Dirichlet: stay where they are
//   world.prescribe({5}, trajectory);            // after step n, x_5 = trajectory[n][0..2]
//   for (int i = 0; i < 100; ++i) world.step();
//
// Implicit Euler (Martin et al. 2011 "Example-based elastic materials" and the
// IPC paper's incremental potential): x_{n+1} = argmin Phi(x),
//   Phi(x) = 1/(2 h^2) |x - x_hat|_M^2 + E(x) - x^T M g + C(x) + D(x; x_n)
//            + alpha/(2h) |x - x_n|_M^2 + beta/(2h) (x - x_n)^T K0 (x - x_n),
//   x_hat = x_n + h v_n,  v_{n+1} = (x_{n+1} - x_n)/h,
// over the free vertices (constrained ones sit at their targets), by Newton
// with PSD-projected element Hessians, a backtracking (Armijo) line search and
// a sparse LDL^T solve.  grad Phi = 0 is exactly backward Euler with the
// elastic, gravity, contact, friction and damping forces at x_{n+1}.
//
// Symplectic Euler: v_{n+1} = v_n + h M^-1 f(x_n, v_n), x_{n+1} = x_n + h v_{n+1},
// with the same forces (friction on the tangential step h v_n).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <Eigen/SparseCore>

#include "engine/fem/energy_term.hpp"
#include "engine/fem/fem_settings.hpp"
#include "engine/fem/tet_mesh.hpp"
#include "kernels/fem/tet_ground_contact.hpp"
#include "materials/registry.hpp"

namespace pl {  // issue 6 (fem_tool): engine/coupling/tool.hpp
template <int D>
struct ToolSpec;
template <int D>
struct ToolGradients;
}  // namespace pl

namespace pl::fem {

template <class Real>
class TetEnergyTerm;
template <class Real>
class FemToolContact;  // issue 6 (fem_tool): engine/fem/fem_tool_contact.hpp

/// dL/d(everything a step depends on besides the state), accumulated by the
/// adjoint steps.  Entries match FemWorld's accessors.
template <class Real>
struct FemParameterGradients {
  std::vector<std::vector<Real>> term_parameters;  // per energy term, per parameter
  std::vector<Real> mass;                          // per vertex [dL/dkg]
  std::vector<Real> density;                       // per tet body (through its lumped masses)
  Real damping_mass = 0, damping_stiffness = 0, friction = 0;
  std::vector<std::vector<Real>> prescribed;       // per step: 3 per prescribed vertex
};

template <class Real>
class FemWorld {
 public:
  explicit FemWorld(const FemSettings& settings);
  ~FemWorld();

  // ---- building -------------------------------------------------------------
  /// Appends vertices (rest = initial positions, zero velocity) and masses;
  /// returns the index of the first one.
  int add_vertices(const std::vector<std::array<double, 3>>& positions, const std::vector<double>& masses);
  /// Appends a term acting on existing vertices (shells, custom energies).
  void add_energy_term(std::shared_ptr<EnergyTerm<Real>> term);
  /// Appends the mesh's vertices with lumped masses and a TetEnergyTerm; returns the body index.
  int add_tet_body(const std::string& label, const TetMesh& mesh, const materials::MaterialDesc& material);
  /// Dirichlet: these vertices stay at their current positions, velocity 0.
  void pin(const std::vector<int>& vertices);
  /// Prescribed motion: at step n (from the step count at this call) the
  /// vertices move to trajectory[n][3 k + axis] (k = index in `vertices`); after
  /// the trajectory ends they stay at its last targets.  Replaces any earlier
  /// prescription.  Throws InputError for bad indices or sizes.
  void prescribe(const std::vector<int>& vertices, const std::vector<std::vector<Real>>& trajectory);

  // ---- stepping -------------------------------------------------------------
  void step();
  /// Quasi-static equilibrium under gravity, contact and constraints (no
  /// inertia, no friction): Newton on E(x) - x^T M g + C(x).  Returns Newton iterations.
  int solve_static();

  // ---- state ----------------------------------------------------------------
  int num_vertices() const { return int(mass_.size()); }
  int step_count() const { return step_; }
  void set_step_count(int s) { step_ = s; }
  const std::vector<Real>& positions() const { return x_; }
  const std::vector<Real>& velocities() const { return v_; }
  std::vector<Real>& positions() { return x_; }
  std::vector<Real>& velocities() { return v_; }
  const std::vector<Real>& rest_positions() const { return rest_; }
  const std::vector<Real>& masses() const { return mass_; }
  /// Throws InputError for a non-positive or non-finite mass.
  void set_masses(const std::vector<Real>& m);
  const std::vector<std::shared_ptr<EnergyTerm<Real>>>& terms() const { return terms_; }
  const FemSettings& settings() const { return settings_; }
  /// Changes damping and friction (the differentiable world settings); validated.
  void set_damping(double alpha, double beta);
  void set_friction(double mu);
  /// Switches the sparse solve of Newton steps and adjoints (linear_solver.hpp).
  void set_linear_solver(FemLinearSolver solver) { settings_.linear_solver = solver; }
  /// Tet body data for density gradients.
  int num_tet_bodies() const { return int(bodies_.size()); }
  void set_density(int body, double density);
  double density(int body) const { return bodies_[std::size_t(body)].density; }
  const std::vector<int>& prescribed_vertices() const { return prescribed_; }
  const std::vector<std::vector<Real>>& prescribed_trajectory() const { return trajectory_; }
  /// Newton iterations of the last implicit step.
  int last_newton_iterations() const { return last_newton_iterations_; }

  /// Estimated largest stable dt [s] of the symplectic Euler integrator at the
  /// current positions: 2 / omega_max, omega_max^2 the largest eigenvalue of
  /// M^-1 K (power iteration).  Use a safety factor (e.g. 0.5).
  double explicit_stable_dt(int iterations = 100) const;

  /// Total elastic energy of all terms at the current positions [J].
  Real elastic_energy() const;
  /// Elastic + gravity (relative to the origin) + contact potential + kinetic [J].
  Real total_energy() const;

  // ---- adjoint (fem_world_adjoint.cpp) ---------------------------------------
  /// The current state is s_n (positions, velocities, the terms' internal
  /// states, step count n).  Given adj = dL/ds_{n+1}, replaces it with dL/ds_n
  /// (through this step) and accumulates parameter gradients.  Recomputes the
  /// step internally and leaves the world at s_n.
  struct StateAdjoint {
    std::vector<Real> x, v;
    std::vector<std::vector<Real>> term_state;  // per energy term
  };
  void adjoint_step(StateAdjoint& adj, FemParameterGradients<Real>& grads);
  // ---- issue 6: external vertex forces (MPM <-> FEM coupling) ----
  /// Per-vertex external forces [N] (3 per vertex, or empty = none) acting in
  /// the following steps until replaced (implicit Euler: constant over the
  /// step, x_hat += h^2 M^-1 f).  InputError for a wrong size.
  void set_external_forces(const std::vector<Real>& forces);
  const std::vector<Real>& external_forces() const { return external_force_; }
  /// dL/d(external forces) of the last adjoint_step (3 per vertex; 0 on constrained vertices).
  const std::vector<Real>& external_force_adjoint() const { return adj_external_force_; }
  /// The state a rollout checkpoints (positions, velocities, the terms'
  /// internal states, step count) and puts back (FemRollout, CoupledRollout).
  struct Snapshot {
    std::vector<Real> x, v;
    std::vector<std::vector<Real>> term_state;
    int step = 0;
  };
  Snapshot snapshot() const;
  void restore(const Snapshot& s);
  // ---- end issue 6 ----
  // ---- issue 6 (fem_tool): rigid tools acting on the vertices (engine/fem/fem_tool_contact.hpp) ----
  /// Adds a tool, planned with this world's dt (its pose at the end of each
  /// step is the one the contact sees); implicit Euler only.  Throws
  /// InputError prefixed with `context` for a bad spec; returns the tool's index.
  int add_tool(const ToolSpec<3>& spec, const std::string& context);
  const std::vector<std::shared_ptr<FemToolContact<Real>>>& tools() const { return tools_; }
  /// The tools' backward pass around adjoint_step calls for steps end_step - 1
  /// down to first_step (FemRollout does this).  Without it adjoint_step still
  /// carries the state adjoint through the contact but gives no tool gradients.
  void begin_tool_adjoint(long first_step, long end_step);
  std::vector<ToolGradients<3>> end_tool_adjoint();
  // ---- end issue 6 (fem_tool) ----
  /// Sized, zero-filled adjoints and gradients for this world.
  StateAdjoint zero_state_adjoint() const;
  FemParameterGradients<Real> zero_gradients() const;
  /// grads.density[b] from grads.mass (lumped masses are density times unit masses).
  void finish_density_gradients(FemParameterGradients<Real>& grads) const;

 private:
  struct TetBody {
    int first_vertex, num_vertices;
    double density;
    std::vector<double> unit_mass;  // lumped mass per unit density, per body vertex
  };
  struct Objective;  // the incremental potential of one step (fem_implicit.cpp)

  void implicit_step();
  void explicit_step();
  void adjoint_implicit(StateAdjoint& adj, FemParameterGradients<Real>& grads);
  void adjoint_explicit(StateAdjoint& adj, FemParameterGradients<Real>& grads);
  /// Index into trajectory_ used by the step that starts at step count n.
  int trajectory_index(int n) const;
  /// Targets of the constrained vertices for the step that starts at step count n.
  void constrained_targets(int n, std::vector<Real>& target) const;
  void rebuild_constraints();
  /// Throws SimulationError naming the step and vertex when the state is not finite.
  void check_finite() const;
  GroundPlane<Real> ground_plane() const;
  int newton(Objective& objective, std::vector<Real>& y, const char* what);
  Real length_scale() const;

  FemSettings settings_;
  std::vector<Real> x_, v_, rest_, mass_;
  std::vector<std::shared_ptr<EnergyTerm<Real>>> terms_;
  std::vector<TetBody> bodies_;
  std::vector<int> pinned_;                     // vertex ids
  std::vector<Real> pinned_target_;             // 3 per pinned vertex
  std::vector<int> prescribed_;                 // vertex ids
  std::vector<std::vector<Real>> trajectory_;   // per step, 3 per prescribed vertex
  int prescribe_start_ = 0;
  std::vector<int> free_index_;                 // per DOF: index among free DOFs or -1
  int num_free_ = 0;
  int step_ = 0;
  int last_newton_iterations_ = 0;
  std::vector<Real> external_force_, adj_external_force_;  // issue 6: coupling forces and their adjoint
  std::vector<std::shared_ptr<FemToolContact<Real>>> tools_;  // issue 6 (fem_tool): rigid tools
};

}  // namespace pl::fem
