// Which states to keep and which to recompute when reversing a rollout.
//
// Reversing T substeps needs the state s_n before each adjoint step n, in the
// order T-1, ..., 0.  Storing all T+1 states is what makes other engines' backward
// passes blow up memory; instead we keep at most `slots` states and recompute
// the rest from the nearest stored one.
//
// Schedule: binomial checkpointing (Griewank 1992; Griewank & Walther 2000,
// "Algorithm 799: revolve").  With s free slots and r allowed recomputations of
// each step, at most beta(s, r) = C(s + r, s) steps can be reversed, and
// beta(s, r) = beta(s - 1, r) + beta(s, r - 1) gives the recursion used here:
//   reverse(a, b, s):  advance a -> m, store s_m, reverse(m, b, s - 1),
//                      release s_m, reverse(a, m, s)
// with m = b - beta(s - 1, r) for the smallest r such that beta(s, r) >= b - a.
// The forward pass already performs the advances along the right spine of that
// recursion (as revolve does), so it stores the first checkpoints for free.
// With slots >= T every state is stored and nothing is recomputed; with one
// slot (only s_0) each step is recomputed from s_0 (quadratic, but it fits).
#pragma once

#include <cstdint>
#include <vector>

namespace pl {

/// What the schedule drives.  Implemented by the rollout (engine/diff/mpm_rollout.*)
/// and by a recording mock in the tests.
class ReverseMachine {
 public:
  virtual ~ReverseMachine() = default;
  /// The current state is s_from; advance it to s_to (to > from).  `recompute`
  /// is false during the forward pass (observers run) and true in the backward pass.
  virtual void advance(int from, int to, bool recompute) = 0;
  /// Copy the current state into checkpoint slot `slot` (0 <= slot < slots).
  virtual void store(int slot) = 0;
  /// Make the state in checkpoint slot `slot` current.
  virtual void restore(int slot) = 0;
  /// The current state is s_step and the adjoint buffers hold dL/ds_{step+1}:
  /// run the adjoint of substep `step` and add the loss's direct dL/ds_step.
  virtual void adjoint(int step) = 0;
  /// Add the loss's direct dL/ds_T (the current state is s_T).
  virtual void seed_final(int steps) = 0;
};

class CheckpointSchedule {
 public:
  /// `slots` >= 1 states may be stored at once (slot 0 holds s_0).
  CheckpointSchedule(int steps, int slots);

  /// From s_0 (current) to s_T (current), storing the spine checkpoints.
  void run_forward(ReverseMachine& machine);
  /// From s_T: seeds dL/ds_T, then reverses every step down to 0.  Requires run_forward first.
  void run_backward(ReverseMachine& machine);

  int steps() const { return steps_; }
  int slots() const { return slots_; }
  /// Substeps advanced in the forward pass (= steps) and recomputed in the backward pass.
  long forward_substeps() const { return forward_substeps_; }
  long recomputed_substeps() const { return recomputed_substeps_; }
  /// Largest number of slots in use at once.
  int peak_slots() const { return peak_slots_; }
  /// (forward + recomputed) / forward: how many times each step is run on average.
  double recompute_factor() const;

  /// beta(s, r) = C(s + r, s), saturating at INT64_MAX.
  static std::int64_t binomial_capacity(int s, int r);

 private:
  struct Spine {
    int position;
    int slot;
  };
  int split(int a, int b, int free_slots) const;
  void reverse(ReverseMachine& machine, int a, int slot_a, int b, int free_slots);
  int acquire_slot();
  void release_slot(int slot);

  int steps_;
  int slots_;
  std::vector<Spine> spine_;
  std::vector<bool> slot_in_use_;
  int slots_in_use_ = 0;
  int peak_slots_ = 0;
  long forward_substeps_ = 0;
  long recomputed_substeps_ = 0;
  bool forward_done_ = false;
};

}  // namespace pl
