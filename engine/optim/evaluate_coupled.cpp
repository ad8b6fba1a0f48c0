// Coupled MPM + FEM evaluation: see the header.
#include "engine/optim/evaluate_coupled.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "engine/coupling/mpm_fem_scene.hpp"
#include "engine/core/error.hpp"
#include "engine/diff/coupled_rollout.hpp"
#include "engine/optim/evaluation_parts.hpp"
#include "engine/optim/fem_drive_motion.hpp"
#include "engine/optim/fem_objective_terms.hpp"
#include "engine/optim/objective_terms.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/fem_loader.hpp"

namespace pl::optim {

namespace {

/// The prescription table of the whole horizon: row n = the prescribed
/// vertices' targets at the end of step n, i.e. at time (n + 1) dt (as
/// FemSceneRun's), with each fem_drive control's group moved by its waypoints:
///   y = c + R(theta(s_n)) (r - c) + d(s_n),  s_n = K ((n + 1) dt - start) / (end - start).
class DriveTable {
 public:
  template <class Real>
  DriveTable(const scene::SceneDesc& scene, const ControlLayout& layout, const std::vector<double>& p,
             scene::FemSceneRun<Real>& run, int steps)
      : scene_(scene), layout_(layout), steps_(steps) {
    const fem::FemWorld<Real>& world = run.world();
    dt_ = world.settings().dt;
    vertices_ = world.prescribed_vertices();
    const auto& r = world.rest_positions();
    rest_.resize(vertices_.size());
    for (std::size_t k = 0; k < vertices_.size(); ++k)
      for (std::size_t a = 0; a < 3; ++a) rest_[k][a] = double(r[3 * std::size_t(vertices_[k]) + a]);
    const auto& scene_traj = world.prescribed_trajectory();
    table_.assign(std::size_t(steps), std::vector<double>(3 * vertices_.size(), 0.0));
    for (int n = 0; n < steps && !scene_traj.empty(); ++n) {
      const auto& row = scene_traj[std::size_t(std::min<int>(n, int(scene_traj.size()) - 1))];
      for (std::size_t i = 0; i < row.size(); ++i) table_[std::size_t(n)][i] = double(row[i]);
    }
    std::vector<int> column(std::size_t(world.num_vertices()), -1);
    for (std::size_t k = 0; k < vertices_.size(); ++k) column[std::size_t(vertices_[k])] = int(k);
    const auto& controls = layout.controls();
    columns_.resize(controls.size());
    for (std::size_t c = 0; c < controls.size(); ++c) {
      if (controls[c].kind != "fem_drive") continue;
      for (int v : run.drive_vertices(controls[c].fem_body_index)) columns_[c].push_back(column[std::size_t(v)]);
      const auto& b = scene.fem.bodies[std::size_t(controls[c].fem_body_index)];
      const double* values = &p[std::size_t(layout.offset(int(c)))];
      for (int n = 0; n < steps; ++n)  // issue 7 (replay_fem): the motion FemSceneRun gives a replay scene's drive
        for (int k : columns_[c]) {
          const std::array<double, 3> y = fem_drive_target(b, values, controls[c].waypoints, controls[c].fem_translate,
                                                           rest_[std::size_t(k)], (n + 1) * dt_);
          for (std::size_t a = 0; a < 3; ++a) table_[std::size_t(n)][3 * std::size_t(k) + a] = y[a];
        }
    }
  }

  template <class Real>
  void prescribe(fem::FemWorld<Real>& world) const {
    std::vector<std::vector<Real>> traj(table_.size());
    for (std::size_t n = 0; n < table_.size(); ++n) traj[n].assign(table_[n].begin(), table_[n].end());
    world.prescribe(vertices_, traj);
  }

  /// dL/dp of the fem_drive controls from dL/d(table) (rows from step 0):
  /// dy/dtheta = k x R(theta)(r - c), dy/dd = I (fem_drive_motion.hpp).
  template <class Real>
  void add_gradient(const std::vector<double>& p, const std::vector<std::vector<Real>>& dtable,
                    std::vector<double>& dL_dp) const {
    const auto& controls = layout_.controls();
    for (std::size_t c = 0; c < controls.size(); ++c) {
      if (controls[c].kind != "fem_drive") continue;
      const auto& b = scene_.fem.bodies[std::size_t(controls[c].fem_body_index)];
      const auto& k = b.drive_axis;
      const std::size_t o = std::size_t(layout_.offset(int(c)));
      for (int n = 0; n < steps_ && std::size_t(n) < dtable.size(); ++n) {
        const double sn = s(c, n);
        const DrivePose q = drive_pose(&p[o], controls[c].waypoints, controls[c].fem_translate, sn);
        DrivePose g;
        for (int col : columns_[c]) {
          const Real* gv = &dtable[std::size_t(n)][3 * std::size_t(col)];
          const std::array<double, 3> y = rotate_about(rest_[std::size_t(col)], b.drive_point, k, q.theta);
          const std::array<double, 3> kxy{k[1] * y[2] - k[2] * y[1], k[2] * y[0] - k[0] * y[2], k[0] * y[1] - k[1] * y[0]};
          for (std::size_t a = 0; a < 3; ++a) g.theta += double(gv[a]) * kxy[a], g.d[a] += double(gv[a]);
        }
        add_drive_pose_gradient(controls[c].waypoints, controls[c].fem_translate, sn, g, &dL_dp[o]);
      }
    }
  }

 private:
  double s(std::size_t c, int n) const {
    const auto& d = layout_.controls()[c];
    const auto& b = scene_.fem.bodies[std::size_t(d.fem_body_index)];
    return d.waypoints * ((n + 1) * dt_ - b.drive_start) / (b.drive_end - b.drive_start);
  }

  const scene::SceneDesc& scene_;
  const ControlLayout& layout_;
  int steps_;
  double dt_ = 0;
  std::vector<int> vertices_;
  std::vector<std::array<double, 3>> rest_;
  std::vector<std::vector<int>> columns_;  // per control: its group's columns
  std::vector<std::vector<double>> table_;
};

template <class Real>
Evaluation run_coupled(const scene::SceneDesc& scene, const ControlLayout& layout,
                       const std::vector<std::unique_ptr<ObjectiveTerm>>& terms, const std::vector<double>& u,
                       bool gradient, RolloutOutputs* outputs) {
  const std::vector<double> p = layout.to_physical(u);
  const int spf = scene.simulation.substeps_per_frame;
  const int steps = scene.simulation.frames * spf;

  auto world = scene::build_world<Real, 3>(scene);
  scene::FemSceneRun<Real> run(scene);
  fem::FemWorld<Real>& fem = run.coupled_world();
  const DriveTable table(scene, layout, p, run, steps);
  table.prescribe(fem);
  const auto coupling = make_scene_coupling<Real>(scene, *world, &run);
  if (!coupling) throw InputError(scene.fem.coupling_where + ": the coupled scene has no particles or no FEM bodies");
  const auto& controls = layout.controls();
  for (std::size_t c = 0; c < controls.size(); ++c) {  // fem_coupling: the contact's friction or stiffness
    if (controls[c].kind != "fem_coupling") continue;
    set_coupling_control(*coupling, controls[c].parameter, p[std::size_t(layout.offset(int(c)))]);  // issue 7 (replay_fem)
  }
  try {
    world->check_stability();
  } catch (const InputError& err) {
    return failed_evaluation(err.what());
  }

  // Frames read by the terms or written as outputs (particles, and the FEM surfaces beside them).
  const std::set<int> read_frames = term_frames(terms), output_frames = optim::output_frames(scene, outputs);
  ParticleOutputWriters writers(scene, 3, outputs);
  const auto write_outputs = [&](int frame, const ParticleSet<Real, 3>& s) {
    if (outputs->ply && frame % std::max(1, outputs->every_n_frames) == 0)
      outputs->written.push_back(run.write_frame(outputs->dir, frame));
    if (writers.preview) writers.preview->set_fem_surfaces(run.surface_meshes());
    writers.write(scene, frame, s, *outputs);
  };

  // The terms on a read frame's state; their gradients are kept for the backward pass.
  Evaluation e;
  std::map<std::string, double> term_loss, term_metric;
  std::map<int, std::vector<double>> mpm_grad, fem_grad;  // step -> weighted dL/dx
  std::vector<double> x, mass, fx;
  std::vector<int> body;
  CoupledRolloutOptions<Real> opt;
  opt.steps = steps;
  opt.loss_reads_step = [&](int step) {
    return step % spf == 0 && (read_frames.count(step / spf) > 0 || output_frames.count(step / spf) > 0);
  };
  opt.on_state = [&](int step, const ParticleSet<Real, 3>& s, const fem::FemWorld<Real>& fw) {
    const int frame = step / spf;
    if (output_frames.count(frame)) write_outputs(frame, s);
    if (!read_frames.count(frame)) return;
    const std::size_t n = s.size();
    x.resize(n * 3), mass.resize(n), body.assign(s.body.begin(), s.body.end());
    for (std::size_t i = 0; i < n; ++i) {
      mass[i] = double(s.mass[i]);
      for (std::size_t a = 0; a < 3; ++a) x[i * 3 + a] = double(s.x[i][int(a)]);
    }
    fx.assign(fw.positions().begin(), fw.positions().end());
    const StateView view{3, n, x.data(), mass.data(), body.data(), frame};
    const FemStateView fview{std::size_t(fw.num_vertices()), fx.data(), frame};
    std::vector<double> g(gradient ? x.size() : 0, 0.0), gf(gradient ? fx.size() : 0, 0.0), gt;
    for (const auto& t : terms) {
      const auto fr = t->frames();
      if (!std::count(fr.begin(), fr.end(), frame)) continue;
      const auto* ft = dynamic_cast<const FemObjectiveTerm*>(t.get());
      std::vector<double>& acc = ft ? gf : g;
      if (gradient) gt.assign(acc.size(), 0.0);
      double metric = 0;
      const double v = ft ? ft->fem_value(fview, gradient ? gt.data() : nullptr, &metric)
                          : t->state_value(view, gradient ? gt.data() : nullptr, &metric);
      const double w = t->desc().weight;
      e.loss += w * v;
      term_loss[t->desc().name] += w * v;
      if (!t->metric_name().empty()) term_metric[t->desc().name + "." + t->metric_name()] = metric;
      if (gradient)
        for (std::size_t k = 0; k < acc.size(); ++k) acc[k] += w * gt[k];
    }
    if (gradient) mpm_grad[step] = std::move(g), fem_grad[step] = std::move(gf);
  };
  opt.loss_gradient = [&](int step, const ParticleSet<Real, 3>&, ParticleAdjoint<Real, 3>& ap, std::vector<Real>& ax,
                          std::vector<Real>&) {
    if (const auto it = mpm_grad.find(step); it != mpm_grad.end())
      for (std::size_t i = 0; i < ap.size(); ++i)
        for (std::size_t a = 0; a < 3; ++a) ap.x[i][int(a)] += Real(it->second[i * 3 + a]);
    if (const auto it = fem_grad.find(step); it != fem_grad.end())
      for (std::size_t k = 0; k < ax.size(); ++k) ax[k] += Real(it->second[k]);
  };

  CoupledRollout<Real> rollout(*coupling, *world, fem, opt);
  try {
    rollout.forward();
  } catch (const SimulationError& err) {
    return failed_evaluation(err.what());
  }
  if (outputs) writers.finish(*outputs);
  // Terms on the controls themselves.
  std::vector<double> dL_dp(p.size(), 0.0);
  add_control_terms(terms, p, gradient, e, term_loss, dL_dp);
  set_metrics(e, term_loss, term_metric);
  if (!std::isfinite(e.loss)) return failed_evaluation("the loss is not finite");
  if (!gradient) return e;

  CoupledRolloutGradients<Real> g;
  try {
    g = rollout.backward();
  } catch (const SimulationError& err) {
    return failed_evaluation(err.what());
  }
  table.add_gradient(p, g.fem_parameters.prescribed, dL_dp);
  for (std::size_t c = 0; c < controls.size(); ++c)
    if (controls[c].kind == "fem_coupling")
      dL_dp[std::size_t(layout.offset(int(c)))] += double(controls[c].parameter == "friction" ? g.friction : g.stiffness);
  e.gradient = unit_gradient(layout, u, dL_dp);
  return e;
}

}  // namespace

bool uses_coupled_evaluation(const scene::SceneDesc& scene) {
  return scene.fem.enabled && scene.fem.coupling && !scene.bodies.empty();
}

void check_coupled_problem(const scene::SceneDesc& scene, const std::vector<std::unique_ptr<ObjectiveTerm>>& terms) {
  if (!scene.tools.empty())
    throw InputError(scene.path + ": tools: `pliant optimize` does not run tools in a coupled MPM + FEM scene "
                     "(fem.coupling) yet");
  for (const auto& c : scene.optimization.controls) {
    if (c.kind == "fem_coupling") continue;
    if (c.kind != "fem_drive")
      throw InputError(c.loc + ": controls." + c.name + ".kind: '" + c.kind + "' is not supported on a coupled MPM + FEM "
                       "scene (fem.coupling); use fem_drive (the FEM bodies' drive waypoints) or fem_coupling");
    const auto& b = scene.fem.bodies[std::size_t(c.fem_body_index)];
    if (b.drive_release)
      throw InputError(c.loc + ": controls." + c.name + ".body: FEM body '" + c.body + "' has drive.release: true; "
                       "fem_drive on a coupled scene needs a drive that holds its vertices for the whole run");
  }
  for (const auto& t : terms) {
    const auto& d = t->desc();
    if (t->reaction_tool() >= 0)
      throw InputError(d.loc + ": objective." + d.name + ".type: '" + d.type + "' reads a tool's reactions; the coupled "
                       "MPM + FEM evaluation runs no tools");
  }
}

Evaluation evaluate_coupled(const scene::SceneDesc& scene, const ControlLayout& layout,
                            const std::vector<std::unique_ptr<ObjectiveTerm>>& terms, const std::vector<double>& u,
                            bool gradient, RolloutOutputs* outputs) {
  if (scene.simulation.precision == scene::Precision::Double)
    return run_coupled<double>(scene, layout, terms, u, gradient, outputs);
  return run_coupled<float>(scene, layout, terms, u, gradient, outputs);
}

}  // namespace pl::optim
