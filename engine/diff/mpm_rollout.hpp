// A differentiable MPM rollout: forward with checkpoints, backward with the
// adjoint kernels, gradients for the initial state, material parameters,
// densities, wall friction and per-step external forces.
//
// Usage (gradient of L = sum of final x-coordinates with respect to everything):
//   RolloutOptions<double, 3> opt;
//   opt.steps = 200;
//   opt.checkpoint_bytes = 64 << 20;                       // or opt.checkpoints = 16
//   opt.loss_gradient = [](int step, const ParticleSet<double, 3>& s, ParticleAdjoint<double, 3>& g) {
//     if (step == 200) for (auto& gx : g.x) gx[0] += 1.0;   // dL/dx_T
//   };
//   opt.loss_reads_step = [](int step) { return step == 200; };
//   MpmRollout<double, 3> rollout(world, opt);
//   rollout.forward();                                     // world advances 200 substeps
//   RolloutGradients<double, 3> g = rollout.backward();    // world is back at s_0
//
// Memory: the backward pass keeps at most `checkpoints` states (chosen from the
// byte budget when one is given) and recomputes the others (binomial schedule,
// checkpoint_schedule.hpp); report() says how much was stored and recomputed.
// A loss may read any step, not only the last: the loss callbacks are called
// for every step where loss_reads_step(step) is true.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/diff/checkpoint_schedule.hpp"
#include "engine/mpm/mpm_world.hpp"

namespace pl {

template <class Real, int D>
struct RolloutOptions {
  int steps = 0;
  /// Budget for stored states, in bytes (used when > 0), else a number of states
  /// (when > 0), else ceil(2 sqrt(steps)) + 1 states.
  std::size_t checkpoint_bytes = 0;
  int checkpoints = 0;
  /// Steps whose state the loss reads (default: only the last step).
  std::function<bool(int step)> loss_reads_step;
  /// Forward pass: called with the state at each step the loss reads.
  std::function<void(int step, const ParticleSet<Real, D>& state)> on_state;
  /// Backward pass: add dL/ds_step into `gradient` (already sized, zero-filled)
  /// for each step the loss reads.
  std::function<void(int step, const ParticleSet<Real, D>& state, ParticleAdjoint<Real, D>& gradient)>
      loss_gradient;
  /// Optional per-step external forces [N] per particle, applied in substep `step`
  /// (must be a deterministic function of the step: it is called again when
  /// steps are recomputed).
  std::function<void(int step, std::vector<Vec<Real, D>>& forces)> forces;
  /// Receives dL/df_step for each substep (in reverse order) when set.
  std::function<void(int step, const std::vector<Vec<Real, D>>& gradient)> force_gradient;
  /// issue 6, a loss on the tool reactions: in the backward pass, called for
  /// each substep (reverse order) and tool k (world.tools() order); adds
  /// dL/d(force), dL/d(torque) of the reaction tool k felt in substep `step`
  /// (world.tool_reactions()[k][start + step]) into `gradient` (zero-filled).
  std::function<void(int step, int tool, ToolReaction& gradient)> reaction_gradient;
  /// A non-finite adjoint stops the backward pass with a SimulationError naming
  /// the step, kernel and quantity; with this set it is a warning and the
  /// non-finite entries are zeroed instead.
  bool zero_nonfinite_gradients = false;
};

template <class Real, int D>
struct RolloutGradients {
  ParticleAdjoint<Real, D> initial_state;  // dL/ds_0: x, v, F, C, plastic
  ParameterGradients<Real, D> parameters;  // packed material parameters (per material, per particle), mass, wall friction
  std::vector<double> density;             // dL/drho per material: sum over its particles of dL/dm_p V0_p
  std::vector<ToolGradients<D>> tools;     // issue 6: per tool (world.tools() order): actions, waypoints, pose, friction, stiffness
};

struct RolloutReport {
  int steps = 0;
  int checkpoints = 0;              // states that may be stored at once
  int peak_checkpoints = 0;         // states that were stored at once
  std::size_t bytes_per_state = 0;
  std::size_t checkpoint_bytes = 0;  // peak_checkpoints * bytes_per_state
  long forward_substeps = 0;
  long recomputed_substeps = 0;
  double recompute_factor = 1.0;
  int nonfinite_zeroed_steps = 0;
  std::string summary() const;
};

template <class Real, int D>
class MpmRollout final : private ReverseMachine {
 public:
  MpmRollout(MpmWorld<Real, D>& world, RolloutOptions<Real, D> options);

  /// Runs options.steps substeps from the world's current state, storing checkpoints.
  void forward();
  /// Reverses the rollout; the world ends back at its initial state s_0.
  RolloutGradients<Real, D> backward();
  RolloutReport report() const;

 private:
  void advance(int from, int to, bool recompute) override;
  void store(int slot) override;
  void restore(int slot) override;
  void adjoint(int step) override;
  void seed_final(int steps) override;

  bool loss_reads(int step) const;
  void add_loss_gradient(int step);
  void apply_forces(int step);
  void check_adjoint(std::uint64_t fault, int step);
  void tool_adjoint_step(int step);  // issue 6
  void seed_reaction_adjoint(int step, SubstepParams<Real, D>& params) const;  // issue 6

  MpmWorld<Real, D>& world_;
  RolloutOptions<Real, D> options_;
  std::unique_ptr<CheckpointSchedule> schedule_;
  std::vector<int> slot_ids_;  // schedule slot -> backend state id
  long start_step_ = 0;
  bool forward_done_ = false;
  int nonfinite_zeroed_steps_ = 0;
  std::vector<Vec<Real, D>> forces_;
};

/// Number of states to keep for `steps` substeps within `options`' budget.
template <class Real, int D>
int checkpoint_slots(const RolloutOptions<Real, D>& options, std::size_t bytes_per_state);

}  // namespace pl
