// End-to-end gradients of the MPM <-> FEM coupling (issue 6): a coupled
// rollout of a tiny system (18 jelly particles on a 12^3 grid, one FEM cube of
// 6 tets with its back face prescribed, 8 substeps, every one in contact)
// against central finite differences in double, for the FEM initial velocity
// and positions, the prescribed trajectory, the MPM initial velocity, and the
// coupling's stiffness and friction.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "engine/diff/coupled_rollout.hpp"
#include "tests/coupling/mpm_fem_test_world.hpp"

namespace pl {
namespace {

using test::filled;
using test::lattice_box;
using test::material;

constexpr int kSteps = 8;
constexpr double kDt = 5e-4;

/// What a finite-difference probe changes before the rollout.
struct Perturbation {
  std::vector<double> fem_v, fem_x;  // added to the FEM initial state (3 per vertex), or empty
  std::array<double, 3> mpm_v{};     // added to every particle's initial velocity
  double stiffness = 0, friction = 0;
  int traj_step = -1, traj_entry = 0;  // prescribed trajectory entry changed by traj_delta
  double traj_delta = 0;
  fem::FemIntegrator integrator = fem::FemIntegrator::kSymplecticEuler;  // not a perturbation: which FEM step
};

MpmSettings<3> tiny_mpm_settings() {
  MpmSettings<3> s = MpmSettings<3>::cube(0.24, 12);
  s.dt = kDt;
  s.gravity = {0, 0, 0};
  for (int a = 0; a < 3; ++a) s.walls[a][0] = s.walls[a][1] = {WallType::Slip, 0.0};
  return s;
}

/// Random loss weights on every final quantity (fixed seed).
struct LossWeights {
  std::vector<double> px, pv, fx, fv;
  LossWeights(std::size_t particles, std::size_t fem_dofs) {
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> u(-1, 1);
    for (auto* w : {&px, &pv}) {
      w->resize(3 * particles);
      for (double& x : *w) x = u(rng);
    }
    for (auto* w : {&fx, &fv}) {
      w->resize(fem_dofs);
      for (double& x : *w) x = u(rng);
    }
  }
};

/// Builds the tiny coupled system with `p` applied; runs `body` on it.
template <class F>
void with_system(const Perturbation& p, F&& body) {
  MpmWorld<double, 3> mpm(tiny_mpm_settings(), {material("fixed_corotated", {{"E", 5e3}, {"nu", 0.3}}, 1000, "jelly")});
  const double dx = mpm.settings().dx;
  mpm.add_body("jelly", lattice_box<3>({0.11, 0.09, 0.09}, {0.15, 0.15, 0.15}, dx, 1), 0,
               {-0.2 + p.mpm_v[0], 0.1 + p.mpm_v[1], p.mpm_v[2]}, dx * dx * dx);
  fem::FemWorld<double> fem(test::coupled_fem_settings(kDt, 0.0, p.integrator));
  const fem::TetMesh mesh = fem::make_box_mesh({0.06, 0.10, 0.10}, {0.10, 0.14, 0.14}, {1, 1, 1});
  fem.add_tet_body("pad", mesh, material("stable_neo_hookean", {{"E", 5e4}, {"nu", 0.3}}, 1000, "rubber"));
  const int nv = fem.num_vertices();
  for (int i = 0; i < nv; ++i) {
    const double vel[3] = {0.5, 0.0, 0.1};
    for (int a = 0; a < 3; ++a) {
      const std::size_t k = 3 * std::size_t(i) + std::size_t(a);
      fem.velocities()[k] = vel[a] + (p.fem_v.empty() ? 0.0 : p.fem_v[k]);
      fem.positions()[k] += p.fem_x.empty() ? 0.0 : p.fem_x[k];
    }
  }
  // The back face (x = 0.06) follows a prescribed path at 0.3 m/s along x.
  std::vector<int> back;
  for (int i = 0; i < nv; ++i)
    if (mesh.vertices[std::size_t(i)][0] < 0.061) back.push_back(i);
  std::vector<std::vector<double>> traj(kSteps, std::vector<double>(3 * back.size()));
  for (int n = 0; n < kSteps; ++n)
    for (std::size_t k = 0; k < back.size(); ++k)
      for (int a = 0; a < 3; ++a)
        traj[std::size_t(n)][3 * k + std::size_t(a)] =
            mesh.vertices[std::size_t(back[k])][std::size_t(a)] + (a == 0 ? 0.3 * (n + 1) * kDt : 0.0);
  if (p.traj_step >= 0) traj[std::size_t(p.traj_step)][std::size_t(p.traj_entry)] += p.traj_delta;
  fem.prescribe(back, traj);
  MpmFemCouplingSettings cs;
  cs.stiffness = 2e4 + p.stiffness;
  cs.friction = 0.4 + p.friction;
  cs.slip_speed = 0.05;
  MpmFemCoupling<double> coupling(mpm, fem, test::surface_triangles(mesh, 0), cs, "test");
  body(mpm, fem, coupling);
}

double loss(const MpmWorld<double, 3>& mpm, const fem::FemWorld<double>& fem, const LossWeights& w) {
  const auto& p = mpm.particles();
  double l = 0;
  for (std::size_t i = 0; i < p.size(); ++i)
    for (int a = 0; a < 3; ++a) l += w.px[3 * i + std::size_t(a)] * p.x[i][a] + w.pv[3 * i + std::size_t(a)] * p.v[i][a];
  for (std::size_t k = 0; k < fem.positions().size(); ++k) l += w.fx[k] * fem.positions()[k] + w.fv[k] * fem.velocities()[k];
  return l;
}

double rollout_loss(const Perturbation& p) {
  double l = 0;
  with_system(p, [&](MpmWorld<double, 3>& mpm, fem::FemWorld<double>& fem, MpmFemCoupling<double>& c) {
    c.step(kSteps);
    l = loss(mpm, fem, LossWeights(mpm.num_particles(), fem.positions().size()));
  });
  return l;
}

CoupledRolloutGradients<double> rollout_gradients(fem::FemIntegrator integrator, int* pairs_in_contact) {
  CoupledRolloutGradients<double> g;
  Perturbation none;
  none.integrator = integrator;
  with_system(none, [&](MpmWorld<double, 3>& mpm, fem::FemWorld<double>& fem, MpmFemCoupling<double>& c) {
    const LossWeights w(mpm.num_particles(), fem.positions().size());
    CoupledRolloutOptions<double> opt;
    opt.steps = kSteps;
    opt.checkpoints = 3;  // recomputes part of the rollout in the backward pass
    opt.final_loss_gradient = [&](const ParticleSet<double, 3>& p, const fem::FemWorld<double>&,
                                  ParticleAdjoint<double, 3>& ap, std::vector<double>& ax, std::vector<double>& av) {
      for (std::size_t i = 0; i < p.size(); ++i)
        for (int a = 0; a < 3; ++a) ap.x[i][a] += w.px[3 * i + std::size_t(a)], ap.v[i][a] += w.pv[3 * i + std::size_t(a)];
      for (std::size_t k = 0; k < ax.size(); ++k) ax[k] += w.fx[k], av[k] += w.fv[k];
    };
    CoupledRollout<double> r(c, mpm, fem, opt);
    r.forward();
    double f = 0;
    for (double v : c.vertex_forces()) f += std::fabs(v);
    *pairs_in_contact = f > 0 ? 1 : 0;
    g = r.backward();
  });
  return g;
}

void expect_close(double analytic, double fd, const char* what, double tolerance) {
  EXPECT_NEAR(analytic, fd, tolerance * std::max(std::fabs(fd), 1e-8)) << what << ": adjoint " << analytic << ", FD " << fd;
  std::printf("%-28s adjoint % .10e  FD % .10e  rel %.1e\n", what, analytic, fd,
              std::fabs(analytic - fd) / std::max(std::fabs(fd), 1e-300));
}

/// Central differences with steps h_scale x the defaults below; relative tolerance `tolerance`.
void check_coupled_gradients(fem::FemIntegrator integrator, double h_scale, double tolerance) {
  int contact = 0;
  const CoupledRolloutGradients<double> g = rollout_gradients(integrator, &contact);
  const auto base = [integrator] {
    Perturbation p;
    p.integrator = integrator;
    return p;
  };
  ASSERT_EQ(contact, 1) << "the bodies must touch in the last substep";
  const std::size_t ndof = g.fem_v0.size();
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  const auto central = [](const std::function<double(double)>& f, double h) { return (f(h) - f(-h)) / (2 * h); };

  // A random direction in the FEM initial velocities or positions (`field` of Perturbation).
  const auto fem_direction = [&](const std::vector<double>& adjoint, std::vector<double> Perturbation::*field, double h,
                                 const char* what) {
    std::vector<double> dir(ndof);
    double analytic = 0;
    for (std::size_t k = 0; k < ndof; ++k) dir[k] = u(rng), analytic += dir[k] * adjoint[k];
    const double fd = central([&](double eps) {
      Perturbation p = base();
      p.*field = dir;
      for (double& x : p.*field) x *= eps;
      return rollout_loss(p);
    }, h);
    expect_close(analytic, fd, what, tolerance);
  };
  fem_direction(g.fem_v0, &Perturbation::fem_v, 1e-5 * h_scale, "FEM initial velocity");
  fem_direction(g.fem_x0, &Perturbation::fem_x, 1e-7 * h_scale, "FEM initial positions");
  {  // one prescribed-trajectory entry (step 3, first back vertex, x)
    const double analytic = g.fem_parameters.prescribed[3][0];
    const double fd = central([&](double h) {
      Perturbation p = base();
      p.traj_step = 3, p.traj_entry = 0, p.traj_delta = h;
      return rollout_loss(p);
    }, 1e-7 * h_scale);
    expect_close(analytic, fd, "prescribed trajectory", tolerance);
  }
  {  // every particle's initial velocity along (1, -0.5, 0.3)
    const std::array<double, 3> dir{1.0, -0.5, 0.3};
    double analytic = 0;
    for (const auto& v : g.particles0.v)
      for (int a = 0; a < 3; ++a) analytic += dir[std::size_t(a)] * v[a];
    const double fd = central([&](double h) {
      Perturbation p = base();
      for (int a = 0; a < 3; ++a) p.mpm_v[std::size_t(a)] = h * dir[std::size_t(a)];
      return rollout_loss(p);
    }, 1e-5 * h_scale);
    expect_close(analytic, fd, "MPM initial velocity", tolerance);
  }
  // The coupling's parameters (added to k = 2e4 and mu = 0.4).
  const auto parameter = [&](double analytic, double Perturbation::*field, double h, const char* what) {
    const double fd = central([&](double eps) {
      Perturbation p = base();
      p.*field = eps;
      return rollout_loss(p);
    }, h);
    expect_close(analytic, fd, what, tolerance);
  };
  parameter(g.stiffness, &Perturbation::stiffness, 1e-1 * h_scale, "coupling stiffness");
  parameter(g.friction, &Perturbation::friction, 1e-5 * h_scale, "coupling friction");
}

TEST(CouplingMpmFemGradcheck, CoupledRolloutMatchesFiniteDifferences) {
  check_coupled_gradients(fem::FemIntegrator::kSymplecticEuler, 1, 1e-6);
}

TEST(CouplingMpmFemGradcheck, CoupledRolloutWithImplicitFemMatchesFiniteDifferences) {
  // The implicit FEM step is a Newton solve whose stopping point moves a
  // little between nearby inputs; velocities (x_{n+1} - x_n) / h amplify that,
  // so the loss carries ~1e-9 of noise and the differences need 100x larger
  // steps, where truncation error grows.  Measured on a 4-substep version, the
  // FEM v0 error falls as the step grows (5e-3 at h = 1e-6, 1e-4 at 1e-5,
  // 2e-6 at 1e-4, 7e-7 at 1e-3): noise, not a wrong adjoint.  Here (8
  // substeps) the rows agree to 1e-6 .. 1e-4.  The FEM step's own adjoint is
  // checked to 1e-6 with constant forces (FemExternalForceAdjointMatchesFiniteDifferences),
  // the coupling's with symplectic Euler above.
  check_coupled_gradients(fem::FemIntegrator::kImplicitEuler, 100, 3e-4);
}

}  // namespace
}  // namespace pl
