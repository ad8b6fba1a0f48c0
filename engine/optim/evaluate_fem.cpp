#include "engine/optim/evaluate_fem.hpp"
#include "engine/optim/evaluation_parts.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>

#include "engine/core/error.hpp"
#include "engine/optim/fem_drive_motion.hpp"
#include "engine/optim/fem_material_control.hpp"
#include "engine/optim/fem_objective_terms.hpp"
#include "engine/render/png_writer.hpp"
#include "engine/scene/fem_loader.hpp"
#include "engine/scene/frame_output.hpp"
#include "engine/scene/preview_renderer.hpp"

namespace pl::optim {

namespace {

bool is_fem_kind(const std::string& k) { return k.rfind("fem_", 0) == 0; }

/// One stretch of steps with the same prescribed vertices (a release starts a new one).
struct Phase {
  int start = 0;
  std::vector<std::size_t> columns;  // columns of the prescription table that stay prescribed
};

template <class Real>
struct StoredState {
  std::vector<Real> x, v;
  std::vector<std::vector<Real>> term_state;
};

template <class Real>
Evaluation run_fem(const scene::SceneDesc& scene, const ControlLayout& layout,
                   const std::vector<std::unique_ptr<ObjectiveTerm>>& terms, const std::vector<double>& u,
                   bool gradient, RolloutOutputs* outputs) {
  namespace fs = std::filesystem;
  const auto& controls = layout.controls();
  const std::vector<double> p = layout.to_physical(u);
  const int spf = scene.fem.steps_per_frame;
  const int steps = scene.simulation.frames * spf;

  scene::FemSceneRun<Real> run(scene);
  fem::FemWorld<Real>& world = run.mutable_world();
  const double dt = world.settings().dt;
  auto& wterms = world.terms();

  // fem_material: set the named parameter of every energy term of the body that has it.
  std::vector<std::vector<FemParameterRef>> refs(controls.size());
  for (std::size_t c = 0; c < controls.size(); ++c) {
    const auto& d = controls[c];
    if (d.kind != "fem_material") continue;
    try {  // issue 7 (replay_fem): shared with FemSceneRun, which sets the control's init (fem_material_control.hpp)
      refs[c] = set_fem_body_parameter(world, d.body, d.parameter, p[std::size_t(layout.offset(int(c)))]);
    } catch (const InputError& err) {
      return failed_evaluation(d.loc + ": controls." + d.name + ": " + err.what());
    }
    if (refs[c].empty())
      throw InputError(d.loc + ": controls." + d.name + ".parameter: FEM body '" + d.body + "' has no parameter '" +
                       d.parameter + "'");
  }

  // The prescription table: what the scene prescribes (FemSceneRun, one column
  // triple per prescribed vertex), with the fem_drive controls' groups replaced
  // by their waypoint motion; then the phases cut by releases.
  const std::vector<int> pv = world.prescribed_vertices();
  const std::vector<std::vector<Real>> scene_traj = world.prescribed_trajectory();
  std::vector<std::vector<double>> table(std::size_t(steps), std::vector<double>(3 * pv.size()));
  for (int n = 0; n < steps && !scene_traj.empty(); ++n) {
    const auto& row = scene_traj[std::size_t(std::min<int>(n, int(scene_traj.size()) - 1))];
    for (std::size_t i = 0; i < row.size(); ++i) table[std::size_t(n)][i] = double(row[i]);
  }
  std::vector<int> column(std::size_t(world.num_vertices()), -1);
  for (std::size_t k = 0; k < pv.size(); ++k) column[std::size_t(pv[k])] = int(k);
  const auto rest = [&](int v) {
    const auto& r = world.rest_positions();
    return std::array<double, 3>{double(r[3 * std::size_t(v)]), double(r[3 * std::size_t(v) + 1]),
                                 double(r[3 * std::size_t(v) + 2])};
  };
  // s of the step that starts at step count n (its targets are for time (n + 1) dt, as FemSceneRun's).
  const auto waypoint_s = [&](const scene::ControlDesc& d, int n) {
    const auto& b = scene.fem.bodies[std::size_t(d.fem_body_index)];
    return d.waypoints * ((n + 1) * dt - b.drive_start) / (b.drive_end - b.drive_start);
  };
  // The grasp's angle and translation at step n: q(s) = sum_j w_j q_j.
  const auto drive_pose = [&](std::size_t c, int n, double& theta, std::array<double, 3>& d) {
    const auto& cd = controls[c];
    const int stride = cd.fem_translate ? 4 : 1;
    const std::vector<double> w = waypoint_weights(cd.waypoints, waypoint_s(cd, n));
    theta = 0, d = {0, 0, 0};
    for (int j = 1; j <= cd.waypoints; ++j) {
      const std::size_t o = std::size_t(layout.offset(int(c)) + (j - 1) * stride);
      theta += w[std::size_t(j)] * p[o];
      if (cd.fem_translate)
        for (std::size_t a = 0; a < 3; ++a) d[a] += w[std::size_t(j)] * p[o + 1 + a];
    }
  };
  std::vector<std::vector<int>> driven(controls.size());
  for (std::size_t c = 0; c < controls.size(); ++c) {
    const auto& cd = controls[c];
    if (cd.kind != "fem_drive") continue;
    const auto& b = scene.fem.bodies[std::size_t(cd.fem_body_index)];
    driven[c] = run.drive_vertices(cd.fem_body_index);
    // issue 7 (replay_fem): the motion FemSceneRun gives a replay scene's drive (fem_drive_motion.hpp)
    const double* values = &p[std::size_t(layout.offset(int(c)))];
    for (int n = 0; n < steps; ++n)
      for (int v : driven[c]) {
        const std::array<double, 3> y = fem_drive_target(b, values, cd.waypoints, cd.fem_translate, rest(v), (n + 1) * dt);
        for (std::size_t a = 0; a < 3; ++a) table[std::size_t(n)][3 * std::size_t(column[std::size_t(v)]) + a] = y[a];
      }
  }
  std::vector<int> release(pv.size(), INT_MAX);
  std::set<int> starts = {0};
  for (std::size_t b = 0; b < scene.fem.bodies.size(); ++b) {
    const auto& bd = scene.fem.bodies[b];
    if (!bd.drive || !bd.drive_release) continue;
    const int r = int(std::ceil(bd.drive_end / dt - 1e-6));  // as FemSceneRun
    for (int v : run.drive_vertices(int(b))) release[std::size_t(column[std::size_t(v)])] = r;
    if (r > 0 && r < steps) starts.insert(r);
  }
  std::vector<Phase> phases;
  for (int a : starts) {
    Phase ph;
    ph.start = a;
    for (std::size_t k = 0; k < pv.size(); ++k)
      if (release[k] > a) ph.columns.push_back(k);
    phases.push_back(std::move(ph));
  }
  std::vector<int> phase_of(std::size_t(steps) + 1, 0);
  for (std::size_t i = 0; i < phases.size(); ++i)
    for (int n = phases[i].start; n <= steps; ++n) phase_of[std::size_t(n)] = int(i);
  // Prescribes phase i's vertices with the table from its start on (the world
  // indexes trajectories from the step count at which they are set).
  const auto enter_phase = [&](std::size_t i) {
    const Phase& ph = phases[i];
    std::vector<int> verts;
    for (std::size_t k : ph.columns) verts.push_back(pv[k]);
    std::vector<std::vector<Real>> traj;
    if (!verts.empty())
      for (int n = ph.start; n < std::max(steps, ph.start + 1); ++n) {
        std::vector<Real> row;
        for (std::size_t k : ph.columns)
          for (std::size_t a = 0; a < 3; ++a) row.push_back(Real(table[std::size_t(std::min(n, steps - 1))][3 * k + a]));
        traj.push_back(std::move(row));
      }
    world.set_step_count(ph.start);
    world.prescribe(verts, traj);
  };

  // Frames read by the terms or written as outputs.
  std::set<int> read_frames, output_frames;
  for (const auto& t : terms)
    if (dynamic_cast<const FemObjectiveTerm*>(t.get()))
      for (int f : t->frames()) read_frames.insert(f);
  if (outputs) {
    for (int f = 0; f <= scene.simulation.frames; ++f)
      if (outputs->ply && f % std::max(1, outputs->every_n_frames) == 0) output_frames.insert(f);
    for (int f : outputs->preview_frames) output_frames.insert(f);
  }
  std::unique_ptr<scene::PreviewRenderer> preview;
  if (outputs && !outputs->preview_frames.empty()) preview = std::make_unique<scene::PreviewRenderer>(scene);
  const auto write_outputs = [&](int frame) {
    if (!output_frames.count(frame)) return;
    if (outputs->ply && frame % std::max(1, outputs->every_n_frames) == 0)
      outputs->written.push_back(run.write_frame(outputs->dir, frame));
    if (preview && std::count(outputs->preview_frames.begin(), outputs->preview_frames.end(), frame)) {
      char name[32];
      std::snprintf(name, sizeof name, "%05d.png", frame);
      const std::string f = (fs::path(outputs->dir) / (outputs->preview_prefix + name)).string();
      preview->set_fem_surfaces(run.surface_meshes());
      scene::write_file_atomic(f, render::encode_png(preview->render(ParticleSet<Real, 3>{})));
      outputs->written.push_back(f);
    }
  };

  // Forward, storing every step's state.
  std::vector<StoredState<Real>> states(std::size_t(steps) + 1);
  const auto store = [&](int n) {
    StoredState<Real>& s = states[std::size_t(n)];
    s.x = world.positions();
    s.v = world.velocities();
    s.term_state.clear();
    for (const auto& t : wterms) s.term_state.push_back(t->internal_state());
  };
  try {
    for (int n = 0; n < steps; ++n) {
      if (n == phases[std::size_t(phase_of[std::size_t(n)])].start) enter_phase(std::size_t(phase_of[std::size_t(n)]));
      store(n);
      if (n % spf == 0) write_outputs(n / spf);
      world.step();
    }
    store(steps);
    write_outputs(scene.simulation.frames);
  } catch (const SimulationError& err) {
    return failed_evaluation(err.what());
  } catch (const InputError& err) {  // a candidate's values the world refuses (e.g. a prescription it cannot hold)
    return failed_evaluation(err.what());
  }

  // The terms at their frames.
  Evaluation e;
  std::map<std::string, double> term_loss, term_metric;
  std::map<int, std::vector<double>> state_grad;  // step -> weighted dL/dx
  std::vector<double> x;
  for (int f : read_frames) {
    const int n = f * spf;
    const auto& xs = states[std::size_t(n)].x;
    x.assign(xs.begin(), xs.end());
    const FemStateView view{std::size_t(world.num_vertices()), x.data(), f};
    std::vector<double> g, gt;
    if (gradient) g.assign(x.size(), 0.0);
    for (const auto& t : terms) {
      const auto* ft = dynamic_cast<const FemObjectiveTerm*>(t.get());
      const auto fr = t->frames();
      if (!ft || !std::count(fr.begin(), fr.end(), f)) continue;
      if (gradient) gt.assign(x.size(), 0.0);
      double metric = 0;
      const double v = ft->fem_value(view, gradient ? gt.data() : nullptr, &metric);
      const double w = t->desc().weight;
      e.loss += w * v;
      term_loss[t->desc().name] += w * v;
      term_metric[t->desc().name + "." + t->metric_name()] = metric;
      if (gradient)
        for (std::size_t k = 0; k < g.size(); ++k) g[k] += w * gt[k];
    }
    if (gradient) state_grad[n] = std::move(g);
  }
  for (const auto& [k, v] : term_loss) e.metrics["loss." + k] = v;
  for (const auto& [k, v] : term_metric) e.metrics[k] = v;
  if (!std::isfinite(e.loss)) return failed_evaluation("the loss is not finite");
  if (!gradient) return e;

  // Backward: the world's adjoint step, phase by phase, from the last step.
  auto adj = world.zero_state_adjoint();
  const auto add_state_grad = [&](int n) {
    const auto it = state_grad.find(n);
    if (it == state_grad.end()) return;
    for (std::size_t i = 0; i < adj.x.size(); ++i) adj.x[i] += Real(it->second[i]);
  };
  add_state_grad(steps);
  std::vector<fem::FemParameterGradients<Real>> grads(phases.size());
  int current = -1;
  try {
    for (int n = steps - 1; n >= 0; --n) {
      const int ph = phase_of[std::size_t(n)];
      if (ph != current) {
        enter_phase(std::size_t(ph));
        grads[std::size_t(ph)] = world.zero_gradients();
        current = ph;
      }
      const StoredState<Real>& s = states[std::size_t(n)];
      world.positions() = s.x;
      world.velocities() = s.v;
      for (std::size_t k = 0; k < wterms.size(); ++k) wterms[k]->set_internal_state(s.term_state[k]);
      world.set_step_count(n);
      world.adjoint_step(adj, grads[std::size_t(ph)]);
      add_state_grad(n);
    }
  } catch (const SimulationError& err) {
    return failed_evaluation(err.what());
  }

  // dL/d(prescription table), then the controls.
  std::vector<double> dL_dp(p.size(), 0.0);
  std::vector<std::vector<double>> dtable(std::size_t(steps), std::vector<double>(3 * pv.size(), 0.0));
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const Phase& ph = phases[i];
    const auto& gp = grads[i].prescribed;
    for (std::size_t r = 0; r < gp.size(); ++r) {
      const int n = ph.start + int(r);
      if (n >= steps) break;
      for (std::size_t j = 0; j < ph.columns.size(); ++j)
        for (std::size_t a = 0; a < 3; ++a) dtable[std::size_t(n)][3 * ph.columns[j] + a] += double(gp[r][3 * j + a]);
    }
  }
  for (std::size_t c = 0; c < controls.size(); ++c) {
    const auto& cd = controls[c];
    const std::size_t o = std::size_t(layout.offset(int(c)));
    if (cd.kind == "fem_material") {
      for (const FemParameterRef& r : refs[c])
        for (const auto& g : grads) dL_dp[o] += double(g.term_parameters[r.term][r.index]);
      continue;
    }
    if (cd.kind != "fem_drive") continue;
    const auto& b = scene.fem.bodies[std::size_t(cd.fem_body_index)];
    const int stride = cd.fem_translate ? 4 : 1;
    for (int n = 0; n < steps; ++n) {
      double theta;
      std::array<double, 3> d;
      drive_pose(c, n, theta, d);
      // dL/dtheta = sum_v g_v . (k x R(theta)(r_v - c)),  dL/dd = sum_v g_v.
      double dtheta = 0;
      std::array<double, 3> dd{0, 0, 0};
      const auto& k = b.drive_axis;
      for (int v : driven[c]) {
        const double* g = &dtable[std::size_t(n)][3 * std::size_t(column[std::size_t(v)])];
        const std::array<double, 3> y = rotate_about(rest(v), b.drive_point, k, theta);
        const std::array<double, 3> kxy{k[1] * y[2] - k[2] * y[1], k[2] * y[0] - k[0] * y[2], k[0] * y[1] - k[1] * y[0]};
        for (std::size_t a = 0; a < 3; ++a) dtheta += g[a] * kxy[a], dd[a] += g[a];
      }
      const std::vector<double> w = waypoint_weights(cd.waypoints, waypoint_s(cd, n));
      for (int j = 1; j <= cd.waypoints; ++j) {
        const std::size_t oj = o + std::size_t((j - 1) * stride);
        dL_dp[oj] += w[std::size_t(j)] * dtheta;
        if (cd.fem_translate)
          for (std::size_t a = 0; a < 3; ++a) dL_dp[oj + 1 + a] += w[std::size_t(j)] * dd[a];
      }
    }
  }
  e.gradient = unit_gradient(layout, u, dL_dp);
  return e;
}

}  // namespace

bool uses_fem_evaluation(const scene::SceneDesc& scene) { return scene.fem.enabled && scene.bodies.empty(); }

void check_fem_problem(const scene::SceneDesc& scene, const std::vector<std::unique_ptr<ObjectiveTerm>>& terms) {
  const bool fem = uses_fem_evaluation(scene);
  const std::string why = fem ? " cannot act on a scene whose bodies are all FEM bodies; use fem_drive or fem_material"
                              : " needs a scene whose bodies are all FEM bodies (fem: section, no bodies:); "
                                "optimizing MPM and FEM bodies together is not supported yet";
  for (const auto& c : scene.optimization.controls)
    if (is_fem_kind(c.kind) != fem) throw InputError(c.loc + ": controls." + c.name + ".kind: '" + c.kind + "'" + why);
  for (const auto& t : terms) {
    const auto& d = t->desc();
    if ((dynamic_cast<const FemObjectiveTerm*>(t.get()) != nullptr) != fem)
      throw InputError(d.loc + ": objective." + d.name + ".type: '" + d.type + "'" +
                       (fem ? " is not a term on FEM bodies, and this scene has only FEM bodies; use fem_vertices or "
                              "fem_crease"
                            : why));
  }
}

Evaluation evaluate_fem(const scene::SceneDesc& scene, const ControlLayout& layout,
                        const std::vector<std::unique_ptr<ObjectiveTerm>>& terms, const std::vector<double>& u,
                        bool gradient, RolloutOutputs* outputs) {
  if (scene.simulation.precision == scene::Precision::Double)
    return run_fem<double>(scene, layout, terms, u, gradient, outputs);
  return run_fem<float>(scene, layout, terms, u, gradient, outputs);
}

}  // namespace pl::optim
