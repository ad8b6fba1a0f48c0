// Two-way coupling of an MPM world and an FEM world (issue 6): a smooth
// penalty between the FEM bodies' surface vertices and the MPM grid nodes
// (kernels/coupling/mpm_fem_contact.hpp has the model and its sources).
//
// One coupled substep (dt = the MPM substep = the FEM step):
//   1. MPM P2G from s_n;
//   2. this hook: per (surface vertex, grid node) pair, momentum dp into the
//      node and the force -dp / dt onto the vertex, from the FEM state x_n, v_n;
//   3. MPM grid update and G2P -> MPM s_{n+1};
//   4. FEM step with the coupling forces as external forces, constant over
//      the step (the coupling is explicit: both worlds see each other's state
//      at the start of the substep, so the exchange is exactly equal and
//      opposite).  Symplectic Euler: v += h M^-1 (f_int + f); implicit Euler:
//      f enters the incremental potential as -x^T f (x_hat += h^2 M^-1 f), so
//      stiff FEM bodies need no small step of their own.
// With symplectic Euler the constructor checks dt against explicit_stable_dt();
// either way the penalty itself is explicit: k dt^2 should stay well below 1.
//
// Usage:
//   MpmFemCoupling<double> c(mpm, fem, triangles, settings, "scene.yaml: fem.coupling");
//   c.step(100);                                   // 100 coupled substeps
//   c.vertex_forces();                             // forces of the last substep [N], 3 per FEM vertex
//
// The hook is registered with mpm.set_grid_coupling(this) and removed by the
// destructor.  The grid is read on the host: CPU backend only.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "engine/fem/fem_world.hpp"
#include "engine/mpm/mpm_world.hpp"
#include "kernels/coupling/mpm_fem_contact.hpp"

namespace pl {

struct MpmFemCouplingSettings {
  double stiffness = 1e5;    // k [1/s^2]
  double skin = -1;          // [m]; < 0: half a grid cell
  double softness = -1;      // softplus width [m]; < 0: skin / 4
  double friction = 0.5;     // mu
  double slip_speed = 1e-2;  // [m/s]
  bool check_stable_dt = true;  // symplectic Euler: refuse dt above 0.9 x the FEM's explicit_stable_dt()
};

template <class Real>
class MpmFemCoupling final : public GridCouplingHook<Real, 3> {
 public:
  /// triangles: the FEM surfaces that touch the material, as FEM world vertex
  /// ids, counter-clockwise seen from outside.  Throws InputError (prefixed by
  /// `context`) for bad settings, a dt that differs between the worlds, an
  /// unstable explicit dt or a non-CPU MPM backend.
  MpmFemCoupling(MpmWorld<Real, 3>& mpm, fem::FemWorld<Real>& fem, std::vector<std::array<int, 3>> triangles,
                 const MpmFemCouplingSettings& settings, const std::string& context);
  ~MpmFemCoupling() override;
  MpmFemCoupling(const MpmFemCoupling&) = delete;
  MpmFemCoupling& operator=(const MpmFemCoupling&) = delete;

  /// Runs `substeps` coupled substeps (MPM substep with the hook, then FEM step).
  void step(int substeps = 1);
  /// The same with the FEM step done by `fem_step` (a scene's FemSceneRun::step_once, which also releases drives).
  void step_with(int substeps, const std::function<void()>& fem_step);

  /// Forces on the FEM vertices of the last apply [N], 3 per FEM world vertex.
  const std::vector<Real>& vertex_forces() const { return forces_; }
  const MpmFemContactParams<Real>& params() const { return params_; }
  void set_stiffness(Real k) { params_.stiffness = k; }
  void set_friction(Real mu) { params_.friction = mu; }
  /// FEM vertices that take part (sorted world ids).
  const std::vector<int>& contact_vertices() const { return vertices_; }

  // ---- GridCouplingHook ----
  void apply(const GridView<Real, 3>& grid, Real dt) override;
  void adjoint(const GridView<Real, 3>& grid, const GridAdjointView<Real, 3>& adj_grid, Real dt) override;

  // ---- adjoint (engine/diff/coupled_rollout) ----
  /// dL/d(vertex forces of the substep being reversed), 3 per FEM vertex, read
  /// by the next adjoint(): set it from FemWorld::external_force_adjoint().
  void set_force_adjoint(const std::vector<Real>& adj_force) { adj_force_ = adj_force; }
  /// Run at the start of adjoint(), after the recomputed apply() has set
  /// vertex_forces() of the substep: the coupled rollout's FEM adjoint step
  /// goes here (it needs those forces and yields dL/dF for set_force_adjoint).
  std::function<void()> before_adjoint;
  /// Gradients ACCUMULATED by adjoint() since the last clear: dL/d(FEM x_n, v_n)
  /// through the coupling (3 per FEM vertex), dL/dk, dL/dmu.
  std::vector<Real> adj_positions, adj_velocities;
  Real adj_stiffness = 0, adj_friction = 0;
  void clear_adjoint();

 private:
  struct Pair {
    int slot;          // index into vertices_
    std::size_t node;  // grid node
    ContactPairInput<Real> in;
    Real node_x[3];
  };
  void vertex_normals(std::vector<Real>& normals) const;  // 3 per slot, area weighted

  MpmWorld<Real, 3>& mpm_;
  fem::FemWorld<Real>& fem_;
  std::vector<std::array<int, 3>> triangles_;
  std::vector<int> vertices_;  // sorted unique FEM ids of triangle corners
  std::vector<std::array<int, 3>> triangle_slots_;  // triangles_ in slot indices
  MpmFemContactParams<Real> params_;
  std::vector<Real> forces_, adj_force_;
  std::vector<Pair> pairs_;  // of the last apply (what adjoint differentiates)
};

}  // namespace pl
