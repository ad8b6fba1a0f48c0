// MPM <-> FEM two-way coupling (issue 6): the pair kernel's adjoint against
// finite differences, momentum exchange in an isolated system, non-penetration
// at the default settings, and input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "engine/core/error.hpp"
#include "engine/coupling/mpm_fem_coupling.hpp"
#include "engine/fem/tet_surface.hpp"
#include "tests/coupling/mpm_fem_test_world.hpp"

namespace pl {
namespace {

using test::CoupledTestWorld;

/// Checks pair_momentum_vjp against central differences for one pair.
void check_pair_adjoint(const ContactPairInput<double>& in, const double (&node_x)[3], const char* what) {
  const MpmFemContactParams<double> prm{in.k, 0.01, 0.003, in.mu, 0.05};
  const double dx = 0.02, dt = 1e-3, g[3] = {0.7, -1.3, 0.4};
  ContactPairInput<double> adj{};
  pair_momentum_vjp(in, node_x, prm, dt, 1 / dx, g, adj);
  double dp0[3];
  pair_momentum(in, node_x, prm, dt, 1 / dx, dp0);
  ASSERT_GT(std::fabs(dp0[0]) + std::fabs(dp0[1]) + std::fabs(dp0[2]), 0.0) << what;
  for (int i = 0; i < kContactPairInputs; ++i) {
    const double h = 1e-6 * std::max(std::fabs(contact_input(in, i)), 1e-3);
    ContactPairInput<double> a = in, b = in;
    contact_input(a, i) += h;
    contact_input(b, i) -= h;
    double da[3], db[3];
    pair_momentum(a, node_x, prm, dt, 1 / dx, da);
    pair_momentum(b, node_x, prm, dt, 1 / dx, db);
    double fd = 0;
    for (int c = 0; c < 3; ++c) fd += g[c] * (da[c] - db[c]) / (2 * h);
    EXPECT_NEAR(contact_input(adj, i), fd, 1e-6 * std::max(1.0, std::fabs(fd))) << what << ", input " << i;
  }
}

TEST(CouplingMpmFem, PairAdjointMatchesFiniteDifferences) {
  // A node in the skin of a vertex, sliding: every term (normal ramp,
  // friction, B-spline weight, normal direction) is active.
  ContactPairInput<double> in{};
  const double p[3] = {0.003, -0.001, 0.0005}, x[3] = {0.093, 0.212, 0.296}, v[3] = {0.2, 0.1, -0.3},
               n[3] = {2e-4, -3e-4, 1e-4};
  for (int a = 0; a < 3; ++a) in.p[a] = p[a], in.x[a] = x[a], in.v[a] = v[a], in.n[a] = n[a];
  in.m = 0.01, in.k = 2e4, in.mu = 0.4;
  const double in_front[3] = {0.10, 0.20, 0.30};
  check_pair_adjoint(in, in_front, "node in the skin");
  // A node 0.75 cells behind the vertex plane: inside the back window's ramp.
  const double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  double behind[3];
  for (int a = 0; a < 3; ++a) behind[a] = x[a] - 0.015 * n[a] / len + (a == 2 ? 0.004 : 0.0);
  check_pair_adjoint(in, behind, "node behind the plane");
}

TEST(CouplingMpmFem, TriangleNormalAdjointMatchesFiniteDifferences) {
  double xs[9] = {0.1, 0.2, 0.3, 0.5, 0.1, 0.2, 0.2, 0.6, 0.4};
  const double g[3] = {0.3, -0.8, 1.1};
  double adj[9] = {};
  adj_triangle_normal_share(xs, xs + 3, xs + 6, g, adj, adj + 3, adj + 6);
  for (int i = 0; i < 9; ++i) {
    const double h = 1e-6, keep = xs[i];
    double sa[3], sb[3];
    xs[i] = keep + h;
    triangle_normal_share(xs, xs + 3, xs + 6, sa);
    xs[i] = keep - h;
    triangle_normal_share(xs, xs + 3, xs + 6, sb);
    xs[i] = keep;
    double fd = 0;
    for (int c = 0; c < 3; ++c) fd += g[c] * (sa[c] - sb[c]) / (2 * h);
    EXPECT_NEAR(adj[i], fd, 1e-9) << "coordinate " << i;
  }
}

/// No gravity, no walls reached: an FEM block moving at +1 m/s runs into an
/// MPM jelly block.  MPM + FEM momentum stays what it was, while a good part
/// of it moves from the FEM block into the jelly.
void check_isolated_push(fem::FemIntegrator integrator, double tolerance) {
  CoupledTestWorld w(0.0, {}, integrator);
  const auto momentum = [&](double& mpm_x, double (&total)[3]) {
    const auto& p = w.mpm.particles();
    for (double& t : total) t = 0;
    for (std::size_t i = 0; i < p.size(); ++i)
      for (int a = 0; a < 3; ++a) total[a] += double(p.mass[i]) * p.v[i][a];
    mpm_x = total[0];
    const auto& v = w.fem.velocities();
    for (int i = 0; i < w.fem.num_vertices(); ++i)
      for (int a = 0; a < 3; ++a) total[a] += w.fem.masses()[std::size_t(i)] * v[3 * std::size_t(i) + std::size_t(a)];
  };
  double p0[3], p1[3], mpm0 = 0, mpm1 = 0;
  momentum(mpm0, p0);
  w.coupling->step(300);
  momentum(mpm1, p1);
  ASSERT_GT(p0[0], 0.0);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(p1[a], p0[a], tolerance * p0[0]) << "axis " << a;
  EXPECT_GT(mpm1, 0.2 * p0[0]) << "the jelly should have been pushed";
  std::printf("isolated push: total momentum x %.12g -> %.12g, jelly's share %.3f\n", p0[0], p1[0], mpm1 / p0[0]);
}

TEST(CouplingMpmFem, IsolatedPushConservesTotalMomentum) {
  check_isolated_push(fem::FemIntegrator::kSymplecticEuler, 1e-10);
}

TEST(CouplingMpmFem, IsolatedPushConservesTotalMomentumWithImplicitFem) {
  // Implicit Euler conserves momentum up to its Newton tolerance (1e-13 of the body size here).
  check_isolated_push(fem::FemIntegrator::kImplicitEuler, 1e-9);
}

TEST(CouplingMpmFem, MaterialStaysOutOfTheFemBody) {
  // The same push at the default coupling settings: no particle gets deeper
  // than half a grid cell behind the FEM block's front face (the block is
  // stiff, so its front face stays flat; depth is measured along x within
  // the face's extent).
  CoupledTestWorld w(0.0);
  const double dx = w.mpm.settings().dx;
  double deepest = 0, pushed = 0;
  for (int chunk = 0; chunk < 6; ++chunk) {
    w.coupling->step(50);
    double front = -1e9, lo[3] = {1e9, 1e9, 1e9}, hi[3] = {-1e9, -1e9, -1e9};
    const auto& x = w.fem.positions();
    for (int i = 0; i < w.fem.num_vertices(); ++i)
      for (int a = 0; a < 3; ++a) {
        lo[a] = std::min(lo[a], x[3 * std::size_t(i) + std::size_t(a)]);
        hi[a] = std::max(hi[a], x[3 * std::size_t(i) + std::size_t(a)]);
      }
    front = hi[0];
    const auto& p = w.mpm.particles();
    for (std::size_t i = 0; i < p.size(); ++i) {
      const bool over_face = p.x[i][1] > lo[1] && p.x[i][1] < hi[1] && p.x[i][2] > lo[2] && p.x[i][2] < hi[2];
      if (over_face && p.x[i][0] > lo[0]) deepest = std::max(deepest, front - p.x[i][0]);
    }
    pushed = front;
  }
  EXPECT_LT(deepest, 0.5 * dx) << "deepest particle " << deepest / dx << " dx inside the FEM block";
  EXPECT_GT(pushed, w.initial_front + 0.02) << "the block should have moved into the jelly";
  std::printf("coupled push: deepest particle %.3f dx behind the FEM face\n", deepest / dx);
}

TEST(CouplingMpmFem, BadInputGetsAClearError) {
  CoupledTestWorld w(0.0);
  w.coupling.reset();
  const auto expect_error = [&](MpmFemCouplingSettings s, const std::string& key) {
    try {
      MpmFemCoupling<double> c(w.mpm, w.fem, w.triangles, s, "scene.yaml: fem.coupling");
      ADD_FAILURE() << "no error for " << key;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("fem.coupling"), std::string::npos) << msg;
      EXPECT_NE(msg.find(key), std::string::npos) << msg;
    }
  };
  MpmFemCouplingSettings s;
  s.stiffness = 0;
  expect_error(s, "stiffness");
  s = {};
  s.stiffness = -5;
  expect_error(s, "stiffness");
  s = {};
  s.friction = -0.1;
  expect_error(s, "friction");
  s = {};
  s.skin = std::nan("");
  expect_error(s, "skin");
  // An FEM world that differs from the test's in one setting.
  const auto expect_world_error = [&](fem::FemSettings fs, const std::string& text) {
    fem::FemWorld<double> other(fs);
    other.add_tet_body("pad", fem::make_box_mesh({0, 0, 0}, {0.1, 0.1, 0.1}, {1, 1, 1}), w.rubber);
    try {
      MpmFemCoupling<double> c(w.mpm, other, {{0, 1, 2}}, {}, "scene.yaml: fem.coupling");
      ADD_FAILURE() << "no error mentioning " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  fem::FemSettings fs = w.fem.settings();
  fs.dt *= 2;
  expect_world_error(fs, "MPM substep");  // a different FEM step than the MPM substep
  fs = w.fem.settings();
  fs.dt = 1e-2;  // the MPM world's too, but above the FEM block's explicit limit
  {
    MpmWorld<double, 3> slow(test::coupled_mpm_settings(1e-2, 0.0), {w.rubber});
    fem::FemWorld<double> other(fs);
    other.add_tet_body("pad", fem::make_box_mesh({0, 0, 0}, {0.1, 0.1, 0.1}, {1, 1, 1}), w.rubber);
    try {
      MpmFemCoupling<double> c(slow, other, {{0, 1, 2}}, {}, "scene.yaml: fem.coupling");
      ADD_FAILURE() << "no error for an unstable explicit dt";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("stability limit"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace pl

namespace pl {
namespace {

/// FemWorld's external forces: dL/df of a few steps (the sum of
/// external_force_adjoint() over the reversed steps) against central differences.
void check_external_force_adjoint(fem::FemIntegrator integrator) {
  const int steps = 3;
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(-1, 1);
  const fem::TetMesh mesh = fem::make_box_mesh({0, 0, 0}, {0.04, 0.04, 0.04}, {1, 1, 1});
  const auto rubber = test::material("stable_neo_hookean", {{"E", 5e4}, {"nu", 0.3}}, 1000, "rubber");
  std::vector<double> f(3 * mesh.vertices.size()), wx(f.size()), wv(f.size());
  for (auto* v : {&f, &wx, &wv})
    for (double& x : *v) x = u(rng);
  for (double& x : f) x *= 0.05;  // [N]
  const auto run = [&](const std::vector<double>& force, std::vector<std::vector<double>>* xs,
                       std::vector<std::vector<double>>* vs, fem::FemWorld<double>** keep) {
    static std::unique_ptr<fem::FemWorld<double>> world;
    world = std::make_unique<fem::FemWorld<double>>(test::coupled_fem_settings(5e-4, -9.81, integrator));
    world->add_tet_body("cube", mesh, rubber);
    world->pin({0});
    world->set_external_forces(force);
    for (int n = 0; n < steps; ++n) {
      if (xs) xs->push_back(world->positions()), vs->push_back(world->velocities());
      world->step();
    }
    double l = 0;
    for (std::size_t k = 0; k < force.size(); ++k) l += wx[k] * world->positions()[k] + wv[k] * world->velocities()[k];
    if (keep) *keep = world.get();
    return l;
  };
  std::vector<std::vector<double>> xs, vs;
  fem::FemWorld<double>* world = nullptr;
  run(f, &xs, &vs, &world);
  auto adj = world->zero_state_adjoint();
  auto grads = world->zero_gradients();
  adj.x = wx, adj.v = wv;
  std::vector<double> adj_f(f.size(), 0.0);
  for (int n = steps - 1; n >= 0; --n) {
    world->positions() = xs[std::size_t(n)];
    world->velocities() = vs[std::size_t(n)];
    world->set_step_count(n);
    world->adjoint_step(adj, grads);
    for (std::size_t k = 0; k < f.size(); ++k) adj_f[k] += world->external_force_adjoint()[k];
  }
  std::vector<double> dir(f.size());
  double analytic = 0;
  for (std::size_t k = 0; k < f.size(); ++k) dir[k] = u(rng), analytic += dir[k] * adj_f[k];
  const double h = 1e-6;
  std::vector<double> fp = f, fm = f;
  for (std::size_t k = 0; k < f.size(); ++k) fp[k] += h * dir[k], fm[k] -= h * dir[k];
  const double fd = (run(fp, nullptr, nullptr, nullptr) - run(fm, nullptr, nullptr, nullptr)) / (2 * h);
  EXPECT_NEAR(analytic, fd, 1e-6 * std::fabs(fd)) << "dL/df";
  // Vertex masses (the forces act as h^2 M^-1 f).
  double analytic_m = 0;
  std::vector<double> dm(grads.mass.size());
  for (std::size_t v = 0; v < dm.size(); ++v) dm[v] = u(rng) * 1e-3, analytic_m += dm[v] * grads.mass[v];
  const auto run_masses = [&](double s) {
    auto w2 = std::make_unique<fem::FemWorld<double>>(test::coupled_fem_settings(5e-4, -9.81, integrator));
    w2->add_tet_body("cube", mesh, rubber);
    std::vector<double> m = w2->masses();
    for (std::size_t v = 0; v < m.size(); ++v) m[v] += s * dm[v];
    w2->set_masses(m);
    w2->pin({0});
    w2->set_external_forces(f);
    for (int n = 0; n < steps; ++n) w2->step();
    double l = 0;
    for (std::size_t k = 0; k < f.size(); ++k) l += wx[k] * w2->positions()[k] + wv[k] * w2->velocities()[k];
    return l;
  };
  const double fd_m = (run_masses(1e-4) - run_masses(-1e-4)) / 2e-4;
  EXPECT_NEAR(analytic_m, fd_m, 1e-6 * std::fabs(fd_m)) << "dL/dm";
  std::printf("external forces: dL/df adjoint %.10e FD %.10e; dL/dm adjoint %.10e FD %.10e\n", analytic, fd, analytic_m, fd_m);
}

TEST(CouplingMpmFem, FemExternalForceAdjointMatchesFiniteDifferences) {
  check_external_force_adjoint(fem::FemIntegrator::kSymplecticEuler);
  check_external_force_adjoint(fem::FemIntegrator::kImplicitEuler);
}

}  // namespace
}  // namespace pl
