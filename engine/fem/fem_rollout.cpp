#include "engine/fem/fem_rollout.hpp"

#include <cmath>

#include "engine/core/error.hpp"

namespace pl::fem {

template <class Real>
FemRollout<Real>::FemRollout(FemWorld<Real>& world, FemRolloutOptions<Real> options)
    : world_(world), options_(std::move(options)) {
  if (options_.steps < 0) throw InputError("fem rollout: steps must be >= 0, got " + std::to_string(options_.steps));
  if (options_.checkpoints < 0) throw InputError("fem rollout: checkpoints must be >= 0");
}

template <class Real>
bool FemRollout<Real>::loss_reads(int step) const {
  return options_.loss_reads_step ? options_.loss_reads_step(step) : step == options_.steps;
}

template <class Real>
void FemRollout<Real>::forward() {
  int slots = options_.checkpoints > 0 ? options_.checkpoints
                                       : int(std::ceil(2.0 * std::sqrt(double(options_.steps)))) + 1;
  slots = std::max(1, std::min(slots, options_.steps + 1));
  schedule_ = std::make_unique<CheckpointSchedule>(options_.steps, slots);
  slots_.assign(std::size_t(slots), Stored{});
  first_step_ = world_.step_count();  // issue 6 (fem_tool)
  schedule_->run_forward(*this);
  forward_done_ = true;
}

template <class Real>
void FemRollout<Real>::advance(int from, int to, bool /*recompute*/) {
  for (int s = from; s < to; ++s) world_.step();
}

template <class Real>
void FemRollout<Real>::store(int slot) {
  slots_[std::size_t(slot)] = world_.snapshot();
}

template <class Real>
void FemRollout<Real>::restore(int slot) {
  world_.restore(slots_[std::size_t(slot)]);
}

template <class Real>
void FemRollout<Real>::add_loss_gradient(int step) {
  if (loss_reads(step) && options_.loss_gradient) options_.loss_gradient(step, world_, adj_.x, adj_.v);
}

template <class Real>
void FemRollout<Real>::seed_final(int steps) {
  adj_ = world_.zero_state_adjoint();
  grads_ = world_.zero_gradients();
  world_.begin_tool_adjoint(first_step_, first_step_ + steps);  // issue 6 (fem_tool)
  add_loss_gradient(steps);
}

template <class Real>
void FemRollout<Real>::adjoint(int step) {
  world_.adjoint_step(adj_, grads_);
  add_loss_gradient(step);
}

template <class Real>
FemRolloutGradients<Real> FemRollout<Real>::backward() {
  if (!forward_done_) throw InputError("fem rollout: backward() needs a forward() first (each forward allows one backward)");
  schedule_->run_backward(*this);
  forward_done_ = false;
  FemRolloutGradients<Real> g;
  g.x0 = std::move(adj_.x);
  g.v0 = std::move(adj_.v);
  g.term_state0 = std::move(adj_.term_state);
  g.tools = world_.end_tool_adjoint();  // issue 6 (fem_tool)
  world_.finish_density_gradients(grads_);
  g.parameters = std::move(grads_);
  slots_.clear();
  return g;
}

template class FemRollout<float>;
template class FemRollout<double>;

}  // namespace pl::fem
