// End-to-end gradients of FEM rollouts vs central finite differences (double):
// a small tet block sliding on a frictional ground plane, pushed by a
// prescribed vertex, under gravity with Rayleigh damping, through 12 implicit
// steps and 40 explicit steps, with a checkpoint budget that forces
// recomputation.  Checked: initial positions and velocities, the prescribed
// trajectory, E, nu, density, friction, alpha, beta.  Tolerance: relative
// error <= 1e-6.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "engine/fem/fem_rollout.hpp"
#include "engine/fem/tet_energy_term.hpp"

namespace pl::fem {
namespace {

struct Knobs {
  double E = 2e4, nu = 0.3, density = 500, friction = 0.4, alpha = 0.5, beta = 2e-3;
  int x0_index = -1, v0_index = -1, traj_step = -1, traj_index = -1;
  double dx0 = 0, dv0 = 0, dtraj = 0;
};

struct Case {
  FemIntegrator integrator;
  double dt;
  int steps;
  const char* model;
};

const int kPushed = 11;  // a top vertex of the block, moved by a prescribed trajectory

std::unique_ptr<FemWorld<double>> build(const Case& c, const Knobs& k) {
  FemSettings s;
  s.dt = c.dt;
  s.integrator = c.integrator;
  s.damping_mass = k.alpha;
  s.damping_stiffness = k.beta;
  s.ground.enabled = true;
  s.ground.stiffness = 2e4;
  s.ground.delta = 1e-3;
  s.ground.friction = k.friction;
  s.ground.slip_speed = 1e-2;
  s.newton_tolerance = 1e-14;
  auto world = std::make_unique<FemWorld<double>>(s);
  const TetMesh mesh = make_box_mesh({0, 0, -3e-4}, {0.1, 0.05, 0.05}, {2, 1, 1});
  world->add_tet_body("block", mesh,
                      materials::make_material("block", c.model, {{"E", k.E}, {"nu", k.nu}}, k.density, "test"));
  for (int v = 0; v < world->num_vertices(); ++v) {
    world->velocities()[std::size_t(3 * v)] = 0.3 + 0.05 * v / world->num_vertices();  // sliding along +x
    world->velocities()[std::size_t(3 * v + 1)] = 0.02 * std::sin(v);
  }
  if (k.x0_index >= 0) world->positions()[std::size_t(k.x0_index)] += k.dx0;
  if (k.v0_index >= 0) world->velocities()[std::size_t(k.v0_index)] += k.dv0;
  std::vector<std::vector<double>> traj;
  const double* p = &mesh.vertices[kPushed][0];
  for (int n = 0; n < c.steps; ++n) {
    const double t = (n + 1) * c.dt;
    traj.push_back({p[0] + 0.2 * t, p[1] + 0.01 * std::sin(40 * t), p[2] - 0.05 * t});
  }
  if (k.traj_step >= 0) traj[std::size_t(k.traj_step)][std::size_t(k.traj_index)] += k.dtraj;
  world->prescribe({kPushed}, traj);
  return world;
}

// L = sum_i c_i x_i + d_i v_i at the middle step and the last step.
struct Loss {
  std::vector<double> c, d;
  explicit Loss(std::size_t n) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> U(-1, 1);
    for (std::size_t i = 0; i < n; ++i) {
      c.push_back(U(rng));
      d.push_back(0.1 * U(rng));
    }
  }
  double value(const FemWorld<double>& w) const {
    double l = 0;
    for (std::size_t i = 0; i < c.size(); ++i) l += c[i] * w.positions()[i] + d[i] * w.velocities()[i];
    return l;
  }
};

double run_loss(const Case& c, const Knobs& k, const Loss& loss) {
  auto w = build(c, k);
  double l = 0;
  for (int n = 0; n < c.steps; ++n) {
    w->step();
    if (n + 1 == c.steps / 2 || n + 1 == c.steps) l += loss.value(*w);
  }
  return l;
}

void check(const char* what, double adjoint, double fd) {
  const double err = std::abs(adjoint - fd) / std::max(std::abs(fd), 1e-300);
  EXPECT_LE(err, 1e-6) << what << ": adjoint " << adjoint << " vs FD " << fd;
  EXPECT_GT(std::abs(fd), 1e-10) << what << " (a gradient that is zero checks nothing)";
}

// full = false checks a subset (E, nu, friction, one initial velocity) to keep the suite fast.
void gradcheck(const Case& c, bool full = true) {
  const Knobs base;
  auto world = build(c, base);
  const Loss loss(std::size_t(3 * world->num_vertices()));
  FemRolloutOptions<double> opt;
  opt.steps = c.steps;
  opt.checkpoints = 3;
  opt.loss_reads_step = [&](int s) { return s == c.steps / 2 || s == c.steps; };
  opt.loss_gradient = [&](int, const FemWorld<double>&, std::vector<double>& ax, std::vector<double>& av) {
    for (std::size_t i = 0; i < ax.size(); ++i) {
      ax[i] += loss.c[i];
      av[i] += loss.d[i];
    }
  };
  FemRollout<double> rollout(*world, opt);
  rollout.forward();
  const FemRolloutGradients<double> g = rollout.backward();
  EXPECT_GT(rollout.schedule()->recomputed_substeps(), 0);  // the checkpoint budget forced recomputation

  auto fd = [&](const std::function<void(Knobs&, double)>& set, double h) {
    Knobs p = base, m = base;
    set(p, h);
    set(m, -h);
    return (run_loss(c, p, loss) - run_loss(c, m, loss)) / (2 * h);
  };
  // Material, damping, friction, density.
  const auto& tp = g.parameters.term_parameters[0];
  check("E", tp[0], fd([](Knobs& k, double h) { k.E += h; }, 1e-5 * base.E));
  check("nu", tp[1], fd([](Knobs& k, double h) { k.nu += h; }, 1e-6));
  if (!full) {
    check("friction", g.parameters.friction, fd([](Knobs& k, double h) { k.friction += h; }, 1e-6));
    check("v0[0]", g.v0[0], fd([](Knobs& k, double h) { k.v0_index = 0; k.dv0 = h; }, 1e-6));
    return;
  }
  check("density", g.parameters.density[0], fd([](Knobs& k, double h) { k.density += h; }, 1e-5 * base.density));
  check("friction", g.parameters.friction, fd([](Knobs& k, double h) { k.friction += h; }, 1e-6));
  check("alpha", g.parameters.damping_mass, fd([](Knobs& k, double h) { k.alpha += h; }, 1e-4));
  check("beta", g.parameters.damping_stiffness, fd([](Knobs& k, double h) { k.beta += h; }, 1e-8));
  // Initial state (a bottom vertex in contact, a top vertex, several axes).
  for (int i : {0, 4, 3 * 7 + 2, 3 * 9 + 1}) {
    check(("x0[" + std::to_string(i) + "]").c_str(), g.x0[std::size_t(i)],
          fd([i](Knobs& k, double h) { k.x0_index = i; k.dx0 = h; }, 1e-6));
    check(("v0[" + std::to_string(i) + "]").c_str(), g.v0[std::size_t(i)],
          fd([i](Knobs& k, double h) { k.v0_index = i; k.dv0 = h; }, 1e-6));
  }
  // Prescribed trajectory.
  for (int s : {0, c.steps / 2 - 1, c.steps - 2})
    for (int a = 0; a < 3; ++a)
      check(("trajectory[" + std::to_string(s) + "][" + std::to_string(a) + "]").c_str(),
            g.parameters.prescribed[std::size_t(s)][std::size_t(a)],
            fd([s, a](Knobs& k, double h) { k.traj_step = s; k.traj_index = a; k.dtraj = h; }, 1e-6));
}

TEST(FemRollout, ImplicitGradientsMatchFiniteDifferences) {
  gradcheck({FemIntegrator::kImplicitEuler, 1e-2, 12, "stable_neo_hookean"});
}

TEST(FemRollout, ImplicitGradientsMatchFiniteDifferencesCorotated) {
  gradcheck({FemIntegrator::kImplicitEuler, 1e-2, 12, "fixed_corotated"}, false);
}

// The adjoint solve with the kernel-layer CG gives the direct solve's gradients.
TEST(FemRollout, ConjugateGradientAdjointMatchesDirect) {
  const Case c{FemIntegrator::kImplicitEuler, 1e-2, 6, "stable_neo_hookean"};
  auto gradients = [&](FemLinearSolver solver) {
    auto world = build(c, Knobs{});
    FemRolloutOptions<double> opt;
    opt.steps = c.steps;
    opt.loss_gradient = [](int, const FemWorld<double>&, std::vector<double>& ax, std::vector<double>&) {
      for (std::size_t i = 2; i < ax.size(); i += 3) ax[i] += 1;
    };
    world->set_linear_solver(solver);
    FemRollout<double> rollout(*world, opt);
    rollout.forward();
    return rollout.backward();
  };
  const auto d = gradients(FemLinearSolver::kDirectLdlt), g = gradients(FemLinearSolver::kConjugateGradient);
  for (std::size_t i = 0; i < d.v0.size(); ++i) EXPECT_NEAR(g.v0[i], d.v0[i], 1e-8 * (1 + std::abs(d.v0[i])));
  EXPECT_NEAR(g.parameters.term_parameters[0][0], d.parameters.term_parameters[0][0],
              1e-7 * std::abs(d.parameters.term_parameters[0][0]));
}

TEST(FemRollout, ExplicitGradientsMatchFiniteDifferences) {
  gradcheck({FemIntegrator::kSymplecticEuler, 5e-4, 40, "stable_neo_hookean"});
}

}  // namespace
}  // namespace pl::fem
