// The evaluation function of an optimization: ONE function of
// (scene, parameters, seed) -> (loss, gradient, metrics).
//
// Everything an optimizer (or, later, a distributed executor such as Ray)
// needs to score a candidate is in its arguments: the scene (with its
// controls and objective), the parameters u in [0, 1]^n (controls.hpp maps
// them to physical values) and a seed.  Each call builds its own world, so
// calls may run concurrently on different threads; the CPU threads a call
// uses are the calling thread's OpenMP setting (set_cpu_threads).
//
// Usage:
//   const pl::scene::SceneDesc scene = pl::scene::load_scene("scenes/throw_opt_2d.yaml");
//   pl::optim::Problem problem(scene);                       // reads target files once
//   std::vector<double> u = problem.layout().initial_unit();
//   pl::optim::Evaluation e = problem.evaluate(u, /*seed=*/0, /*gradient=*/true);
//   // e.loss, e.gradient (dL/du), e.metrics["loss.land"], e.metrics["land.distance_m"]
// or, in one call: pl::optim::evaluate(scene, u, 0).
//
// The rollout is deterministic (the seed is part of the signature for
// stochastic objectives and domain randomization; today's terms do not draw
// from it), so equal arguments and thread counts give bit-identical results.
//
// A candidate the simulation cannot run (dt unstable for a material value
// tried, a particle leaving the domain, a NaN) is not an error of the
// optimization: the Evaluation has ok = false, loss = +inf and the reason.
// Errors in the scene or its target files are InputErrors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/optim/controls.hpp"
#include "engine/scene/scene_desc.hpp"

namespace pl::optim {

struct Evaluation {
  double loss = 0;
  std::vector<double> gradient;           // dL/du, empty when not asked for
  std::map<std::string, double> metrics;  // "loss.<term>" (weighted), "<term>.<metric>" (at its last frame)
  bool ok = true;
  std::string error;                      // why the candidate failed when !ok
};

/// Files an evaluation may write besides its result (replays, previews).
struct RolloutOutputs {
  std::string dir;
  bool ply = false;                 // frame_NNNNN.ply every `every_n_frames` frames
  bool npz = false;                 // trajectory.npz of the same frames
  int every_n_frames = 1;
  std::vector<int> preview_frames;  // <preview_prefix>NNNNN.png at these frames
  std::string preview_prefix = "preview_";
  std::vector<std::string> written; // filled: the files written
};

class ObjectiveTerm;

class Problem {
 public:
  /// Throws InputError when the scene has no controls/objective or a target file is bad.
  explicit Problem(const scene::SceneDesc& scene);
  ~Problem();
  Problem(const Problem&) = delete;
  Problem& operator=(const Problem&) = delete;

  const scene::SceneDesc& scene() const { return scene_; }
  const ControlLayout& layout() const { return layout_; }
  int dimension() const { return layout_.size(); }

  Evaluation evaluate(const std::vector<double>& u, std::uint64_t seed, bool gradient,
                      RolloutOutputs* outputs = nullptr) const;

 private:
  template <class Real, int D>
  Evaluation run(const std::vector<double>& u, bool gradient, RolloutOutputs* outputs) const;

  scene::SceneDesc scene_;
  ControlLayout layout_;
  std::vector<std::unique_ptr<ObjectiveTerm>> terms_;
};

/// The one function: Problem(scene).evaluate(parameters, seed, gradient).
Evaluation evaluate(const scene::SceneDesc& scene, const std::vector<double>& parameters, std::uint64_t seed,
                    bool gradient = true);

}  // namespace pl::optim
