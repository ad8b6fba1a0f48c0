// Sphere collider for FEM vertices (engine/fem/sdf_contact_term.hpp): gradient
// and Hessian against central finite differences (double), the PSD projection,
// and a short implicit rollout whose gradient through the contact matches FD.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/fem/fem_rollout.hpp"
#include "engine/fem/fem_world.hpp"
#include "engine/fem/sdf_contact_term.hpp"
#include "engine/fem/sheet_mesh.hpp"
#include "engine/fem/shell_terms.hpp"

namespace pl::fem {
namespace {

SphereCollider<double> ball() { return {{0.0, 0.0, 0.0}, 0.1, 2e3, 1e-2}; }

// Three vertices: two inside the sphere (different depths and directions), one outside.
std::vector<double> probe() { return {0.02, 0.085, 0.01, -0.05, -0.03, 0.06, 0.2, 0.0, 0.0}; }

TEST(SdfContact, GradientAndHessianMatchFiniteDifferences) {
  SphereContactTerm<double> term("ball", ball(), {0.3, 0.7, 1.1});
  std::vector<double> x = probe();
  std::vector<double> g(9, 0.0);
  term.add_gradient(x.data(), g.data());
  std::vector<Eigen::Triplet<double>> trip;
  term.add_hessian(x.data(), false, trip);
  std::vector<double> H(81, 0.0);
  for (const auto& t : trip) H[std::size_t(t.row() * 9 + t.col())] += t.value();
  const double h = 1e-6;
  double gmax = 0;
  for (double v : g) gmax = std::max(gmax, std::abs(v));
  ASSERT_GT(gmax, 1e-3);  // the probe penetrates
  for (int i = 0; i < 9; ++i) {
    std::vector<double> xp = x, xm = x;
    xp[std::size_t(i)] += h;
    xm[std::size_t(i)] -= h;
    const double fd = (term.energy(xp.data()) - term.energy(xm.data())) / (2 * h);
    EXPECT_NEAR(g[std::size_t(i)], fd, 1e-6 * gmax) << "gradient " << i;
    std::vector<double> gp(9, 0.0), gm(9, 0.0);
    term.add_gradient(xp.data(), gp.data());
    term.add_gradient(xm.data(), gm.data());
    for (int j = 0; j < 9; ++j)
      EXPECT_NEAR(H[std::size_t(j * 9 + i)], (gp[std::size_t(j)] - gm[std::size_t(j)]) / (2 * h), 1e-5 * gmax / 0.1)
          << "hessian " << j << "," << i;
  }
  // Outside vertex: no force.
  EXPECT_EQ(g[6], 0.0);
  // The projected Hessian differs (curvature dropped) and is PSD: v^T H v >= 0 for tangential v.
  std::vector<Eigen::Triplet<double>> tp;
  term.add_hessian(x.data(), true, tp);
  std::vector<double> P(81, 0.0);
  for (const auto& t : tp) P[std::size_t(t.row() * 9 + t.col())] += t.value();
  const double tangent[3] = {1.0, 0.0, -0.02 / 0.01 * 0};  // roughly tangential at vertex 0 (n ~ +y)
  double exact = 0, proj = 0;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      exact += tangent[a] * H[std::size_t(a * 9 + b)] * tangent[b];
      proj += tangent[a] * P[std::size_t(a * 9 + b)] * tangent[b];
    }
  EXPECT_LT(exact, proj);
  EXPECT_GE(proj, 0.0);
}

TEST(SdfContact, StiffnessParameterVjpMatchesFiniteDifferences) {
  SphereContactTerm<double> term("ball", ball(), {0.3, 0.7, 1.1});
  const std::vector<double> x = probe();
  const std::vector<double> w = {0.3, -0.2, 0.5, 0.1, 0.9, -0.4, 0.2, 0.2, 0.2};
  double adj = 0;
  term.add_gradient_parameter_vjp(x.data(), w.data(), &adj);
  auto wg = [&](double k) {
    SphereContactTerm<double> t("ball", ball(), {0.3, 0.7, 1.1});
    t.set_parameters({k});
    std::vector<double> g(9, 0.0);
    t.add_gradient(x.data(), g.data());
    double s = 0;
    for (int i = 0; i < 9; ++i) s += w[std::size_t(i)] * g[std::size_t(i)];
    return s;
  };
  const double k = ball().stiffness, h = 1e-3 * k;
  EXPECT_NEAR(adj, (wg(k + h) - wg(k - h)) / (2 * h), 1e-8 * std::abs(adj) + 1e-14);
  EXPECT_NE(adj, 0.0);
}

TEST(SdfContact, RejectsBadSpheres) {
  SphereCollider<double> s = ball();
  s.radius = 0;
  EXPECT_THROW(SphereContactTerm<double>("ball", s, {1.0}), InputError);
  s = ball();
  s.delta = -1;
  EXPECT_THROW(SphereContactTerm<double>("ball", s, {1.0}), InputError);
  SphereContactTerm<double> t("ball", ball(), {1.0});
  EXPECT_THROW(t.set_parameters({0.0}), InputError);
}

// A small sheet falling onto the sphere under implicit Euler: dL/dv0 (L = the
// sheet's mean height after the steps) through the contact matches FD.
std::unique_ptr<FemWorld<double>> falling_sheet(double vy) {
  FemSettings st;
  st.dt = 0.01;
  st.gravity = {0, -9.81, 0};
  auto world = std::make_unique<FemWorld<double>>(st);
  const TriangleMesh sheet = make_rectangular_sheet({-0.03, 0.1, -0.03}, {0.06, 0, 0}, {0, 0, 0.06}, 2, 2);
  const int first = world->add_vertices(sheet.vertices, lumped_sheet_masses(sheet, 0.2));
  ShellMaterial mat;
  mat.youngs_modulus = 1e5;
  mat.thickness = 1e-3;
  world->add_energy_term(std::make_shared<MembraneTerm<double>>("sheet", sheet, first, mat));
  world->add_energy_term(std::make_shared<SphereContactTerm<double>>("ball", ball(), world->masses()));
  for (int v = 0; v < world->num_vertices(); ++v) world->velocities()[std::size_t(3 * v + 1)] = vy;
  return world;
}

double mean_height(const FemWorld<double>& w) {
  double s = 0;
  for (int v = 0; v < w.num_vertices(); ++v) s += w.positions()[std::size_t(3 * v + 1)];
  return s / w.num_vertices();
}

TEST(SdfContact, RolloutGradientThroughContactMatchesFiniteDifferences) {
  const int steps = 6;
  const double vy = -0.8;
  auto world = falling_sheet(vy);
  FemRolloutOptions<double> opt;
  opt.steps = steps;
  opt.loss_gradient = [](int, const FemWorld<double>& w, std::vector<double>& ax, std::vector<double>&) {
    for (int v = 0; v < w.num_vertices(); ++v) ax[std::size_t(3 * v + 1)] += 1.0 / w.num_vertices();
  };
  FemRollout<double> rollout(*world, opt);
  rollout.forward();
  // The sheet is in contact at the end (pushed out of the sphere's interior).
  auto* term = dynamic_cast<const SphereContactTerm<double>*>(world->terms().back().get());
  ASSERT_NE(term, nullptr);
  EXPECT_LT(term->signed_distance(world->positions().data(), 4), 0.0);  // centre vertex penetrates a little
  const FemRolloutGradients<double> g = rollout.backward();
  double analytic = 0;
  for (int v = 0; v < world->num_vertices(); ++v) analytic += g.v0[std::size_t(3 * v + 1)];
  auto loss = [&](double v0) {
    auto w = falling_sheet(v0);
    for (int i = 0; i < steps; ++i) w->step();
    return mean_height(*w);
  };
  const double h = 1e-5;
  const double fd = (loss(vy + h) - loss(vy - h)) / (2 * h);
  // Free fall would give dL/dvy = steps * dt = 0.06; contact must change it.
  EXPECT_GT(std::abs(fd - steps * 0.01), 0.01);
  EXPECT_NEAR(analytic, fd, 1e-5 * std::abs(fd) + 1e-9);
}

}  // namespace
}  // namespace pl::fem
