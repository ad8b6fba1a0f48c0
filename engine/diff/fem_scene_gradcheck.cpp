#include "engine/diff/fem_scene_gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/coupling/tool.hpp"
#include "engine/fem/energy_term.hpp"
#include "engine/fem/fem_rollout.hpp"
#include "engine/fem/fem_tool_contact.hpp"
#include "engine/scene/fem_loader.hpp"

namespace pl {

FemDirections::FemDirections(const fem::FemWorld<double>& world, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  for (auto* f : {&dx, &dv, &wx, &wv}) {
    f->resize(world.positions().size());
    for (double& e : *f) e = u(rng);
  }
  for (int v : world.prescribed_vertices())
    for (std::size_t a = 0; a < 3; ++a) dx[3 * std::size_t(v) + a] = dv[3 * std::size_t(v) + a] = 0;
  for (const auto& row : world.prescribed_trajectory()) {
    prescribed.emplace_back(row.size());
    for (double& e : prescribed.back()) e = u(rng);
  }
}

void FemDirections::perturb_prescribed(fem::FemWorld<double>& world, double t) const {
  std::vector<std::vector<double>> traj = world.prescribed_trajectory();
  for (std::size_t n = 0; n < traj.size() && n < prescribed.size(); ++n)
    for (std::size_t k = 0; k < traj[n].size(); ++k) traj[n][k] += t * prescribed[n][k];
  world.prescribe(world.prescribed_vertices(), traj);
}

double FemDirections::prescribed_dot(const std::vector<std::vector<double>>& gradient) const {
  double s = 0;
  for (std::size_t n = 0; n < gradient.size() && n < prescribed.size(); ++n) s += dot(gradient[n], prescribed[n]);
  return s;
}

double FemDirections::loss(const fem::FemWorld<double>& world) const {
  const double n = double(world.num_vertices());
  double s = 0;
  for (std::size_t i = 0; i < world.positions().size(); ++i)
    s += (wx[i] * world.positions()[i] + wv[i] * world.velocities()[i]) / n;
  return s;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

namespace {

using Vec3d = std::array<double, 3>;

/// Random directions for one FEM scene's quantities (seeded, so every evaluation sees the same ones).
struct FemProbe {
  FemDirections fem;
  struct ToolDirs {
    std::vector<ToolAction<3>> actions;
    std::vector<Vec3d> waypoint_positions, waypoint_rotations;  // per key; rotations: exp-map [rad]
    Vec3d position{}, rotation{};
  };
  std::vector<ToolDirs> tools;
};

/// Which quantity an evaluation moves, by t along the probe's direction.
enum class FemQuantity { None, X0, V0, Prescribed, TermParameter, Density, DampingMass, DampingStiffness, GroundFriction,
                         ToolLinear, ToolAngular, ToolWaypointPositions, ToolWaypointRotations, ToolPosition,
                         ToolRotation, ToolFriction, ToolStiffness };

struct FemPerturbation {
  FemQuantity what = FemQuantity::None;
  int index = -1, param = -1;  // term / body / tool; parameter of a term
  double t = 0;
};

struct FemEvaluation {
  double loss = 0;
  fem::FemRolloutGradients<double> grad;
};

FemEvaluation evaluate_fem(const scene::SceneDesc& scene, const FemProbe& probe, int steps, const FemPerturbation& pert,
                           bool backward) {
  // Tool waypoints and initial poses are planned when the world is built: perturb them in the scene.
  scene::SceneDesc moved;
  const bool moves_desc = pert.what == FemQuantity::ToolWaypointPositions || pert.what == FemQuantity::ToolPosition ||
                          pert.what == FemQuantity::ToolWaypointRotations || pert.what == FemQuantity::ToolRotation;
  if (moves_desc) {
    moved = scene;
    auto& t = moved.tools[std::size_t(pert.index)];
    const auto& d = probe.tools[std::size_t(pert.index)];
    for (std::size_t k = 0; k < t.waypoints.size(); ++k) {
      if (pert.what == FemQuantity::ToolWaypointPositions)
        for (std::size_t a = 0; a < 3; ++a) t.waypoints[k].position[a] += pert.t * d.waypoint_positions[k][a];
      if (pert.what == FemQuantity::ToolWaypointRotations)
        t.waypoints[k].rotation_deg = rotated_euler_deg(t.waypoints[k].rotation_deg, d.waypoint_rotations[k], pert.t);
    }
    if (pert.what == FemQuantity::ToolPosition)
      for (std::size_t a = 0; a < 3; ++a) t.position[a] += pert.t * d.position[a];
    if (pert.what == FemQuantity::ToolRotation) t.rotation_deg = rotated_euler_deg(t.rotation_deg, d.rotation, pert.t);
  }
  scene::FemSceneRun<double> run(moves_desc ? moved : scene);
  fem::FemWorld<double>& w = run.mutable_world();
  const double t = pert.t;
  switch (pert.what) {
    case FemQuantity::X0:
      for (std::size_t i = 0; i < w.positions().size(); ++i) w.positions()[i] += t * probe.fem.dx[i];
      break;
    case FemQuantity::V0:
      for (std::size_t i = 0; i < w.velocities().size(); ++i) w.velocities()[i] += t * probe.fem.dv[i];
      break;
    case FemQuantity::Prescribed: probe.fem.perturb_prescribed(w, t); break;
    case FemQuantity::TermParameter: {
      auto& term = *w.terms()[std::size_t(pert.index)];
      std::vector<double> theta = term.parameters();
      theta[std::size_t(pert.param)] += t * std::max(1.0, std::abs(theta[std::size_t(pert.param)]));
      term.set_parameters(theta);
      break;
    }
    case FemQuantity::Density: w.set_density(pert.index, w.density(pert.index) * (1 + t)); break;
    case FemQuantity::DampingMass:
      w.set_damping(w.settings().damping_mass * (1 + t), w.settings().damping_stiffness);
      break;
    case FemQuantity::DampingStiffness:
      w.set_damping(w.settings().damping_mass, w.settings().damping_stiffness * (1 + t));
      break;
    case FemQuantity::GroundFriction: w.set_friction(w.settings().ground.friction + t); break;
    case FemQuantity::ToolLinear:
    case FemQuantity::ToolAngular: {
      Tool<3>& tool = w.tools()[std::size_t(pert.index)]->tool();
      std::vector<ToolAction<3>> acts = tool.spec().actions;
      const auto& d = probe.tools[std::size_t(pert.index)].actions;
      for (std::size_t n = 0; n < acts.size() && n < d.size(); ++n)
        for (std::size_t a = 0; a < 3; ++a) {
          if (pert.what == FemQuantity::ToolLinear) acts[n].linear[a] += t * d[n].linear[a];
          else acts[n].angular[a] += t * d[n].angular[a];
        }
      tool.set_actions(acts);
      break;
    }
    case FemQuantity::ToolFriction: {
      Tool<3>& tool = w.tools()[std::size_t(pert.index)]->tool();
      tool.set_friction(tool.spec().friction + t);
      break;
    }
    case FemQuantity::ToolStiffness: {
      Tool<3>& tool = w.tools()[std::size_t(pert.index)]->tool();
      tool.set_stiffness(tool.spec().stiffness * (1 + t));
      break;
    }
    default: break;
  }
  const double n = double(w.num_vertices());
  fem::FemRolloutOptions<double> opt;
  opt.steps = steps;
  opt.loss_gradient = [&](int, const fem::FemWorld<double>&, std::vector<double>& ax, std::vector<double>& av) {
    for (std::size_t i = 0; i < ax.size(); ++i) ax[i] += probe.fem.wx[i] / n, av[i] += probe.fem.wv[i] / n;
  };
  fem::FemRollout<double> rollout(w, opt);
  rollout.forward();
  FemEvaluation e;
  e.loss = probe.fem.loss(w);
  if (backward) e.grad = rollout.backward();
  return e;
}

}  // namespace

GradcheckReport gradcheck_fem_scene(const scene::SceneDesc& scene_in, const GradcheckOptions& o) {
  if (o.steps < 1) throw InputError("gradcheck: --steps must be >= 1");
  // The adjoint of an implicit step assumes the Newton solve converged; at the
  // scene's tolerance (1e-9 of the body size by default) the solve's error
  // shows up as ~1e-3 relative gradient error, so the check solves tighter.
  scene::SceneDesc scene = scene_in;
  scene.fem.newton_tolerance = std::min(scene.fem.newton_tolerance, 1e-12);
  scene.fem.newton_max_iterations = std::max(scene.fem.newton_max_iterations, 200);
  GradcheckReport report;
  report.scene = scene.path;
  report.steps = o.steps;
  report.tolerance = o.tolerance;

  // The probe: random directions sized from an unperturbed world.
  scene::FemSceneRun<double> probe_run(scene);
  const fem::FemWorld<double>& pw = probe_run.world();
  report.particles = std::size_t(pw.num_vertices());
  report.counted = "FEM vertices";
  report.loss = "random linear loss of the final state, FEM steps (float err: n/a, FEM runs in double)";
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(-1, 1);
  FemProbe probe{FemDirections(pw, rng), {}};
  for (const auto& t : scene.tools) {
    FemProbe::ToolDirs d;
    d.actions.resize(std::size_t(o.steps));
    for (auto& a : d.actions)
      for (std::size_t k = 0; k < 3; ++k) a.linear[k] = u(rng), a.angular[k] = u(rng);
    d.waypoint_positions.resize(t.waypoints.size());
    d.waypoint_rotations.resize(t.waypoints.size());
    for (auto* keys : {&d.waypoint_positions, &d.waypoint_rotations})
      for (auto& p : *keys)
        for (double& e : p) e = u(rng);
    for (double& e : d.position) e = u(rng);
    for (double& e : d.rotation) e = u(rng);
    probe.tools.push_back(d);
  }

  const FemEvaluation base = evaluate_fem(scene, probe, o.steps, {}, true);
  const auto& g = base.grad;
  const auto row = [&](const std::string& name, double adj, FemQuantity q, int index, int param, double h) {
    const auto loss = [&](double t) { return evaluate_fem(scene, probe, o.steps, {q, index, param, t}, false).loss; };
    report.rows.push_back(gradcheck_row(name, adj, base.loss, loss, h, o.tolerance, FdEstimate::Richardson));
  };

  row("FEM initial positions (random direction)", dot(g.x0, probe.fem.dx), FemQuantity::X0, -1, -1, 1e-6);
  row("FEM initial velocities (random direction)", dot(g.v0, probe.fem.dv), FemQuantity::V0, -1, -1, 1e-6);
  if (!pw.prescribed_vertices().empty())
    row("FEM prescribed trajectory (random direction)", probe.fem.prescribed_dot(g.parameters.prescribed),
        FemQuantity::Prescribed, -1, -1, 1e-6);
  for (std::size_t k = 0; k < pw.terms().size(); ++k) {
    const auto names = pw.terms()[k]->parameter_names();
    const auto theta = pw.terms()[k]->parameters();
    for (std::size_t p = 0; p < names.size(); ++p) {
      if (!std::isfinite(theta[p])) continue;  // a disabled feature (yield_angle = infinity: purely elastic hinges)
      // Reported per relative change of the parameter, like the MPM material rows.
      const double scale = std::max(1.0, std::abs(theta[p]));
      row("FEM " + pw.terms()[k]->name() + " " + names[p], scale * g.parameters.term_parameters[k][p],
          FemQuantity::TermParameter, int(k), int(p), 1e-6);
    }
  }
  for (int b = 0; b < pw.num_tet_bodies(); ++b)
    row("FEM body " + std::to_string(b) + " density (relative)", pw.density(b) * g.parameters.density[std::size_t(b)],
        FemQuantity::Density, b, -1, 1e-6);
  const auto& st = pw.settings();
  if (st.damping_mass > 0)
    row("FEM damping mass (relative)", st.damping_mass * g.parameters.damping_mass, FemQuantity::DampingMass, -1, -1, 1e-6);
  if (st.damping_stiffness > 0)
    row("FEM damping stiffness (relative)", st.damping_stiffness * g.parameters.damping_stiffness,
        FemQuantity::DampingStiffness, -1, -1, 1e-6);
  if (st.ground.enabled && st.ground.friction > 1e-5)
    row("FEM ground friction", g.parameters.friction, FemQuantity::GroundFriction, -1, -1, 1e-6);

  // sum_i g_i . d_i over a tool's keys (waypoints, or the one initial pose).
  const auto dot_keys = [](const std::vector<Vec3d>& gk, const std::vector<Vec3d>& dk) {
    double s = 0;
    for (std::size_t i = 0; i < gk.size() && i < dk.size(); ++i)
      for (std::size_t a = 0; a < 3; ++a) s += gk[i][a] * dk[i][a];
    return s;
  };
  for (std::size_t k = 0; k < scene.tools.size() && k < g.tools.size(); ++k) {
    const auto& t = scene.tools[k];
    const auto& tg = g.tools[k];
    const auto& d = probe.tools[k];
    const std::string name = "tool '" + t.name + "' ";
    if (t.motion == scene::ToolMotionType::Velocity) {
      double lin = 0, ang = 0;
      for (std::size_t n = 0; n < tg.actions.size() && n < d.actions.size(); ++n)
        for (std::size_t a = 0; a < 3; ++a)
          lin += tg.actions[n].linear[a] * d.actions[n].linear[a], ang += tg.actions[n].angular[a] * d.actions[n].angular[a];
      row(name + "velocity actions, linear (random direction)", lin, FemQuantity::ToolLinear, int(k), -1, 1e-6);
      row(name + "velocity actions, angular (random direction)", ang, FemQuantity::ToolAngular, int(k), -1, 1e-5);
    }
    if (t.motion == scene::ToolMotionType::Waypoints) {
      row(name + "waypoint positions (random direction)", dot_keys(tg.waypoint_positions, d.waypoint_positions),
          FemQuantity::ToolWaypointPositions, int(k), -1, 1e-6);
      row(name + "waypoint rotations (random direction, rad)", dot_keys(tg.waypoint_rotations, d.waypoint_rotations),
          FemQuantity::ToolWaypointRotations, int(k), -1, 1e-5);
    } else {
      row(name + "initial position (random direction)", dot_keys(std::vector<Vec3d>{tg.initial_position}, {d.position}),
          FemQuantity::ToolPosition, int(k), -1, 1e-6);
      row(name + "initial rotation (random direction, rad)", dot_keys(std::vector<Vec3d>{tg.initial_rotation}, {d.rotation}),
          FemQuantity::ToolRotation, int(k), -1, 1e-5);
    }
    const auto& spec = pw.tools()[k]->tool().spec();
    if ((t.mode == ContactMode::Friction || t.mode == ContactMode::Soft) && spec.friction > 1e-5)
      row(name + "friction", tg.friction, FemQuantity::ToolFriction, int(k), -1, 1e-6);
    if (t.mode == ContactMode::Soft)
      row(name + "stiffness (relative)", spec.stiffness * tg.stiffness, FemQuantity::ToolStiffness, int(k), -1, 1e-6);
  }
  return report;
}

}  // namespace pl
