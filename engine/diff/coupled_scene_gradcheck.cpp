#include "engine/diff/coupled_scene_gradcheck.hpp"

#include <random>

#include "engine/core/error.hpp"
#include "engine/coupling/mpm_fem_scene.hpp"
#include "engine/diff/coupled_rollout.hpp"
#include "engine/diff/fem_scene_gradcheck.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/fem_loader.hpp"

namespace pl {

namespace {

/// Random directions and loss weights: MPM (3 per particle), FEM (3 per vertex), prescribed (per step).
struct CoupledProbe {
  std::vector<double> mpm_dx, mpm_dv, mpm_wx, mpm_wv;
  FemDirections fem;
};

enum class CoupledQuantity { None, MpmX0, MpmV0, FemX0, FemV0, Prescribed, Stiffness, Friction };

struct CoupledEvaluation {
  double loss = 0;
  CoupledRolloutGradients<double> grad;
};

CoupledEvaluation evaluate_coupled(const scene::SceneDesc& scene, const CoupledProbe& probe, int steps,
                                   CoupledQuantity q, double t, bool backward) {
  auto world = scene::build_world<double, 3>(scene, Backend::Cpu);
  scene::FemSceneRun<double> run(scene);
  fem::FemWorld<double>& fem = run.coupled_world();
  const auto coupling = make_scene_coupling<double>(scene, *world, &run);
  if (!coupling) throw InputError(scene.path + ": fem.coupling: the coupled scene has no particles or no FEM bodies");
  const std::size_t np = world->num_particles();
  if (q == CoupledQuantity::MpmX0 || q == CoupledQuantity::MpmV0) {
    auto p = world->particles();
    const auto& d = q == CoupledQuantity::MpmX0 ? probe.mpm_dx : probe.mpm_dv;
    for (std::size_t i = 0; i < np; ++i)
      for (int a = 0; a < 3; ++a) (q == CoupledQuantity::MpmX0 ? p.x : p.v)[i][a] += t * d[3 * i + std::size_t(a)];
    world->set_particles(p);
  }
  if (q == CoupledQuantity::FemX0)
    for (std::size_t i = 0; i < fem.positions().size(); ++i) fem.positions()[i] += t * probe.fem.dx[i];
  if (q == CoupledQuantity::FemV0)
    for (std::size_t i = 0; i < fem.velocities().size(); ++i) fem.velocities()[i] += t * probe.fem.dv[i];
  if (q == CoupledQuantity::Prescribed) probe.fem.perturb_prescribed(fem, t);
  if (q == CoupledQuantity::Stiffness) coupling->set_stiffness(coupling->params().stiffness * (1 + t));
  if (q == CoupledQuantity::Friction) coupling->set_friction(coupling->params().friction + t);

  const double n_mpm = double(np), n_fem = double(fem.num_vertices());
  CoupledRolloutOptions<double> opt;
  opt.steps = steps;
  opt.final_loss_gradient = [&](const ParticleSet<double, 3>&, const fem::FemWorld<double>&,
                                ParticleAdjoint<double, 3>& ap, std::vector<double>& ax, std::vector<double>& av) {
    for (std::size_t i = 0; i < np; ++i)
      for (int a = 0; a < 3; ++a) {
        ap.x[i][a] += probe.mpm_wx[3 * i + std::size_t(a)] / n_mpm;
        ap.v[i][a] += probe.mpm_wv[3 * i + std::size_t(a)] / n_mpm;
      }
    for (std::size_t k = 0; k < ax.size(); ++k) ax[k] += probe.fem.wx[k] / n_fem, av[k] += probe.fem.wv[k] / n_fem;
  };
  CoupledRollout<double> rollout(*coupling, *world, fem, opt);
  rollout.forward();
  CoupledEvaluation e;
  const auto& p = world->particles();
  for (std::size_t i = 0; i < np; ++i)
    for (int a = 0; a < 3; ++a)
      e.loss += (probe.mpm_wx[3 * i + std::size_t(a)] * p.x[i][a] + probe.mpm_wv[3 * i + std::size_t(a)] * p.v[i][a]) / n_mpm;
  e.loss += probe.fem.loss(fem);
  if (backward) e.grad = rollout.backward();
  return e;
}

}  // namespace

GradcheckReport gradcheck_coupled_scene(const scene::SceneDesc& scene, const GradcheckOptions& o) {
  if (o.steps < 1) throw InputError("gradcheck: --steps must be >= 1");
  if (!scene.tools.empty())
    throw InputError(scene.path + ": tools: `pliant gradcheck` does not run tools in a coupled MPM + FEM scene "
                     "(fem.coupling) yet (CoupledRollout has no tools)");
  GradcheckReport report;
  report.scene = scene.path;
  report.steps = o.steps;
  report.tolerance = o.tolerance;

  const auto probe_world = scene::build_world<double, 3>(scene, Backend::Cpu);
  scene::FemSceneRun<double> probe_run(scene);
  const fem::FemWorld<double>& pf = probe_run.world();
  const std::size_t np = probe_world->num_particles();
  report.particles = np;
  report.counted = "MPM particles + " + std::to_string(pf.num_vertices()) + " FEM vertices";
  report.loss = "random linear loss of the final state (float err: n/a, the coupled check runs in double)";
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> mpm[4];
  for (auto& f : mpm) {
    f.resize(3 * np);
    for (double& e : f) e = u(rng);
  }
  const CoupledProbe probe{mpm[0], mpm[1], mpm[2], mpm[3], FemDirections(pf, rng)};

  const CoupledEvaluation base = evaluate_coupled(scene, probe, o.steps, CoupledQuantity::None, 0, true);
  const auto& g = base.grad;
  const auto row = [&](const std::string& name, double adj, CoupledQuantity q, double h) {
    const auto loss = [&](double t) { return evaluate_coupled(scene, probe, o.steps, q, t, false).loss; };
    report.rows.push_back(gradcheck_row(name, adj, base.loss, loss, h, o.tolerance, FdEstimate::Richardson));
  };
  std::vector<double> gx(3 * np), gv(3 * np);
  for (std::size_t i = 0; i < np; ++i)
    for (int a = 0; a < 3; ++a) gx[3 * i + std::size_t(a)] = g.particles0.x[i][a], gv[3 * i + std::size_t(a)] = g.particles0.v[i][a];
  row("MPM initial positions (random direction)", dot(gx, probe.mpm_dx), CoupledQuantity::MpmX0, 1e-6);
  row("MPM initial velocities (random direction)", dot(gv, probe.mpm_dv), CoupledQuantity::MpmV0, 1e-6);
  row("FEM initial positions (random direction)", dot(g.fem_x0, probe.fem.dx), CoupledQuantity::FemX0, 1e-6);
  row("FEM initial velocities (random direction)", dot(g.fem_v0, probe.fem.dv), CoupledQuantity::FemV0, 1e-6);
  if (!pf.prescribed_vertices().empty())
    row("FEM prescribed trajectory (random direction)", probe.fem.prescribed_dot(g.fem_parameters.prescribed),
        CoupledQuantity::Prescribed, 1e-6);
  // Reported per relative change of k, like the material rows.
  const auto coupling_probe = [&]() {
    auto w = scene::build_world<double, 3>(scene, Backend::Cpu);
    scene::FemSceneRun<double> r(scene);
    return make_scene_coupling<double>(scene, *w, &r)->params();
  }();
  row("coupling stiffness (relative)", coupling_probe.stiffness * g.stiffness, CoupledQuantity::Stiffness, 1e-6);
  if (coupling_probe.friction > 1e-5) row("coupling friction", g.friction, CoupledQuantity::Friction, 1e-6);
  return report;
}

}  // namespace pl
