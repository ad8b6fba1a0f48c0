#include "engine/diff/checkpoint_schedule.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>

#include "engine/core/error.hpp"

namespace pl {

CheckpointSchedule::CheckpointSchedule(int steps, int slots) : steps_(steps), slots_(slots) {
  if (steps < 0) throw InputError("checkpointing: the number of steps must be >= 0, got " + std::to_string(steps));
  if (slots < 1)
    throw InputError("checkpointing: at least one checkpoint (the initial state) is needed, got " +
                     std::to_string(slots));
  slot_in_use_.assign(std::size_t(slots), false);
}

std::int64_t CheckpointSchedule::binomial_capacity(int s, int r) {
  // C(s + r, s) computed incrementally: C(s + k, k) for k = 1..r.
  const std::int64_t cap = std::numeric_limits<std::int64_t>::max();
  std::int64_t c = 1;
  for (int k = 1; k <= r; ++k) {
    // c = C(s + k - 1, k - 1) -> C(s + k, k) = c * (s + k) / k (exact at each step)
    if (c > cap / (s + k)) return cap;
    c = c * (s + k) / k;
  }
  return c;
}

int CheckpointSchedule::split(int a, int b, int free_slots) const {
  const int n = b - a;
  assert(n >= 2 && free_slots >= 1);
  int r = 1;
  while (binomial_capacity(free_slots, r) < n) ++r;
  // Advance so that the part after m can be reversed with one slot fewer and r repeats.
  const std::int64_t right = binomial_capacity(free_slots - 1, r);
  const std::int64_t m = std::max<std::int64_t>(1, std::int64_t(n) - std::min<std::int64_t>(right, n - 1));
  return a + int(m);
}

int CheckpointSchedule::acquire_slot() {
  for (int s = 0; s < slots_; ++s)
    if (!slot_in_use_[std::size_t(s)]) {
      slot_in_use_[std::size_t(s)] = true;
      peak_slots_ = std::max(peak_slots_, ++slots_in_use_);
      return s;
    }
  throw std::logic_error("checkpoint schedule: no free slot (bug)");
}

void CheckpointSchedule::release_slot(int slot) {
  slot_in_use_[std::size_t(slot)] = false;
  --slots_in_use_;
}

void CheckpointSchedule::run_forward(ReverseMachine& machine) {
  spine_.clear();
  std::fill(slot_in_use_.begin(), slot_in_use_.end(), false);
  slots_in_use_ = 0;
  forward_substeps_ = recomputed_substeps_ = 0;
  int a = 0;
  int slot = acquire_slot();
  machine.store(slot);
  spine_.push_back({a, slot});
  while (steps_ - a >= 2 && slots_ - slots_in_use_ >= 1) {
    const int m = split(a, steps_, slots_ - slots_in_use_);
    machine.advance(a, m, false);
    forward_substeps_ += m - a;
    slot = acquire_slot();
    machine.store(slot);
    spine_.push_back({m, slot});
    a = m;
  }
  if (steps_ > a) {
    machine.advance(a, steps_, false);
    forward_substeps_ += steps_ - a;
  }
  forward_done_ = true;
}

void CheckpointSchedule::run_backward(ReverseMachine& machine) {
  if (!forward_done_) throw std::logic_error("checkpoint schedule: run_forward must come before run_backward");
  machine.seed_final(steps_);
  int b = steps_;
  for (int k = int(spine_.size()) - 1; k >= 0; --k) {
    const Spine sp = spine_[std::size_t(k)];
    if (b > sp.position) reverse(machine, sp.position, sp.slot, b, slots_ - slots_in_use_);
    release_slot(sp.slot);
    b = sp.position;
  }
  forward_done_ = false;  // the spine checkpoints are consumed
}

void CheckpointSchedule::reverse(ReverseMachine& machine, int a, int slot_a, int b, int free_slots) {
  if (b - a == 1) {
    machine.restore(slot_a);
    machine.adjoint(a);
    return;
  }
  if (free_slots == 0) {
    // No room for another checkpoint: recompute each step from s_a.
    for (int i = b - 1; i >= a; --i) {
      machine.restore(slot_a);
      if (i > a) {
        machine.advance(a, i, true);
        recomputed_substeps_ += i - a;
      }
      machine.adjoint(i);
    }
    return;
  }
  const int m = split(a, b, free_slots);
  machine.restore(slot_a);
  machine.advance(a, m, true);
  recomputed_substeps_ += m - a;
  const int slot_m = acquire_slot();
  machine.store(slot_m);
  reverse(machine, m, slot_m, b, free_slots - 1);
  release_slot(slot_m);
  reverse(machine, a, slot_a, m, free_slots);
}

double CheckpointSchedule::recompute_factor() const {
  if (forward_substeps_ == 0) return 1.0;
  return double(forward_substeps_ + recomputed_substeps_) / double(forward_substeps_);
}

}  // namespace pl
