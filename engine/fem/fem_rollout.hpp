// A differentiable FEM rollout: forward with checkpoints, backward with
// FemWorld::adjoint_step, gradients for the initial positions and velocities,
// prescribed-vertex trajectories, the energy terms' parameters (E, nu, ...),
// vertex masses and body densities, Rayleigh damping and ground friction.
//
// Usage (gradient of L = sum of final z-coordinates):
//   FemRolloutOptions<double> opt;
//   opt.steps = 20;
//   opt.loss_gradient = [](int step, const FemWorld<double>& w, std::vector<double>& adj_x, std::vector<double>&) {
//     for (std::size_t i = 2; i < adj_x.size(); i += 3) adj_x[i] += 1;   // called for the last step only
//   };
//   FemRollout<double> rollout(world, opt);
//   rollout.forward();                            // world advances 20 steps
//   FemRolloutGradients<double> g = rollout.backward();   // world is back at s_0
//
// Memory: at most `checkpoints` states (x, v, internal term states) are stored
// and the others recomputed with the binomial schedule of
// engine/diff/checkpoint_schedule.hpp (as MpmRollout does).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "engine/coupling/tool.hpp"  // issue 6 (fem_tool): ToolGradients
#include "engine/diff/checkpoint_schedule.hpp"
#include "engine/fem/fem_world.hpp"

namespace pl::fem {

template <class Real>
struct FemRolloutOptions {
  int steps = 0;
  /// States stored at once (> 0), else ceil(2 sqrt(steps)) + 1.
  int checkpoints = 0;
  /// Steps whose state the loss reads (default: only the last).
  std::function<bool(int step)> loss_reads_step;
  /// Backward pass: add dL/dx_step and dL/dv_step (sized, accumulate) for each step the loss reads.
  std::function<void(int step, const FemWorld<Real>& world, std::vector<Real>& adj_x, std::vector<Real>& adj_v)>
      loss_gradient;
};

template <class Real>
struct FemRolloutGradients {
  std::vector<Real> x0, v0;                    // dL/dx_0, dL/dv_0
  std::vector<std::vector<Real>> term_state0;  // dL/ds_0 per energy term
  FemParameterGradients<Real> parameters;
  std::vector<ToolGradients<3>> tools;         // issue 6 (fem_tool): per FemWorld tool (actions, waypoints, mu, k)
};

template <class Real>
class FemRollout : private ReverseMachine {
 public:
  FemRollout(FemWorld<Real>& world, FemRolloutOptions<Real> options);
  void forward();
  FemRolloutGradients<Real> backward();
  const CheckpointSchedule* schedule() const { return schedule_.get(); }

 private:
  using Stored = typename FemWorld<Real>::Snapshot;
  void advance(int from, int to, bool recompute) override;
  void store(int slot) override;
  void restore(int slot) override;
  void adjoint(int step) override;
  void seed_final(int steps) override;
  void add_loss_gradient(int step);
  bool loss_reads(int step) const;

  FemWorld<Real>& world_;
  FemRolloutOptions<Real> options_;
  std::unique_ptr<CheckpointSchedule> schedule_;
  std::vector<Stored> slots_;
  typename FemWorld<Real>::StateAdjoint adj_;
  FemParameterGradients<Real> grads_;
  bool forward_done_ = false;
  long first_step_ = 0;  // issue 6 (fem_tool): the world's step count when forward() began
};

}  // namespace pl::fem
