#include "engine/optim/evaluation_parts.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "engine/render/png_writer.hpp"
#include "engine/scene/frame_output.hpp"

namespace pl::optim {

std::set<int> term_frames(const std::vector<std::unique_ptr<ObjectiveTerm>>& terms) {
  std::set<int> frames;
  for (const auto& t : terms)
    for (int f : t->frames()) frames.insert(f);
  return frames;
}

std::set<int> output_frames(const scene::SceneDesc& scene, const RolloutOutputs* outputs) {
  std::set<int> frames;
  if (!outputs) return frames;
  for (int f = 0; f <= scene.simulation.frames; ++f)
    if ((outputs->ply || outputs->npz) && f % std::max(1, outputs->every_n_frames) == 0) frames.insert(f);
  for (int f : outputs->preview_frames) frames.insert(f);
  return frames;
}

ParticleOutputWriters::ParticleOutputWriters(const scene::SceneDesc& scene, int dim, const RolloutOutputs* outputs) {
  if (outputs && !outputs->preview_frames.empty()) preview = std::make_unique<scene::PreviewRenderer>(scene);
  if (outputs && outputs->npz) {
    std::vector<std::string> mats, bodies;
    for (const auto& m : scene.materials) mats.push_back(m.label);
    for (const auto& b : scene.bodies) bodies.push_back(b.name);
    recorder = std::make_unique<scene::TrajectoryRecorder>(dim, mats, bodies);
  }
}

template <class Real, int D>
void ParticleOutputWriters::write(const scene::SceneDesc& scene, int frame, const ParticleSet<Real, D>& s,
                                  RolloutOutputs& outputs) {
  namespace fs = std::filesystem;
  const bool every = frame % std::max(1, outputs.every_n_frames) == 0;
  if (outputs.ply && every) {
    const std::string f = (fs::path(outputs.dir) / scene::frame_file_name(frame)).string();
    scene::write_file_atomic(f, scene::encode_ply(s, {"pliant optimize replay", "frame " + std::to_string(frame)}));
    outputs.written.push_back(f);
  }
  if (recorder && every) recorder->record(frame, frame * scene.simulation.frame_duration(), s);
  if (preview && std::count(outputs.preview_frames.begin(), outputs.preview_frames.end(), frame)) {
    char name[32];
    std::snprintf(name, sizeof name, "%05d.png", frame);
    const std::string f = (fs::path(outputs.dir) / (outputs.preview_prefix + name)).string();
    scene::write_file_atomic(f, render::encode_png(preview->render(s)));
    outputs.written.push_back(f);
  }
}

void ParticleOutputWriters::finish(RolloutOutputs& outputs) {
  if (!recorder) return;
  const std::string f = (std::filesystem::path(outputs.dir) / "trajectory.npz").string();
  scene::write_file_atomic(f, recorder->encode());
  outputs.written.push_back(f);
}

void add_control_terms(const std::vector<std::unique_ptr<ObjectiveTerm>>& terms, const std::vector<double>& p,
                       bool gradient, Evaluation& e, std::map<std::string, double>& term_loss,
                       std::vector<double>& dL_dp) {
  std::vector<double> gp;
  for (const auto& t : terms) {
    const double w = t->desc().weight;
    gp.assign(p.size(), 0.0);
    const double v = t->control_value(p, gradient ? gp.data() : nullptr);
    e.loss += w * v;
    term_loss[t->desc().name] += w * v;
    for (std::size_t i = 0; i < p.size(); ++i) dL_dp[i] += w * gp[i];
  }
}

void set_metrics(Evaluation& e, const std::map<std::string, double>& term_loss,
                 const std::map<std::string, double>& term_metric) {
  for (const auto& [k, v] : term_loss) e.metrics["loss." + k] = v;
  for (const auto& [k, v] : term_metric) e.metrics[k] = v;
}

Evaluation failed_evaluation(const std::string& why) {
  Evaluation e;
  e.ok = false;
  e.loss = std::numeric_limits<double>::infinity();
  e.error = why;
  return e;
}

std::vector<double> unit_gradient(const ControlLayout& layout, const std::vector<double>& u,
                                  const std::vector<double>& dL_dp) {
  const std::vector<double> dp_du = layout.dphysical_du(u);
  std::vector<double> g(dL_dp.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    const bool clamped = u[i] < 0 || u[i] > 1;  // the map clamps: u has no effect there
    g[i] = clamped ? 0.0 : dL_dp[i] * dp_du[i];
  }
  return g;
}

template void ParticleOutputWriters::write(const scene::SceneDesc&, int, const ParticleSet<float, 2>&, RolloutOutputs&);
template void ParticleOutputWriters::write(const scene::SceneDesc&, int, const ParticleSet<double, 2>&, RolloutOutputs&);
template void ParticleOutputWriters::write(const scene::SceneDesc&, int, const ParticleSet<float, 3>&, RolloutOutputs&);
template void ParticleOutputWriters::write(const scene::SceneDesc&, int, const ParticleSet<double, 3>&, RolloutOutputs&);

}  // namespace pl::optim
