// The checkpoint schedule, driven against a mock machine that tracks which
// state is current: every adjoint step runs exactly once, in reverse order,
// on the right state, within the slot budget, and recomputation matches the
// binomial bound.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/diff/checkpoint_schedule.hpp"

namespace pl {
namespace {

class MockMachine : public ReverseMachine {
 public:
  explicit MockMachine(int slots) : slot_state_(std::size_t(slots), -1) {}
  void advance(int from, int to, bool recompute) override {
    ASSERT_EQ(current_, from);
    ASSERT_GT(to, from);
    if (!recompute) forward_observed_ += to - from;
    current_ = to;
  }
  void store(int slot) override { slot_state_.at(std::size_t(slot)) = current_; }
  void restore(int slot) override {
    ASSERT_GE(slot_state_.at(std::size_t(slot)), 0) << "restoring an empty slot";
    current_ = slot_state_[std::size_t(slot)];
  }
  void adjoint(int step) override {
    ASSERT_EQ(current_, step) << "adjoint of step " << step << " ran on state " << current_;
    adjoint_order_.push_back(step);
  }
  void seed_final(int steps) override {
    ASSERT_EQ(current_, steps);
    seeded_ = true;
  }

  int current_ = 0;
  bool seeded_ = false;
  long forward_observed_ = 0;
  std::vector<int> slot_state_;
  std::vector<int> adjoint_order_;
};

void expect_valid_reversal(int steps, int slots) {
  CheckpointSchedule schedule(steps, slots);
  MockMachine machine(slots);
  schedule.run_forward(machine);
  EXPECT_EQ(machine.current_, steps);
  EXPECT_EQ(machine.forward_observed_, steps) << "the forward pass must visit every step once";
  schedule.run_backward(machine);
  EXPECT_TRUE(machine.seeded_);
  ASSERT_EQ(int(machine.adjoint_order_.size()), steps);
  for (int k = 0; k < steps; ++k) EXPECT_EQ(machine.adjoint_order_[std::size_t(k)], steps - 1 - k);
  EXPECT_LE(schedule.peak_slots(), slots);
  EXPECT_EQ(schedule.forward_substeps(), steps);
}

TEST(CheckpointSchedule, ReversesEveryStepOnceInOrderForManyBudgets) {
  for (int steps : {0, 1, 2, 3, 7, 16, 50, 101})
    for (int slots : {1, 2, 3, 5, 8, 200}) {
      SCOPED_TRACE("steps " + std::to_string(steps) + " slots " + std::to_string(slots));
      expect_valid_reversal(steps, slots);
    }
}

TEST(CheckpointSchedule, EnoughSlotsMeansNoRecomputation) {
  CheckpointSchedule schedule(40, 41);
  MockMachine machine(41);
  schedule.run_forward(machine);
  schedule.run_backward(machine);
  EXPECT_EQ(schedule.recomputed_substeps(), 0);
  EXPECT_DOUBLE_EQ(schedule.recompute_factor(), 1.0);
}

TEST(CheckpointSchedule, RecomputationStaysWithinTheBinomialBound) {
  // With s slots besides s_0 and T <= beta(s, r), each step is advanced at most
  // r + 1 times in total (forward included): Griewank & Walther, Prop. 1.
  for (int slots : {2, 4, 9}) {
    const int s = slots - 1;
    for (int r : {1, 2, 3}) {
      const int steps = int(CheckpointSchedule::binomial_capacity(s, r));
      CheckpointSchedule schedule(steps, slots);
      MockMachine machine(slots);
      schedule.run_forward(machine);
      schedule.run_backward(machine);
      EXPECT_LE(schedule.recompute_factor(), r + 1.0) << "slots " << slots << " r " << r;
    }
  }
  // sqrt(T)-like budgets keep the factor near 2 or 3 for long horizons.
  CheckpointSchedule schedule(512, 24);
  MockMachine machine(24);
  schedule.run_forward(machine);
  schedule.run_backward(machine);
  EXPECT_LT(schedule.recompute_factor(), 3.0);
}

TEST(CheckpointSchedule, BinomialCapacityMatchesPascal) {
  EXPECT_EQ(CheckpointSchedule::binomial_capacity(3, 0), 1);
  EXPECT_EQ(CheckpointSchedule::binomial_capacity(0, 5), 1);
  EXPECT_EQ(CheckpointSchedule::binomial_capacity(2, 3), 10);
  EXPECT_EQ(CheckpointSchedule::binomial_capacity(5, 5), 252);
  EXPECT_EQ(CheckpointSchedule::binomial_capacity(60, 60), std::numeric_limits<std::int64_t>::max());
}

TEST(CheckpointSchedule, BadBudgetsAreInputErrors) {
  EXPECT_THROW(CheckpointSchedule(10, 0), InputError);
  EXPECT_THROW(CheckpointSchedule(-1, 3), InputError);
}

}  // namespace
}  // namespace pl
