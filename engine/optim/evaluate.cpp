#include "engine/optim/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "engine/core/error.hpp"
#include "engine/diff/mpm_rollout.hpp"
#include "engine/optim/evaluate_fem.hpp"  // issue 7 (opt_fold): FEM-only scenes
#include "engine/optim/evaluate_coupled.hpp"  // issue 7 (opt_grasp): coupled MPM + FEM scenes
#include "engine/optim/evaluation_parts.hpp"
#include "engine/optim/objective_terms.hpp"
#include "engine/optim/tool_controls.hpp"  // issue 7 (opt_tools)
#include "engine/render/png_writer.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/frame_output.hpp"
#include "engine/scene/preview_renderer.hpp"
#include "engine/scene/trajectory_recorder.hpp"

namespace pl::optim {

Problem::Problem(const scene::SceneDesc& scene) : scene_(scene), layout_(scene.optimization.controls) {
  const auto& o = scene.optimization;
  if (o.controls.empty() || o.objective.empty())
    throw InputError(scene.path + ": the scene has no controls or no objective; `pliant optimize` needs the "
                                  "sections controls, objective and optimizer (docs/scene_format.md, Optimization)");
  for (const auto& t : o.objective) terms_.push_back(make_term(t, scene, layout_));
  // issue 7 (opt_grasp): coupled MPM + FEM scenes have their own evaluation (evaluate_coupled.hpp)
  if (uses_coupled_evaluation(scene_)) check_coupled_problem(scene_, terms_);
  else check_fem_problem(scene_, terms_);  // issue 7 (opt_fold): FEM kinds only on FEM-only scenes, and vice versa
}

Problem::~Problem() = default;

namespace {

/// The particles of body b (indices), from the world's body table.
std::vector<std::size_t> body_particles(const std::vector<BodyInfo>& bodies, int b) {
  std::vector<std::size_t> idx;
  const BodyInfo& info = bodies[std::size_t(b)];
  for (std::size_t i = 0; i < info.count; ++i) idx.push_back(info.first + i);
  return idx;
}

}  // namespace

template <class Real, int D>
Evaluation Problem::run(const std::vector<double>& u, bool gradient, RolloutOutputs* outputs) const {
  const auto& controls = layout_.controls();
  const std::vector<double> p = layout_.to_physical(u);
  const int spf = scene_.simulation.substeps_per_frame;
  const int steps = scene_.simulation.frames * spf;
  Evaluation e;

  // issue 7 (opt_tools): tool controls rewrite the tools section before the
  // world is built; a candidate whose waypoints break a tool's speed limit fails.
  std::unique_ptr<MpmWorld<Real, D>> world;
  if (has_tool_controls(layout_)) {
    scene::SceneDesc moved = scene_;
    apply_tool_controls(layout_, p, moved);
    try {
      world = scene::build_world<Real, D>(moved);
    } catch (const InputError& err) {
      return failed_evaluation(err.what());
    }
  } else {
    world = scene::build_world<Real, D>(scene_);
  }
  // Controls that set the initial world: material values first (they change
  // particle masses), then initial velocities.
  for (std::size_t c = 0; c < controls.size(); ++c) {
    const auto& d = controls[c];
    if (d.kind != "material") continue;
    materials::MaterialDesc m = world->materials()[std::size_t(d.material_index)];
    const double v = p[std::size_t(layout_.offset(int(c)))];
    if (d.parameter_index < 0) m.density = v;
    else m.params[std::size_t(d.parameter_index)] = v;
    world->set_material(d.material_index, m);
  }
  std::vector<std::vector<std::size_t>> members(controls.size());
  {
    ParticleSet<Real, D> state = world->particles();
    bool changed = false;
    for (std::size_t c = 0; c < controls.size(); ++c) {
      const auto& d = controls[c];
      if (d.body_index >= 0) members[c] = body_particles(world->bodies(), d.body_index);
      if (d.kind != "initial_velocity") continue;
      for (std::size_t i : members[c])
        for (int a = 0; a < D; ++a) state.v[i][a] = Real(p[std::size_t(layout_.offset(int(c)) + a)]);
      changed = true;
    }
    if (changed) world->set_particles(state);
  }
  try {
    world->check_stability();
  } catch (const InputError& err) {
    return failed_evaluation(err.what());
  }

  // Which frames are read: by the terms, and by the outputs (evaluation_parts.hpp).
  const std::set<int> read_frames = term_frames(terms_), output_frames = optim::output_frames(scene_, outputs);
  ParticleOutputWriters writers(scene_, D, outputs);

  std::map<std::string, double> term_loss, term_metric;
  std::map<int, std::vector<double>> state_grad;  // step -> dL/dx (n * D), weighted
  std::vector<double> x, mass;
  std::vector<int> body;
  RolloutOptions<Real, D> opt;
  opt.steps = steps;
  opt.loss_reads_step = [&](int step) {
    if (step % spf) return false;
    return read_frames.count(step / spf) > 0 || output_frames.count(step / spf) > 0;
  };
  opt.on_state = [&](int step, const ParticleSet<Real, D>& s) {
    const int frame = step / spf;
    if (output_frames.count(frame)) writers.write(scene_, frame, s, *outputs);
    if (!read_frames.count(frame)) return;
    const std::size_t n = s.size();
    x.resize(n * D), mass.resize(n), body.assign(s.body.begin(), s.body.end());
    for (std::size_t i = 0; i < n; ++i) {
      mass[i] = double(s.mass[i]);
      for (int a = 0; a < D; ++a) x[i * D + std::size_t(a)] = double(s.x[i][a]);
    }
    StateView view{D, n, x.data(), mass.data(), body.data(), frame};
    std::vector<double> g;
    if (gradient) g.assign(n * D, 0.0);
    for (const auto& t : terms_) {
      const auto fr = t->frames();
      if (!std::count(fr.begin(), fr.end(), frame)) continue;
      std::vector<double> gt;
      if (gradient) gt.assign(n * D, 0.0);
      double metric = 0;
      const double v = t->state_value(view, gradient ? gt.data() : nullptr, &metric);
      const double w = t->desc().weight;
      e.loss += w * v;
      term_loss[t->desc().name] += w * v;
      if (!t->metric_name().empty()) term_metric[t->desc().name + "." + t->metric_name()] = metric;
      if (gradient)
        for (std::size_t k = 0; k < g.size(); ++k) g[k] += w * gt[k];
    }
    if (gradient) state_grad[step] = std::move(g);
  };
  opt.loss_gradient = [&](int step, const ParticleSet<Real, D>&, ParticleAdjoint<Real, D>& adj) {
    const auto it = state_grad.find(step);
    if (it == state_grad.end()) return;
    for (std::size_t i = 0; i < adj.size(); ++i)
      for (int a = 0; a < D; ++a) adj.x[i][a] += Real(it->second[i * D + std::size_t(a)]);
  };
  // Actuation: control c's piece k = step * segments / steps acts as a total
  // force F_k [N] spread evenly over the body's particles, f_p = F_k / n_body;
  // so dL/dF_k = sum over the piece's steps and the body's particles of dL/df_p / n_body.
  std::vector<double> dL_dp(p.size(), 0.0);
  bool any_actuation = false;
  for (const auto& d : controls) any_actuation = any_actuation || d.kind == "actuation";
  const auto piece = [steps](int step, int segments) { return int((long long)step * segments / std::max(steps, 1)); };
  if (any_actuation) {
    opt.forces = [&](int step, std::vector<Vec<Real, D>>& f) {
      for (std::size_t c = 0; c < controls.size(); ++c) {
        if (controls[c].kind != "actuation") continue;
        const std::size_t base = std::size_t(layout_.offset(int(c)) + piece(step, controls[c].segments) * D);
        const double share = 1.0 / double(members[c].size());
        for (std::size_t i : members[c])
          for (int a = 0; a < D; ++a) f[i][a] += Real(p[base + std::size_t(a)] * share);
      }
    };
    if (gradient)
      opt.force_gradient = [&](int step, const std::vector<Vec<Real, D>>& g) {
        for (std::size_t c = 0; c < controls.size(); ++c) {
          if (controls[c].kind != "actuation") continue;
          const std::size_t base = std::size_t(layout_.offset(int(c)) + piece(step, controls[c].segments) * D);
          const double share = 1.0 / double(members[c].size());
          for (std::size_t i : members[c])
            for (int a = 0; a < D; ++a) dL_dp[base + std::size_t(a)] += double(g[i][a]) * share;
        }
      };
  }

  // issue 6: terms on tool reactions (tool_force) are evaluated after the
  // forward pass; their gradients seed the backward pass per substep.
  std::vector<std::vector<ToolReaction>> reaction_grad(world->tools().size());
  if (gradient)
    opt.reaction_gradient = [&](int step, int k, ToolReaction& g) {
      const auto& rg = reaction_grad[std::size_t(k)];
      if (std::size_t(step) >= rg.size()) return;
      for (int a = 0; a < 3; ++a) g.force[a] += rg[std::size_t(step)].force[a], g.torque[a] += rg[std::size_t(step)].torque[a];
    };

  MpmRollout<Real, D> rollout(*world, opt);
  try {
    rollout.forward();
  } catch (const SimulationError& err) {
    return failed_evaluation(err.what());
  }
  if (outputs) writers.finish(*outputs);
  for (const auto& t : terms_) {  // issue 6: terms on tool reactions
    const int k = t->reaction_tool();
    if (k < 0 || std::size_t(k) >= world->tool_reactions().size()) continue;
    const double w = t->desc().weight;
    std::vector<ToolReaction> gk;
    double metric = 0;
    const double v = t->reaction_value(world->tool_reactions()[std::size_t(k)], gradient ? &gk : nullptr, &metric);
    e.loss += w * v;
    term_loss[t->desc().name] += w * v;
    term_metric[t->desc().name + "." + t->metric_name()] = metric;
    auto& acc = reaction_grad[std::size_t(k)];
    if (acc.size() < gk.size()) acc.resize(gk.size());
    for (std::size_t n = 0; n < gk.size(); ++n)
      for (int a = 0; a < 3; ++a) acc[n].force[a] += w * gk[n].force[a], acc[n].torque[a] += w * gk[n].torque[a];
  }
  // Terms on the controls themselves (smoothness).
  add_control_terms(terms_, p, gradient, e, term_loss, dL_dp);
  set_metrics(e, term_loss, term_metric);
  if (!gradient) return e;

  RolloutGradients<Real, D> g;
  try {
    g = rollout.backward();
  } catch (const SimulationError& err) {
    return failed_evaluation(err.what());
  }
  for (std::size_t c = 0; c < controls.size(); ++c) {
    const auto& d = controls[c];
    const std::size_t o = std::size_t(layout_.offset(int(c)));
    if (d.kind == "initial_velocity") {
      for (std::size_t i : members[c])
        for (int a = 0; a < D; ++a) dL_dp[o + std::size_t(a)] += double(g.initial_state.v[i][a]);
    } else if (d.kind == "material") {
      dL_dp[o] += d.parameter_index < 0 ? g.density[std::size_t(d.material_index)]
                                        : double(g.parameters.per_material[std::size_t(d.material_index)]
                                                                          [std::size_t(d.parameter_index)]);
    }
  }
  add_tool_control_gradients<D>(layout_, scene_, p, g.tools, dL_dp);  // issue 7 (opt_tools)
  e.gradient = unit_gradient(layout_, u, dL_dp);  // 0 outside [0, 1], where the map clamps
  return e;
}

Evaluation Problem::evaluate(const std::vector<double>& u, std::uint64_t /*seed*/, bool gradient,
                             RolloutOutputs* outputs) const {
  if (int(u.size()) != layout_.size())
    throw InputError(scene_.path + ": evaluate: expected " + std::to_string(layout_.size()) + " parameters, got " +
                     std::to_string(u.size()));
  if (uses_fem_evaluation(scene_)) return evaluate_fem(scene_, layout_, terms_, u, gradient, outputs);  // issue 7 (opt_fold)
  if (uses_coupled_evaluation(scene_)) return evaluate_coupled(scene_, layout_, terms_, u, gradient, outputs);  // issue 7 (opt_grasp)
  const bool dbl = scene_.simulation.precision == scene::Precision::Double;
  if (scene_.simulation.dim == 2) return dbl ? run<double, 2>(u, gradient, outputs) : run<float, 2>(u, gradient, outputs);
  return dbl ? run<double, 3>(u, gradient, outputs) : run<float, 3>(u, gradient, outputs);
}

Evaluation evaluate(const scene::SceneDesc& scene, const std::vector<double>& parameters, std::uint64_t seed,
                    bool gradient) {
  return Problem(scene).evaluate(parameters, seed, gradient);
}

}  // namespace pl::optim
