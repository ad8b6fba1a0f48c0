// `pliant optimize` as a library call: the optimization loop with its outputs,
// checkpoints and resume.
//
// Usage:
//   auto scene = pl::scene::load_scene("scenes/throw_opt_2d.yaml");
//   pl::optim::OptimizeOptions opt;
//   opt.out_dir = "out/throw";  opt.threads = 2;
//   opt.on_iteration = [](const pl::optim::IterationRecord& r, double s) { ... };
//   pl::optim::OptimizeResult res = pl::optim::optimize_scene(scene, opt);
//
// Output directory:
//   log.jsonl               one JSON object per iteration: iteration, phase, loss,
//                           best_loss, grad_norm, sigma, evaluations, failed,
//                           seconds, elapsed_s, controls (physical values), metrics
//   state.json              everything needed to continue: optimizer state (RNG
//                           included), iteration, log length, initial loss; written
//                           atomically after every iteration
//   loss_curve.png          loss and best loss per iteration (loss_curve.hpp)
//   best_controls.npz       the best controls: one array per control (physical
//                           values; actuation (segments, dim)), `u` (the [0, 1]
//                           variables) and `loss`
//   best_scene.yaml         the scene with the best controls as `init`: `pliant run`
//                           on it reproduces the best loss (replay_scene.hpp)
//   preview_initial_NNNNN.png, preview_best_NNNNN.png   four frames of the initial
//                           and of the best rollout
//   summary.json            initial/best loss, iterations, stop reason, wall time
//
// Resume: with `resume`, a state.json in the directory (from a run killed at
// any moment, kill -9 included) is loaded, log.jsonl is cut back to the
// iterations the state covers, and the loop continues: no iteration is lost or
// repeated, and since evaluations are deterministic (for a fixed thread count)
// the result equals an uninterrupted run's.  The state must come from the same
// scene text and the same overrides (optimizer.iterations may differ, so that a
// finished run can be extended).  Without `resume`, earlier outputs in the
// directory are deleted first.
//
// Threads: `threads` CPU threads in all.  Adam evaluates one rollout on all of
// them; CMA-ES evaluates min(threads, population) candidates at once, each its
// own world on threads / that many threads.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/optim/optimizer.hpp"
#include "engine/optim/population_evaluate.hpp"  // issue 10
#include "engine/scene/scene_desc.hpp"

namespace pl::optim {

struct OptimizeOptions {
  std::string out_dir;             // "" = scene.output.dir
  bool resume = false;
  int threads = 0;                 // 0 = all cores
  std::vector<std::string> sets;   // the --set overrides the scene was loaded with (for best_scene.yaml)
  bool previews = true;
  std::function<void(const std::string&)> on_message;
  std::function<void(const IterationRecord&, double seconds)> on_iteration;
  // --- issue 10 (population executors): when set, every evaluation of the
  // loop (CMA-ES generations, hybrid populations, Adam/refine steps) goes to
  // this function instead of the internal thread pool, e.g. a Ray cluster via
  // the Python executors (python/pliant/executors.py).  It gets the points,
  // the optimizer seed and whether gradients are needed, and must return one
  // Evaluation per point, in order.  The initial and best-rollout previews
  // still run here.  `threads` then only sets those local rollouts.
  PopulationEvaluate evaluate_population;
  // --- end issue 10
};

struct OptimizeResult {
  std::string out_dir;
  int iterations = 0;        // completed, in all (resumed ones included)
  int resumed_from = -1;     // iterations found in state.json, -1 for a fresh run
  double initial_loss = 0;   // at the scene's initial controls
  double best_loss = 0;
  std::vector<double> best_controls;  // physical values
  std::map<std::string, double> best_metrics;
  std::string stop_reason;
  double wall_time_s = 0;    // this process
};

OptimizeResult optimize_scene(const scene::SceneDesc& scene, const OptimizeOptions& options);

/// Evaluates the scene's objective at its controls' `init` values and writes
/// the run's outputs (frames as `pliant run` would, objective.json): what
/// `pliant run` does for a scene with controls.
struct ReplayResult {
  Evaluation evaluation;
  std::string out_dir;
  std::vector<std::string> files;
  double wall_time_s = 0;
};
ReplayResult replay_scene(const scene::SceneDesc& scene, const std::string& out_dir);

}  // namespace pl::optim
