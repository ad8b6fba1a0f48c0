// The optimizer loop, one iteration at a time, with its whole state savable
// as JSON so that a run killed between iterations resumes exactly.
//
// Methods (optimizer.method in the scene):
//  - adam:   one gradient evaluation and one Adam step per iteration (adam.hpp).
//  - cmaes:  one CMA-ES generation per iteration (cmaes.hpp); the population is
//            evaluated as one batch (in parallel by the caller), no gradients.
//  - hybrid: cmaes_iterations CMA-ES generations explore; the refine_candidates
//            best distinct points they evaluated are then each refined by
//            refine_iterations Adam steps (the sampling-then-gradient scheme
//            that the ThinShellLab and UBSoft papers found necessary for
//            contact-rich tasks, where gradients alone stall in local minima).
// The `iterations` cap counts every iteration of every phase.
//
// Stopping: the iteration cap; best loss <= target_loss; the best loss improved
// by less than rel_tolerance (relative) over the last `patience` iterations;
// Adam's gradient norm below grad_tolerance; hybrid: every candidate refined.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/optim/adam.hpp"
#include "engine/optim/cmaes.hpp"
#include "engine/optim/evaluate.hpp"
#include "engine/scene/optimize_desc.hpp"

namespace pl::optim {

struct IterationRecord {
  int iteration = 0;                 // 0-based
  std::string phase;                 // adam | cmaes | refine
  double loss = 0;                   // of the point this iteration evaluated (cmaes: its best candidate)
  double best_loss = 0;              // best so far, this iteration included
  double grad_norm = std::numeric_limits<double>::quiet_NaN();  // adam / refine
  double sigma = std::numeric_limits<double>::quiet_NaN();      // cmaes
  int evaluations = 0;
  int failed = 0;                    // candidates whose rollout failed
  std::vector<double> u;             // the point of `loss`
  std::map<std::string, double> metrics;
};

/// Evaluates points (each in [0, 1]^n, maybe outside for CMA-ES: the caller
/// clamps through the controls' map), with gradients when asked.
using BatchEvaluate = std::function<std::vector<Evaluation>(const std::vector<std::vector<double>>& points, bool gradient)>;

class Optimizer {
 public:
  Optimizer(const scene::OptimizerDesc& desc, const std::vector<double>& u0);

  /// Runs one iteration.  Throws SimulationError when Adam's rollout fails
  /// (CMA-ES ranks a failed candidate last instead).
  IterationRecord iterate(const BatchEvaluate& evaluate);
  /// Whether a stopping criterion holds; stop_reason() says which.
  bool done() const;
  std::string stop_reason() const;

  int iteration() const { return iteration_; }
  double best_loss() const { return best_loss_; }
  const std::vector<double>& best_u() const { return best_u_; }
  const std::map<std::string, double>& best_metrics() const { return best_metrics_; }

  std::string save() const;                 // JSON text: everything, RNG included
  void load(const std::string& json_text);  // throws InputError when it does not fit this problem

 private:
  IterationRecord adam_iteration(const BatchEvaluate& evaluate, const std::string& phase);
  IterationRecord cmaes_iteration(const BatchEvaluate& evaluate);
  void consider(double loss, const std::vector<double>& u, const std::map<std::string, double>& metrics);
  void remember_candidate(double loss, const std::vector<double>& u);
  void start_refinement();

  scene::OptimizerDesc desc_;
  int n_;
  AdamSettings adam_settings_;
  AdamState adam_;
  std::unique_ptr<Cmaes> cmaes_;
  int iteration_ = 0;
  double best_loss_ = std::numeric_limits<double>::infinity();
  std::vector<double> best_u_;
  std::map<std::string, double> best_metrics_;
  std::vector<double> best_history_;  // best loss after each iteration
  double last_grad_norm_ = std::numeric_limits<double>::quiet_NaN();
  // hybrid
  std::string phase_;                                    // adam | cmaes | refine | done
  std::vector<std::pair<double, std::vector<double>>> top_;  // best distinct CMA-ES points, ascending
  int refine_index_ = 0, refine_step_ = 0;
};

}  // namespace pl::optim
