// Pieces every evaluation path shares (the MPM path in evaluate.cpp, the
// coupled MPM + FEM path in evaluate_coupled.cpp): which frames are read and
// written, the particle outputs of one frame, a failed candidate, and the
// chain rule from physical control values back to the optimizer's u.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/optim/evaluate.hpp"
#include "engine/optim/objective_terms.hpp"
#include "engine/scene/preview_renderer.hpp"
#include "engine/scene/trajectory_recorder.hpp"

namespace pl::optim {

/// The frames the terms read.
std::set<int> term_frames(const std::vector<std::unique_ptr<ObjectiveTerm>>& terms);
/// The frames `outputs` writes (ply/npz every every_n_frames, previews); empty without outputs.
std::set<int> output_frames(const scene::SceneDesc& scene, const RolloutOutputs* outputs);

/// What writes a rollout's particle outputs (renderer and recorder only when asked for).
struct ParticleOutputWriters {
  std::unique_ptr<scene::PreviewRenderer> preview;
  std::unique_ptr<scene::TrajectoryRecorder> recorder;
  ParticleOutputWriters(const scene::SceneDesc& scene, int dim, const RolloutOutputs* outputs);
  /// frame_NNNNN.ply, the trajectory record and <prefix>NNNNN.png of one frame, as `outputs` asks.
  template <class Real, int D>
  void write(const scene::SceneDesc& scene, int frame, const ParticleSet<Real, D>& s, RolloutOutputs& outputs);
  /// trajectory.npz of the recorded frames (when recording).
  void finish(RolloutOutputs& outputs);
};

/// The terms on the controls themselves (smoothness): adds weight x value into
/// e.loss and term_loss[name], and weight x dvalue/dp into dL_dp.
void add_control_terms(const std::vector<std::unique_ptr<ObjectiveTerm>>& terms, const std::vector<double>& p,
                       bool gradient, Evaluation& e, std::map<std::string, double>& term_loss,
                       std::vector<double>& dL_dp);
/// e.metrics: "loss.<term>" of term_loss and the "<term>.<metric>" entries of term_metric.
void set_metrics(Evaluation& e, const std::map<std::string, double>& term_loss,
                 const std::map<std::string, double>& term_metric);

/// An Evaluation of a candidate the simulation cannot run: ok = false, loss = +inf.
Evaluation failed_evaluation(const std::string& why);

/// dL/du = dL/dp dp/du through the layout's map; 0 where u is outside [0, 1] (the map clamps there).
std::vector<double> unit_gradient(const ControlLayout& layout, const std::vector<double>& u,
                                  const std::vector<double>& dL_dp);

}  // namespace pl::optim
