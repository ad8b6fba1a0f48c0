#include "engine/diff/scene_gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/coupling/rotation.hpp"
#include "engine/diff/mpm_rollout.hpp"
#include "engine/diff/coupled_scene_gradcheck.hpp"  // issue 6 (gc_fem)
#include "engine/diff/fem_scene_gradcheck.hpp"      // issue 6 (gc_fem)
#include "engine/scene/build_world.hpp"
#include "materials/registry.hpp"

namespace pl {

GradcheckRow gradcheck_row(const std::string& quantity, double adjoint, double base_loss,
                           const std::function<double(double)>& loss, double h, double tolerance,
                           FdEstimate estimate) {
  // Central difference, with the one-sided differences from the same losses;
  // at the edge of a parameter's valid range (cohesion 0, yield stress 0) the
  // second-order one-sided difference (-3 L(0) + 4 L(h) - L(2h)) / 2h instead.
  struct Differences {
    double central = 0;
    double forward = 0, backward = 0;  // (L(h) - L(0)) / h, (L(0) - L(-h)) / h
    bool two_sided = true;
  };
  const auto fd = [&](double step) {
    Differences d;
    double minus = 0;
    const double plus = loss(step);
    try {
      minus = loss(-step);
    } catch (const InputError&) {
      d.two_sided = false;
      d.central = d.forward = d.backward = (-3 * base_loss + 4 * plus - loss(2 * step)) / (2 * step);
      return d;
    }
    d.central = (plus - minus) / (2 * step);
    d.forward = (plus - base_loss) / step;
    d.backward = (base_loss - minus) / step;
    return d;
  };
  GradcheckRow r;
  r.quantity = quantity;
  r.adjoint = adjoint;
  r.float_rel_error = std::numeric_limits<double>::quiet_NaN();
  const Differences at_h = fd(h), at_half = fd(h / 2);
  r.finite_difference = estimate == FdEstimate::Richardson && at_h.two_sided && at_half.two_sided
                            ? (4 * at_half.central - at_h.central) / 3
                            : at_h.central;
  // Below `absolute` a difference is finite-difference round-off (eps |L| / h
  // ~ 1e-10 |L|), not a gradient error: a quantity the loss does not depend on
  // (E of a body in free fall) has a zero gradient that FD only approximates.
  const double absolute = 1e-9 * std::max(1.0, std::abs(base_loss));
  const double denom = std::max({std::abs(r.finite_difference), std::abs(adjoint), 1e-300});
  r.rel_error = std::abs(adjoint - r.finite_difference) / denom;
  const double allowed = std::max(tolerance * denom, absolute);
  const bool close = r.rel_error <= tolerance || std::abs(adjoint - r.finite_difference) <= absolute;
  // A kink within the stencil but away from the base point: the central
  // differences at h and h/2 disagree.
  const bool kink_in_stencil = std::abs(at_h.central - at_half.central) > allowed;
  // A kink AT the base point (a branch boundary through the unperturbed
  // state, e.g. sand grains sitting on the apex of the Drucker-Prager cone):
  // the central differences at h and h/2 agree (both straddle it
  // symmetrically) but average two different one-sided slopes.  Smooth L has
  // forward - backward = h L'' + O(h^3), which halves with h; a slope jump
  // J at 0 gives J at every h.  So the asymmetry that does not halve is the jump.
  const double asym_h = at_h.forward - at_h.backward, asym_half = at_half.forward - at_half.backward;
  const double jump = asym_half - 0.5 * asym_h;  // ~ J/2 at a base-point kink, ~0 (h^3) when smooth
  const bool kink_at_base = at_h.two_sided && std::abs(jump) > allowed;
  r.one_sided_forward = at_half.forward;
  r.one_sided_backward = at_half.backward;
  std::ostringstream os;
  if (close) {
    r.status = "ok";
  } else if (kink_in_stencil) {
    r.status = "kink";
    os.precision(3);
    os << "central differences at h and h/2 differ by "
       << std::abs(at_h.central - at_half.central) / std::max(std::abs(at_h.central), 1e-300)
       << " (relative): a branch switch within the stencil";
  } else if (kink_at_base) {
    r.status = "kink";
    os.precision(3);
    os << "one-sided differences (+h/2: " << at_half.forward << ", -h/2: " << at_half.backward
       << ") differ by the same amount at h and h/2: the loss is not differentiable at the base point (a "
          "branch boundary through the unperturbed state); the adjoint takes the branch the state is on";
  } else {
    r.status = "FAIL";
    os.precision(10);
    os << "finite differences agree with each other: central " << at_h.central << " (h), " << at_half.central
       << " (h/2); one-sided " << at_h.forward << " / " << at_h.backward << " (+-h), " << at_half.forward << " / "
       << at_half.backward << " (+-h/2)";
  }
  r.note = os.str();
  return r;
}


bool GradcheckReport::passed() const {
  for (const auto& r : rows)
    if (r.status == "FAIL") return false;
  return !rows.empty();
}

std::string GradcheckReport::table() const {
  std::ostringstream os;
  os << "gradcheck " << scene << ": " << particles << " " << counted << ", " << steps << " substeps, " << loss
     << "; tolerance " << tolerance << " (double)\n";  // issue 6 (gc_fem): counted, loss
  os << std::left << std::setw(58) << "quantity" << std::right << std::setw(16) << "adjoint" << std::setw(16)
     << "finite diff" << std::setw(12) << "rel err" << std::setw(12) << "float err"
     << "  status\n";
  for (const auto& r : rows) {
    os << std::left << std::setw(58) << r.quantity << std::right << std::setprecision(8) << std::setw(16)
       << r.adjoint << std::setw(16) << r.finite_difference << std::setprecision(2) << std::scientific
       << std::setw(12) << r.rel_error << std::setw(12) << r.float_rel_error << std::defaultfloat << "  "
       << r.status << "\n";
  }
  bool any_note = false;
  for (const auto& r : rows)
    if (!r.note.empty()) {
      if (!any_note) os << "notes:\n";
      any_note = true;
      os << "  " << r.quantity << ": " << r.note << "\n";
    }
  if (any_note)
    os << "  (\"kink\": finite differences are unreliable there, so the row neither passes nor fails; see "
          "engine/diff/scene_gradcheck.hpp)\n";
  os << (passed() ? "PASSED" : "FAILED") << "\n";
  return os.str();
}

namespace {

/// Random directions in one tool's controls (issue 6): per-substep actions
/// (the first `steps`), waypoint keys, initial pose.
template <int D>
struct ToolProbe {
  std::vector<ToolAction<D>> actions;
  std::vector<std::array<double, D>> waypoint_positions;
  std::vector<std::array<double, kAngularDim<D>>> waypoint_rotations;
  std::array<double, D> position{};
  std::array<double, kAngularDim<D>> rotation{};
};

template <class Real, int D>
struct Probe {
  // Everything a directional derivative needs, in a precision-independent form.
  std::vector<std::array<double, D>> dir_x, dir_v, dir_force;
  std::vector<std::array<double, D>> wx, wv;
  std::vector<ToolProbe<D>> tools;
};

template <int D>
Probe<double, D> make_probe(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  Probe<double, D> p;
  for (auto* field : {&p.dir_x, &p.dir_v, &p.dir_force, &p.wx, &p.wv}) {
    field->resize(n);
    for (auto& e : *field)
      for (int a = 0; a < D; ++a) e[a] = u(rng);
  }
  return p;
}

template <int D>
void add_tool_probes(Probe<double, D>& p, const scene::SceneDesc& scene, int steps, std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x7001);
  std::uniform_real_distribution<double> u(-1, 1);
  for (const auto& t : scene.tools) {
    ToolProbe<D> tp;
    tp.actions.resize(std::size_t(steps));
    for (auto& a : tp.actions) {
      for (auto& x : a.linear) x = u(rng);
      for (auto& x : a.angular) x = u(rng);
    }
    tp.waypoint_positions.resize(t.waypoints.size());
    tp.waypoint_rotations.resize(t.waypoints.size());
    for (auto& w : tp.waypoint_positions)
      for (auto& x : w) x = u(rng);
    for (auto& w : tp.waypoint_rotations)
      for (auto& x : w) x = u(rng);
    for (auto& x : tp.position) x = u(rng);
    for (auto& x : tp.rotation) x = u(rng);
    p.tools.push_back(tp);
  }
}

/// Which of a tool's controls a perturbation moves (issue 6).
enum class ToolQuantity { None, LinearActions, AngularActions, WaypointPositions, WaypointRotations, Position, Rotation,
                          Friction, Stiffness };

/// Euler XYZ angles [deg] of R = Rz Ry Rx (the scene convention; away from gimbal lock).
std::array<double, 3> euler_deg(const Mat<double, 3>& R) {
  const double k = 180.0 / M_PI;
  return {std::atan2(R(2, 1), R(2, 2)) * k, std::asin(std::max(-1.0, std::min(1.0, -R(2, 0)))) * k,
          std::atan2(R(1, 0), R(0, 0)) * k};
}

/// rotation_deg of exp([h d]x) R (3D) or the angle + h d (2D, d per radian).
template <int D>
std::array<double, 3> rotated_deg(const std::array<double, 3>& rotation_deg, const std::array<double, kAngularDim<D>>& d,
                                  double h) {
  if constexpr (D == 2) {
    std::array<double, 3> r = rotation_deg;
    r[0] += h * d[0] * 180.0 / M_PI;
    return r;
  } else {
    return euler_deg(rotation::exp_map(Vec<double, 3>{{h * d[0], h * d[1], h * d[2]}}) *
                     rotation::from_euler_deg(rotation_deg));
  }
}

/// One configuration of the differentiable quantities, as perturbations of the scene's values.
struct Perturbation {
  double x = 0, v = 0, force = 0;  // along the probe's directions
  int material = -1, param = -1;   // param -1 with material >= 0: density
  double material_delta = 0;       // relative
  int wall_axis = -1, wall_side = 0;
  double friction_delta = 0;       // absolute
  int tool = -1;                   // issue 6: a tool's controls, along the probe's directions
  ToolQuantity tool_quantity = ToolQuantity::None;
  double tool_delta = 0;           // stiffness: relative; the rest: absolute along the direction
};

template <class Real, int D>
struct Evaluation {
  double loss = 0;
  RolloutGradients<Real, D> grad;
  std::vector<double> force_dot;  // per step: dL/df_step . dir_force
};

template <class Real, int D>
Evaluation<Real, D> evaluate(const scene::SceneDesc& scene, const Probe<double, D>& probe, int steps,
                             const Perturbation& pert, bool backward) {
  // issue 6: waypoint keys and initial poses are perturbed in the scene before the world is built
  scene::SceneDesc moved;
  const bool moves_tool_desc =
      pert.tool >= 0 && (pert.tool_quantity == ToolQuantity::WaypointPositions || pert.tool_quantity == ToolQuantity::WaypointRotations ||
                         pert.tool_quantity == ToolQuantity::Position || pert.tool_quantity == ToolQuantity::Rotation);
  if (moves_tool_desc) {
    moved = scene;
    auto& t = moved.tools[std::size_t(pert.tool)];
    const ToolProbe<D>& tp = probe.tools[std::size_t(pert.tool)];
    const double h = pert.tool_delta;
    for (std::size_t k = 0; k < t.waypoints.size(); ++k) {
      if (pert.tool_quantity == ToolQuantity::WaypointPositions)
        for (int a = 0; a < D; ++a) t.waypoints[k].position[std::size_t(a)] += h * tp.waypoint_positions[k][std::size_t(a)];
      if (pert.tool_quantity == ToolQuantity::WaypointRotations)
        t.waypoints[k].rotation_deg = rotated_deg<D>(t.waypoints[k].rotation_deg, tp.waypoint_rotations[k], h);
    }
    if (pert.tool_quantity == ToolQuantity::Position)
      for (int a = 0; a < D; ++a) t.position[std::size_t(a)] += h * tp.position[std::size_t(a)];
    if (pert.tool_quantity == ToolQuantity::Rotation) t.rotation_deg = rotated_deg<D>(t.rotation_deg, tp.rotation, h);
  }
  auto world = scene::build_world<Real, D>(moves_tool_desc ? moved : scene, Backend::Cpu);
  if (pert.tool >= 0 && !moves_tool_desc) {
    Tool<D>& tool = world->tool(pert.tool);
    const ToolProbe<D>& tp = probe.tools[std::size_t(pert.tool)];
    if (pert.tool_quantity == ToolQuantity::LinearActions || pert.tool_quantity == ToolQuantity::AngularActions) {
      std::vector<ToolAction<D>> acts = tool.spec().actions;
      // Only the substeps the tool has actions for (it rests after them, without a gradient).
      for (std::size_t n = 0; n < tp.actions.size() && n < acts.size(); ++n) {
        if (pert.tool_quantity == ToolQuantity::LinearActions)
          for (int a = 0; a < D; ++a) acts[n].linear[std::size_t(a)] += pert.tool_delta * tp.actions[n].linear[std::size_t(a)];
        else
          for (int a = 0; a < kAngularDim<D>; ++a)
            acts[n].angular[std::size_t(a)] += pert.tool_delta * tp.actions[n].angular[std::size_t(a)];
      }
      tool.set_actions(acts);
    }
    if (pert.tool_quantity == ToolQuantity::Friction) tool.set_friction(tool.spec().friction + pert.tool_delta);
    if (pert.tool_quantity == ToolQuantity::Stiffness) tool.set_stiffness(tool.spec().stiffness * (1 + pert.tool_delta));
  }
  const std::size_t n = world->num_particles();
  if (pert.x != 0 || pert.v != 0) {
    auto p = world->particles();
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < D; ++a) {
        p.x[i][a] += Real(pert.x * probe.dir_x[i][a]);
        p.v[i][a] += Real(pert.v * probe.dir_v[i][a]);
      }
    world->set_particles(p);
  }
  if (pert.material >= 0) {
    materials::MaterialDesc m = world->materials()[std::size_t(pert.material)];
    if (pert.param < 0)
      m.density *= 1 + pert.material_delta;
    else
      m.params[std::size_t(pert.param)] += pert.material_delta * std::max(1.0, std::abs(m.params[std::size_t(pert.param)]));
    world->set_material(pert.material, m);
  }
  if (pert.wall_axis >= 0)
    world->set_wall_friction(pert.wall_axis, pert.wall_side,
                             world->settings().walls[std::size_t(pert.wall_axis)][std::size_t(pert.wall_side)].friction +
                                 pert.friction_delta);

  Evaluation<Real, D> e;
  e.force_dot.assign(std::size_t(steps), 0.0);
  RolloutOptions<Real, D> opt;
  opt.steps = steps;
  opt.loss_reads_step = [steps](int s) { return s == steps || s == steps / 2; };
  opt.on_state = [&](int, const ParticleSet<Real, D>& s) {
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < D; ++a) e.loss += (probe.wx[i][a] * double(s.x[i][a]) + probe.wv[i][a] * double(s.v[i][a])) / double(n);
  };
  opt.loss_gradient = [&](int, const ParticleSet<Real, D>&, ParticleAdjoint<Real, D>& g) {
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < D; ++a) {
        g.x[i][a] += Real(probe.wx[i][a] / double(n));
        g.v[i][a] += Real(probe.wv[i][a] / double(n));
      }
  };
  opt.forces = [&](int, std::vector<Vec<Real, D>>& f) {
    // A force field proportional to each particle's weight, so the perturbation
    // is of the same relative size for every scene.
    const auto& p = world->particles();
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < D; ++a) f[i][a] = Real(pert.force * probe.dir_force[i][a] * double(p.mass[i]) * 9.8);
  };
  opt.force_gradient = [&](int step, const std::vector<Vec<Real, D>>& g) {
    const auto& p = world->particles();
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < D; ++a) s += double(g[i][a]) * probe.dir_force[i][a] * double(p.mass[i]) * 9.8;
    e.force_dot[std::size_t(step)] = s;
  };
  MpmRollout<Real, D> rollout(*world, opt);
  rollout.forward();
  if (backward) e.grad = rollout.backward();
  return e;
}

/// issue 6: rows for each tool's controls, as directional derivatives along the
/// probe's random directions: velocity actions (linear, angular), waypoint
/// positions and rotations, the initial pose (static and velocity tools),
/// friction (friction and soft contact, mu > 0) and the soft penalty stiffness
/// (relative).  Hard contact modes switch branches where a node enters or
/// leaves a tool, so their rows may read "kink".
template <int D, class TG, class TGF, class World, class AddRow>
void add_tool_rows(const scene::SceneDesc& scene, const Probe<double, D>& probe, const TG& grads, const TGF& grads_f,
                   const World& world, AddRow& add_row) {
  for (std::size_t k = 0; k < scene.tools.size() && k < grads.size(); ++k) {
    const auto& t = scene.tools[k];
    const ToolProbe<D>& tp = probe.tools[k];
    const auto& g = grads[k];
    const auto& gf = grads_f[k];
    const std::string name = "tool '" + t.name + "' ";
    auto row = [&](const std::string& what, double adj, double adj_f, ToolQuantity q, double h) {
      add_row(name + what, adj, adj_f,
              [k, q](Perturbation& p, double d) {
                p.tool = int(k);
                p.tool_quantity = q;
                p.tool_delta = d;
              },
              h);
    };
    auto dot_actions = [&](const auto& ga, bool linear) {
      double s = 0;
      for (std::size_t n = 0; n < tp.actions.size() && n < ga.actions.size(); ++n) {
        if (linear)
          for (int a = 0; a < D; ++a) s += double(ga.actions[n].linear[std::size_t(a)]) * tp.actions[n].linear[std::size_t(a)];
        else
          for (int a = 0; a < kAngularDim<D>; ++a)
            s += double(ga.actions[n].angular[std::size_t(a)]) * tp.actions[n].angular[std::size_t(a)];
      }
      return s;
    };
    auto dot_keys = [](const auto& gk, const auto& dir) {
      double s = 0;
      for (std::size_t i = 0; i < gk.size() && i < dir.size(); ++i)
        for (std::size_t a = 0; a < dir[i].size(); ++a) s += double(gk[i][a]) * dir[i][a];
      return s;
    };
    auto dot_arr = [](const auto& x, const auto& y) {
      double s = 0;
      for (std::size_t a = 0; a < y.size(); ++a) s += double(x[a]) * y[a];
      return s;
    };
    switch (t.motion) {
      case scene::ToolMotionType::Velocity:
        row("velocity actions, linear (random direction)", dot_actions(g, true), dot_actions(gf, true),
            ToolQuantity::LinearActions, 1e-6);
        row("velocity actions, angular (random direction)", dot_actions(g, false), dot_actions(gf, false),
            ToolQuantity::AngularActions, 1e-5);
        [[fallthrough]];
      case scene::ToolMotionType::Static:
        row("initial position (random direction)", dot_arr(g.initial_position, tp.position),
            dot_arr(gf.initial_position, tp.position), ToolQuantity::Position, 1e-6);
        row("initial rotation (random direction, rad)", dot_arr(g.initial_rotation, tp.rotation),
            dot_arr(gf.initial_rotation, tp.rotation), ToolQuantity::Rotation, 1e-5);
        break;
      case scene::ToolMotionType::Waypoints:
        row("waypoint positions (random direction)", dot_keys(g.waypoint_positions, tp.waypoint_positions),
            dot_keys(gf.waypoint_positions, tp.waypoint_positions), ToolQuantity::WaypointPositions, 1e-6);
        row("waypoint rotations (random direction, rad)", dot_keys(g.waypoint_rotations, tp.waypoint_rotations),
            dot_keys(gf.waypoint_rotations, tp.waypoint_rotations), ToolQuantity::WaypointRotations, 1e-5);
        break;
    }
    const double mu = world.tools()[k].spec().friction;
    if ((t.mode == ContactMode::Friction || t.mode == ContactMode::Soft) && mu > 1e-5)
      row("friction", g.friction, gf.friction, ToolQuantity::Friction, 1e-6);
    if (t.mode == ContactMode::Soft) {
      const double stiffness = world.tools()[k].spec().stiffness;
      // Reported as dL/d(k / k0): the derivative per relative change, like the material rows.
      row("stiffness (relative)", stiffness * g.stiffness, stiffness * gf.stiffness, ToolQuantity::Stiffness, 1e-6);
    }
  }
}

template <int D>
GradcheckReport run_gradcheck(const scene::SceneDesc& scene, const GradcheckOptions& o) {
  GradcheckReport report;
  report.scene = scene.path;
  report.steps = o.steps;
  report.tolerance = o.tolerance;
  const auto probe_world = scene::build_world<double, D>(scene, Backend::Cpu);
  const std::size_t n = probe_world->num_particles();
  report.particles = n;
  Probe<double, D> probe = make_probe<D>(n, o.seed);
  add_tool_probes<D>(probe, scene, o.steps, o.seed);  // issue 6
  const auto base = evaluate<double, D>(scene, probe, o.steps, {}, true);
  const auto base_f = evaluate<float, D>(scene, probe, o.steps, {}, true);

  auto loss_at = [&](const std::function<void(Perturbation&, double)>& set, double t) {
    Perturbation p;
    set(p, t);
    return evaluate<double, D>(scene, probe, o.steps, p, false).loss;
  };
  auto add_row = [&](const std::string& name, double adj, double adj_float,
                     const std::function<void(Perturbation&, double)>& set, double h) {
    GradcheckRow r = gradcheck_row(
        name, adj, base.loss, [&](double t) { return loss_at(set, t); }, h, o.tolerance, FdEstimate::Central);
    const double absolute = 1e-9 * std::max(1.0, std::abs(base.loss));
    r.float_rel_error = std::abs(adj_float - adj) / std::max({std::abs(adj), absolute, 1e-300});
    report.rows.push_back(r);
  };

  auto dot_field = [&](const auto& grad, const auto& dir) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < D; ++a) s += double(grad[i][a]) * dir[i][a];
    return s;
  };
  add_row("initial positions (random direction)", dot_field(base.grad.initial_state.x, probe.dir_x),
          dot_field(base_f.grad.initial_state.x, probe.dir_x), [](Perturbation& p, double h) { p.x = h; }, 1e-6);
  add_row("initial velocities (random direction)", dot_field(base.grad.initial_state.v, probe.dir_v),
          dot_field(base_f.grad.initial_state.v, probe.dir_v), [](Perturbation& p, double h) { p.v = h; }, 1e-6);

  const auto& mats = probe_world->materials();
  for (std::size_t m = 0; m < mats.size(); ++m) {
    const auto info = materials::model_info(mats[m].model_id);
    for (int k = 0; k < info.num_params; ++k) {
      const double scale = std::max(1.0, std::abs(mats[m].params[std::size_t(k)]));
      // Reported as dL/d(p / scale): the derivative per relative change of p.
      add_row("material '" + mats[m].label + "' " + info.params[k].name,
              scale * base.grad.parameters.per_material[m][std::size_t(k)],
              scale * double(base_f.grad.parameters.per_material[m][std::size_t(k)]),
              [m, k](Perturbation& p, double h) {
                p.material = int(m);
                p.param = k;
                p.material_delta = h;
              },
              1e-6);
    }
    add_row("material '" + mats[m].label + "' density (relative)", mats[m].density * base.grad.density[m],
            mats[m].density * base_f.grad.density[m],
            [m](Perturbation& p, double h) {
              p.material = int(m);
              p.param = -1;
              p.material_delta = h;
            },
            1e-6);
  }
  const auto& walls = probe_world->settings().walls;
  const char* axis_name[3] = {"x", "y", "z"};
  for (int a = 0; a < D; ++a)
    for (int side = 0; side < 2; ++side) {
      // Friction acts only on separating walls; at mu = 0 a central difference
      // would need a negative coefficient, so such faces are not listed.
      if (walls[std::size_t(a)][std::size_t(side)].type != WallType::Separate ||
          walls[std::size_t(a)][std::size_t(side)].friction < 1e-5)
        continue;
      add_row(std::string("wall ") + axis_name[a] + (side ? "_high" : "_low") + " friction",
              base.grad.parameters.wall_friction[0][std::size_t(a)][std::size_t(side)],
              base_f.grad.parameters.wall_friction[0][std::size_t(a)][std::size_t(side)],
              [a, side](Perturbation& p, double h) {
                p.wall_axis = a;
                p.wall_side = side;
                p.friction_delta = h;
              },
              1e-6);
    }
  double adj_force = 0, adj_force_f = 0;
  for (double s : base.force_dot) adj_force += s;
  for (double s : base_f.force_dot) adj_force_f += s;
  add_row("per-step external forces (random field)", adj_force, adj_force_f,
          [](Perturbation& p, double h) { p.force = h; }, 1e-6);
  add_tool_rows<D>(scene, probe, base.grad.tools, base_f.grad.tools, *probe_world, add_row);  // issue 6
  return report;
}

}  // namespace

// issue 6 (gc_fem)
std::array<double, 3> rotated_euler_deg(const std::array<double, 3>& rotation_deg, const std::array<double, 3>& d,
                                        double h) {
  return rotated_deg<3>(rotation_deg, d, h);
}

GradcheckReport gradcheck_scene(const scene::SceneDesc& scene, const GradcheckOptions& options) {
  if (options.steps < 1) throw InputError("gradcheck: --steps must be >= 1");
  // issue 6 (gc_fem) begin: FEM-only and coupled MPM + FEM scenes have their own rollouts
  if (scene.bodies.empty()) {
    if (!scene.fem.enabled) throw InputError(scene.path + ": gradcheck: the scene has no MPM bodies and no FEM bodies");
    return gradcheck_fem_scene(scene, options);
  }
  if (scene.fem.enabled && scene.fem.coupling) return gradcheck_coupled_scene(scene, options);
  // issue 6 (gc_fem) end
  return scene.simulation.dim == 2 ? run_gradcheck<2>(scene, options) : run_gradcheck<3>(scene, options);
}

}  // namespace pl
