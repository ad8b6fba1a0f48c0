#include "engine/diff/mpm_rollout.hpp"

#include <cmath>
#include <iostream>
#include <sstream>

#include "engine/core/error.hpp"
#include "materials/model_list.hpp"

namespace pl {

std::string RolloutReport::summary() const {
  std::ostringstream os;
  os.precision(3);
  os << steps << " steps, " << peak_checkpoints << " of " << checkpoints << " checkpoints used ("
     << double(checkpoint_bytes) / (1 << 20) << " MiB, " << bytes_per_state << " B per state), "
     << recomputed_substeps << " substeps recomputed (recompute factor " << recompute_factor << ")";
  if (nonfinite_zeroed_steps > 0) os << ", non-finite adjoints zeroed in " << nonfinite_zeroed_steps << " steps";
  return os.str();
}

template <class Real, int D>
int checkpoint_slots(const RolloutOptions<Real, D>& options, std::size_t bytes_per_state) {
  const long all = long(options.steps) + 1;
  long slots;
  if (options.checkpoint_bytes > 0) {
    slots = long(options.checkpoint_bytes / std::max<std::size_t>(bytes_per_state, 1));
    if (slots < 1) {
      std::ostringstream os;
      os << "rollout: checkpoint_bytes = " << options.checkpoint_bytes << " is smaller than one stored state ("
         << bytes_per_state << " bytes for this world); give at least that much";
      throw InputError(os.str());
    }
  } else if (options.checkpoints > 0) {
    slots = options.checkpoints;
  } else {
    slots = long(std::ceil(2.0 * std::sqrt(double(options.steps)))) + 1;
  }
  return int(std::max(1L, std::min(slots, all)));
}

template <class Real, int D>
MpmRollout<Real, D>::MpmRollout(MpmWorld<Real, D>& world, RolloutOptions<Real, D> options)
    : world_(world), options_(std::move(options)) {
  if (options_.steps < 0) throw InputError("rollout: steps must be >= 0, got " + std::to_string(options_.steps));
  if (options_.checkpoints < 0) throw InputError("rollout: checkpoints must be >= 0");
  // Refuse models whose adjoints do not exist rather than return a wrong gradient.
  for (const auto& m : world_.materials()) {
    bool has_adjoint = false;
    materials::visit_model(m.model_id, [&](auto model) { has_adjoint = decltype(model)::kHasAdjoint; });
    if (!has_adjoint)
      throw InputError("rollout: material '" + m.label + "' uses model '" + m.model_name +
                       "', which has no adjoint yet: gradients through it are not available");
  }
}

template <class Real, int D>
bool MpmRollout<Real, D>::loss_reads(int step) const {
  return options_.loss_reads_step ? options_.loss_reads_step(step) : step == options_.steps;
}

template <class Real, int D>
void MpmRollout<Real, D>::apply_forces(int step) {
  if (!options_.forces) return;
  forces_.assign(world_.num_particles(), Vec<Real, D>::zero());
  options_.forces(step, forces_);
  if (forces_.size() != world_.num_particles())
    throw InputError("rollout: the forces callback resized the force array at step " + std::to_string(step));
  world_.mpm_backend().set_forces(forces_);
}

template <class Real, int D>
void MpmRollout<Real, D>::forward() {
  world_.check_stability();
  start_step_ = world_.step_count();
  world_.sync_to_backend();
  const int slots = checkpoint_slots(options_, world_.mpm_backend().state_bytes());
  schedule_ = std::make_unique<CheckpointSchedule>(options_.steps, slots);
  world_.mpm_backend().free_states();
  slot_ids_.assign(std::size_t(slots), -1);
  nonfinite_zeroed_steps_ = 0;
  if (loss_reads(0) && options_.on_state) options_.on_state(0, world_.particles());
  schedule_->run_forward(*this);
  world_.backend_advanced(start_step_ + options_.steps);
  forward_done_ = true;
}

template <class Real, int D>
void MpmRollout<Real, D>::advance(int from, int to, bool recompute) {
  const SubstepParams<Real, D> base_params = world_.substep_params();
  for (int step = from; step < to; ++step) {
    apply_forces(step);
    // issue 6: tools move every substep; their reactions are recorded on the first pass only
    const SubstepParams<Real, D> params = world_.tools().empty() ? base_params : world_.substep_params(start_step_ + step);
    const std::uint64_t fault = world_.mpm_backend().substep(params);
    if (!recompute) world_.record_tool_reactions(start_step_ + step);
    world_.backend_advanced(start_step_ + step + 1);
    if (fault != kNoFault) throw SimulationError(world_.describe_fault(fault, start_step_ + step + 1));
    if (!recompute && loss_reads(step + 1) && options_.on_state) options_.on_state(step + 1, world_.particles());
  }
}

template <class Real, int D>
void MpmRollout<Real, D>::store(int slot) {
  int& id = slot_ids_[std::size_t(slot)];
  if (id < 0)
    id = world_.mpm_backend().save_state();
  else
    world_.mpm_backend().save_state(id);
}

template <class Real, int D>
void MpmRollout<Real, D>::restore(int slot) {
  world_.mpm_backend().load_state(slot_ids_[std::size_t(slot)]);
  world_.backend_advanced(world_.step_count());
}

template <class Real, int D>
void MpmRollout<Real, D>::add_loss_gradient(int step) {
  if (!loss_reads(step) || !options_.loss_gradient) return;
  ParticleAdjoint<Real, D> g;
  g.resize(world_.num_particles());
  options_.loss_gradient(step, world_.particles(), g);
  world_.mpm_backend().add_state_adjoint(g);
}

template <class Real, int D>
void MpmRollout<Real, D>::seed_final(int steps) {
  world_.mpm_backend().zero_adjoint();
  add_loss_gradient(steps);
}

template <class Real, int D>
void MpmRollout<Real, D>::adjoint(int step) {
  apply_forces(step);
  SubstepParams<Real, D> params =
      world_.tools().empty() ? world_.substep_params() : world_.substep_params(start_step_ + step);  // issue 6
  seed_reaction_adjoint(step, params);  // issue 6
  const std::uint64_t fault = world_.mpm_backend().adjoint_substep(params);
  check_adjoint(fault, step);
  tool_adjoint_step(step);  // issue 6
  if (options_.force_gradient) {
    std::vector<Vec<Real, D>> adj_f;
    world_.mpm_backend().download_force_adjoint(adj_f);
    options_.force_gradient(step, adj_f);
  }
  add_loss_gradient(step);
}

template <class Real, int D>
void MpmRollout<Real, D>::check_adjoint(std::uint64_t fault, int step) {
  if (fault == kNoFault) return;
  const std::string what = world_.describe_adjoint_fault(fault, start_step_ + step);
  if (!options_.zero_nonfinite_gradients) throw SimulationError(what);
  std::cerr << "warning: " << what << " (zero_nonfinite_gradients is set: zeroing the non-finite entries)\n";
  ParticleAdjoint<Real, D> a;
  world_.mpm_backend().download_state_adjoint(a);
  auto clean = [](auto& values) {
    for (auto& v : values) {
      auto* r = reinterpret_cast<Real*>(&v);
      for (std::size_t k = 0; k < sizeof(v) / sizeof(Real); ++k)
        if (!std::isfinite(double(r[k]))) r[k] = Real(0);
    }
  };
  clean(a.x);
  clean(a.v);
  clean(a.F);
  clean(a.C);
  clean(a.plastic);
  world_.mpm_backend().set_state_adjoint(a);
  ++nonfinite_zeroed_steps_;
}

template <class Real, int D>
RolloutGradients<Real, D> MpmRollout<Real, D>::backward() {
  if (!forward_done_) throw InputError("rollout: backward() needs a forward() first (each forward allows one backward)");
  for (int k = 0; k < int(world_.tools().size()); ++k)  // issue 6
    world_.tool(k).adjoint_begin(start_step_, start_step_ + options_.steps);
  schedule_->run_backward(*this);
  RolloutGradients<Real, D> g;
  for (int k = 0; k < int(world_.tools().size()); ++k) g.tools.push_back(world_.tool(k).adjoint_end());  // issue 6
  world_.mpm_backend().download_state_adjoint(g.initial_state);
  world_.mpm_backend().download_parameter_gradients(g.parameters);
  world_.mpm_backend().free_states();
  slot_ids_.assign(slot_ids_.size(), -1);
  world_.backend_advanced(start_step_);  // the backend holds s_0 again
  const auto& p = world_.particles();
  g.density.assign(world_.materials().size(), 0.0);
  for (std::size_t i = 0; i < p.size() && i < g.parameters.mass.size(); ++i)
    g.density[std::size_t(p.material[i])] += double(g.parameters.mass[i]) * double(p.volume[i]);
  forward_done_ = false;
  return g;
}

// issue 6: hands each tool the gradient block of substep `step` (the trajectory adjoint, engine/coupling/tool.cpp).
template <class Real, int D>
void MpmRollout<Real, D>::tool_adjoint_step(int step) {
  if (world_.tools().empty()) return;
  std::vector<Real> blocks;
  world_.mpm_backend().download_tool_adjoint(blocks);
  constexpr int K = kToolAdjointSize<D>;
  for (int k = 0; k < int(world_.tools().size()); ++k) {
    double block[K];
    for (int e = 0; e < K; ++e) block[e] = std::size_t(k * K + e) < blocks.size() ? double(blocks[std::size_t(k * K + e)]) : 0.0;
    world_.tool(k).adjoint_step(start_step_ + step, block);
  }
}

// issue 6: dL/d(reaction) of each tool in substep `step`, handed to the adjoint grid update (grid_tool_collision.hpp).
template <class Real, int D>
void MpmRollout<Real, D>::seed_reaction_adjoint(int step, SubstepParams<Real, D>& params) const {
  params.tools.has_reaction_adjoint = false;
  if (!options_.reaction_gradient) return;
  for (int k = 0; k < params.tools.count; ++k) {
    ToolReaction g;
    options_.reaction_gradient(step, k, g);
    for (int a = 0; a < 3; ++a) {
      params.tools.reaction_adjoint[k][a] = Real(g.force[a]);
      params.tools.reaction_adjoint[k][3 + a] = Real(g.torque[a]);
      if (g.force[a] != 0 || g.torque[a] != 0) params.tools.has_reaction_adjoint = true;
    }
  }
}

template <class Real, int D>
RolloutReport MpmRollout<Real, D>::report() const {
  RolloutReport r;
  r.steps = options_.steps;
  if (!schedule_) return r;
  r.checkpoints = schedule_->slots();
  r.peak_checkpoints = schedule_->peak_slots();
  r.bytes_per_state = world_.mpm_backend().state_bytes();
  r.checkpoint_bytes = std::size_t(r.peak_checkpoints) * r.bytes_per_state;
  r.forward_substeps = schedule_->forward_substeps();
  r.recomputed_substeps = schedule_->recomputed_substeps();
  r.recompute_factor = schedule_->recompute_factor();
  r.nonfinite_zeroed_steps = nonfinite_zeroed_steps_;
  return r;
}

#define PL_INSTANTIATE_ROLLOUT(Real, D)                                                         \
  template class MpmRollout<Real, D>;                                                           \
  template int checkpoint_slots<Real, D>(const RolloutOptions<Real, D>&, std::size_t);
PL_INSTANTIATE_ROLLOUT(float, 2)
PL_INSTANTIATE_ROLLOUT(float, 3)
PL_INSTANTIATE_ROLLOUT(double, 2)
PL_INSTANTIATE_ROLLOUT(double, 3)
#undef PL_INSTANTIATE_ROLLOUT

}  // namespace pl
