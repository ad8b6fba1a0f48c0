// A rigid tool (engine/coupling/tool.hpp) acting on the vertices of a
// FemWorld through the smooth frictional penalty of
// kernels/coupling/fem_tool_contact.hpp: its part of the implicit Euler
// incremental potential, the reaction (force and torque on the tool) per
// step, and the adjoint that hands the tool's trajectory, friction and
// stiffness gradients to Tool::adjoint_step.
//
// Time: the FEM world owns its own Tool, planned with the FEM dt (FemWorld::
// add_tool builds it from the spec).  FEM step n runs from t_n = n dt to
// t_{n+1}; its contact uses Tool::pose(n + 1) (the pose at the END of the step,
// where implicit Euler evaluates every force), the velocity of Tool substep n
// (the motion during the step) and Tool::pose(n) for the frozen friction
// normal.  Waypoint and static tools are functions of time, so an MPM world
// and a FEM world with different dt see the same tool; velocity actions are
// per step of the world that owns the Tool (scene files give them as timed
// segments, resampled for each world's dt by the tools loader).
//
// Adjoint bookkeeping: FEM step n touches Tool substeps n (start pose,
// velocity, mu, k) and n + 1 (end pose).  Going backwards, substep n + 1's
// block is complete once step n has been processed (step n + 1 was processed
// before), so it is handed to Tool::adjoint_step then; the first substep's
// block is handed over by adjoint_end.
#pragma once

#include <string>
#include <vector>

#include <Eigen/SparseCore>

#include "engine/coupling/tool.hpp"
#include "kernels/coupling/fem_tool_contact.hpp"

namespace pl::fem {

/// Contact defaults for FEM bodies where a scene leaves them open (tools not in
/// mode: soft; tools_loader resolves MPM's defaults from dx and the MPM dt,
/// which say nothing about FEM meshes).  With k = 1e6 1/s^2 a vertex is pushed
/// out at 1e6 m/s^2 per metre of depth: about 0.4 mm for a 20 kPa block pressed
/// to 15% strain (FemToolWorld.PressedBlockStaysOutsideTheToolWithinTolerance).
constexpr double kFemToolDefaultStiffness = 1e6;  // [1/s^2]
constexpr double kFemToolDefaultSoftness = 1e-3;  // [m]

/// Everything about one tool that one FEM step needs (built by begin_step).
template <class Real>
struct FemToolStep {
  long step = 0;
  bool dynamic = true;              // false: static solve (no friction)
  ToolGeometry<Real, 3> geometry{};
  Vec<Real, 3> c_start, c_end, velocity, angular;
  Mat<Real, 3> R_start, R_end;
  Real friction = 0, stiffness = 0, softness = 0, slip_eps = 0, dt = 0;
};

template <class Real>
class FemToolContact {
 public:
  /// Validates the spec for FEM use (InputError prefixed with `context`,
  /// naming the tool): the Tool's own checks (zero-size shapes, NaN poses, ...)
  /// plus a positive, finite stiffness, softness and smoothing.
  FemToolContact(const ToolSpec<3>& spec, double dt, const std::string& context);

  Tool<3>& tool() { return tool_; }
  const Tool<3>& tool() const { return tool_; }
  const std::string& name() const { return tool_.name(); }

  /// The step's data: poses at the start/end of FEM step `step`.
  FemToolStep<Real> begin_step(long step, bool dynamic) const;

  // ---- the incremental potential's part (x_prev: start of the step; mass: per vertex)
  Real energy(const FemToolStep<Real>& s, const std::vector<Real>& x_prev, const std::vector<Real>& mass,
              const std::vector<Real>& y) const;
  void add_gradient(const FemToolStep<Real>& s, const std::vector<Real>& x_prev, const std::vector<Real>& mass,
                    const std::vector<Real>& y, std::vector<Real>& grad) const;
  void add_hessian(const FemToolStep<Real>& s, const std::vector<Real>& x_prev, const std::vector<Real>& mass,
                   const std::vector<Real>& y, bool project_psd, std::vector<Eigen::Triplet<Real>>& out) const;

  /// Reaction on the tool from the converged end-of-step positions y: the
  /// vertices feel -dE/dy, the tool the opposite: F = sum dE/dy, torque about
  /// the tool's end-of-step position.  Recorded as reactions()[s.step].
  void record_reaction(const FemToolStep<Real>& s, const std::vector<Real>& x_prev, const std::vector<Real>& mass,
                       const std::vector<Real>& y);
  /// Per FEM step (index = step count at the step's start); zero where not recorded.
  const std::vector<ToolReaction>& reactions() const { return reactions_; }

  // ---- adjoint ---------------------------------------------------------------
  /// Starts a backward pass over FEM steps [first, end).
  void adjoint_begin(long first, long end);
  /// With w the implicit step's adjoint solution (H w = dL/dx_{n+1}):
  /// adj_x_prev += -(dg/dx_prev)^T w, adj_mass += -(dg/dm)^T w (g is linear
  /// in each vertex mass) and the tool's blocks get -(dg/dp)^T w.
  /// Call for steps end - 1 down to first, once each.  Outside a pass
  /// (no adjoint_begin) only adj_x_prev and adj_mass are accumulated.
  void adjoint_step(const FemToolStep<Real>& s, const std::vector<Real>& x_prev, const std::vector<Real>& mass,
                    const std::vector<Real>& y, const std::vector<Real>& w, std::vector<Real>& adj_x_prev,
                    std::vector<Real>& adj_mass);
  /// Finishes the pass: dL/d(actions, waypoints, initial pose, friction, stiffness).
  ToolGradients<3> adjoint_end();
  bool adjoint_active() const { return adj_active_; }

 private:
  FemToolContactConstants<Real> constants(const FemToolStep<Real>& s, Real mass) const;
  void flat_inputs(const FemToolStep<Real>& s, const std::vector<Real>& x_prev, const std::vector<Real>& y,
                   std::size_t v, Real (&flat)[FemToolContactIndex::size]) const;

  Tool<3> tool_;
  double dt_;                // the FEM step [s]
  std::vector<Real> field_;  // mesh tools: the grid in Real (the CPU's kernel memory)
  std::vector<ToolReaction> reactions_;
  // backward pass
  bool adj_active_ = false;
  long adj_first_ = 0, adj_next_ = 0;
  std::vector<double> pending_;  // block of Tool substep adj_next_ + 1 (awaiting its end-pose part)
  std::vector<double> current_;  // block of Tool substep adj_next_ ... see adjoint_step
};

}  // namespace pl::fem
