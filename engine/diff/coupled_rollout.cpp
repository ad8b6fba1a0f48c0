// CoupledRollout: see the header for the order of the backward substep.
#include "engine/diff/coupled_rollout.hpp"

#include <algorithm>
#include <cmath>

#include "engine/core/error.hpp"

namespace pl {

template <class Real>
CoupledRollout<Real>::CoupledRollout(MpmFemCoupling<Real>& coupling, MpmWorld<Real, 3>& mpm, fem::FemWorld<Real>& fem,
                                     CoupledRolloutOptions<Real> options)
    : coupling_(coupling), mpm_(mpm), fem_(fem), options_(std::move(options)) {
  if (options_.steps < 0) throw InputError("coupled rollout: steps must be >= 0, got " + std::to_string(options_.steps));
  if (options_.checkpoints < 0) throw InputError("coupled rollout: checkpoints must be >= 0");
}

template <class Real>
CoupledRollout<Real>::~CoupledRollout() {
  coupling_.before_adjoint = nullptr;
}

template <class Real>
void CoupledRollout<Real>::forward() {
  mpm_.check_stability();
  start_step_ = mpm_.step_count();
  mpm_.sync_to_backend();
  int slots = options_.checkpoints > 0 ? options_.checkpoints : int(std::ceil(2.0 * std::sqrt(double(options_.steps)))) + 1;
  slots = std::max(1, std::min(slots, options_.steps + 1));
  schedule_ = std::make_unique<CheckpointSchedule>(options_.steps, slots);
  mpm_.mpm_backend().free_states();
  mpm_slots_.assign(std::size_t(slots), -1);
  fem_slots_.assign(std::size_t(slots), FemState{});
  if (loss_reads(0) && options_.on_state) options_.on_state(0, mpm_.particles(), fem_);  // issue 7 (opt_grasp)
  schedule_->run_forward(*this);
  forward_done_ = true;
}

template <class Real>
void CoupledRollout<Real>::advance(int from, int to, bool recompute) {
  const SubstepParams<Real, 3> params = mpm_.substep_params();  // carries the coupling hook
  for (int step = from; step < to; ++step) {
    const std::uint64_t fault = mpm_.mpm_backend().substep(params);
    mpm_.backend_advanced(start_step_ + step + 1);
    if (fault != kNoFault) throw SimulationError(mpm_.describe_fault(fault, start_step_ + step + 1));
    fem_.set_external_forces(coupling_.vertex_forces());
    fem_.step();
    if (!recompute && loss_reads(step + 1) && options_.on_state) options_.on_state(step + 1, mpm_.particles(), fem_);  // issue 7 (opt_grasp)
  }
}

template <class Real>
void CoupledRollout<Real>::store(int slot) {
  int& id = mpm_slots_[std::size_t(slot)];
  if (id < 0)
    id = mpm_.mpm_backend().save_state();
  else
    mpm_.mpm_backend().save_state(id);
  fem_slots_[std::size_t(slot)] = fem_.snapshot();
}

template <class Real>
void CoupledRollout<Real>::restore(int slot) {
  mpm_.mpm_backend().load_state(mpm_slots_[std::size_t(slot)]);
  const FemState& st = fem_slots_[std::size_t(slot)];
  fem_.restore(st);
  mpm_.backend_advanced(start_step_ + (st.step - fem_slots_[0].step));
}

template <class Real>
void CoupledRollout<Real>::seed_final(int /*steps*/) {
  mpm_.mpm_backend().zero_adjoint();
  fem_adj_ = fem_.zero_state_adjoint();
  fem_grads_ = fem_.zero_gradients();
  coupling_.clear_adjoint();
  if (options_.final_loss_gradient) {
    ParticleAdjoint<Real, 3> a;
    a.resize(mpm_.num_particles());
    options_.final_loss_gradient(mpm_.particles(), fem_, a, fem_adj_.x, fem_adj_.v);
    mpm_.mpm_backend().add_state_adjoint(a);
  }
  add_loss_gradient(options_.steps);  // issue 7 (opt_grasp)
  // The FEM adjoint of a substep runs inside the coupling's adjoint, once the
  // recomputed apply() has produced that substep's forces.
  coupling_.before_adjoint = [this] {
    fem_.set_external_forces(coupling_.vertex_forces());
    fem_.adjoint_step(fem_adj_, fem_grads_);
    coupling_.set_force_adjoint(fem_.external_force_adjoint());
  };
}

template <class Real>
void CoupledRollout<Real>::adjoint(int step) {
  const std::uint64_t fault = mpm_.mpm_backend().adjoint_substep(mpm_.substep_params());
  if (fault != kNoFault) throw SimulationError(mpm_.describe_adjoint_fault(fault, start_step_ + step));
  // The coupling's pull-back to the FEM state s_n joins the FEM adjoint.
  for (std::size_t i = 0; i < fem_adj_.x.size(); ++i) {
    fem_adj_.x[i] += coupling_.adj_positions[i];
    fem_adj_.v[i] += coupling_.adj_velocities[i];
  }
  std::fill(coupling_.adj_positions.begin(), coupling_.adj_positions.end(), Real(0));
  std::fill(coupling_.adj_velocities.begin(), coupling_.adj_velocities.end(), Real(0));
  add_loss_gradient(step);  // issue 7 (opt_grasp)
}

// issue 7 (opt_grasp) begin: intermediate-state losses (see the header)
template <class Real>
bool CoupledRollout<Real>::loss_reads(int step) const {
  return options_.loss_reads_step && options_.loss_reads_step(step);
}

template <class Real>
void CoupledRollout<Real>::add_loss_gradient(int step) {
  if (!loss_reads(step) || !options_.loss_gradient) return;
  ParticleAdjoint<Real, 3> a;
  a.resize(mpm_.num_particles());
  options_.loss_gradient(step, mpm_.particles(), a, fem_adj_.x, fem_adj_.v);
  mpm_.mpm_backend().add_state_adjoint(a);
}
// issue 7 (opt_grasp) end

template <class Real>
CoupledRolloutGradients<Real> CoupledRollout<Real>::backward() {
  if (!forward_done_) throw InputError("coupled rollout: backward() needs a forward() first (each forward allows one backward)");
  schedule_->run_backward(*this);
  coupling_.before_adjoint = nullptr;
  CoupledRolloutGradients<Real> g;
  mpm_.mpm_backend().download_state_adjoint(g.particles0);
  mpm_.mpm_backend().download_parameter_gradients(g.mpm_parameters);
  mpm_.mpm_backend().free_states();
  mpm_.backend_advanced(start_step_);
  g.fem_x0 = std::move(fem_adj_.x);
  g.fem_v0 = std::move(fem_adj_.v);
  fem_.finish_density_gradients(fem_grads_);
  g.fem_parameters = std::move(fem_grads_);
  g.stiffness = coupling_.adj_stiffness;
  g.friction = coupling_.adj_friction;
  forward_done_ = false;
  return g;
}

template class CoupledRollout<float>;
template class CoupledRollout<double>;

}  // namespace pl
