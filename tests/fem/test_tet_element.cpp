// Element-level checks of kernels/fem/tet_element.hpp in double precision:
// gradient vs FD of the energy, Hessian vs FD of the gradient, Hessian-vector
// product vs the Hessian, parameter VJP vs FD in (E, nu), for every tet model at
// mild, large, nearly inverted and (for inversion-safe models) inverted shapes;
// rigid motions give zero force; the rest stiffness equals the Hessian at rest.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/fem/tet_element.hpp"
#include "materials/fixed_corotated.hpp"
#include "materials/stable_neo_hookean.hpp"
#include "materials/stvk_hencky.hpp"

namespace pl::fem {
namespace {

// A generic, not axis-aligned rest tet.
const double kRest[12] = {0.1, 0.0, 0.05, 1.0, 0.1, 0.0, 0.2, 0.9, 0.1, 0.05, 0.15, 1.1};

struct Shape {
  const char* name;
  double F[9];  // x = F X + translation
  bool inverted;
};

const Shape kShapes[] = {
    {"mild", {1.05, 0.02, -0.03, 0.01, 0.97, 0.04, -0.02, 0.03, 1.02}, false},
    {"large", {1.6, 0.4, -0.2, -0.3, 0.7, 0.5, 0.1, -0.4, 1.3}, false},
    {"nearly_flat", {1.0, 0.1, 0.0, 0.05, 1.0, 0.0, 0.0, 0.0, 0.02}, false},  // det F = 0.02
    {"inverted", {1.0, 0.1, 0.0, 0.05, 1.0, 0.0, 0.0, 0.0, -0.3}, true},
};

void deform(const Shape& s, double* x) {
  for (int a = 0; a < 4; ++a)
    for (int r = 0; r < 3; ++r) {
      double acc = 0.3 * (r + 1);
      for (int c = 0; c < 3; ++c) acc += s.F[3 * r + c] * kRest[3 * a + c];
      x[3 * a + r] = acc;
    }
}

template <class M>
class TetElementTest : public ::testing::Test {};
using Models = ::testing::Types<materials::StableNeoHookean, materials::FixedCorotated, materials::StvkHencky>;
TYPED_TEST_SUITE(TetElementTest, Models);

double params_for(int i) { return i == 0 ? 2.0e5 : 0.35; }

TYPED_TEST(TetElementTest, DerivativesMatchFiniteDifferences) {
  using M = TypeParam;
  double p[materials::kMaxParams] = {params_for(0), params_for(1)};
  const TetRest<double> rest = tet_rest(kRest);
  ASSERT_GT(rest.volume, 0);
  for (const Shape& s : kShapes) {
    if (s.inverted && !M::kHandlesInversion) continue;
    SCOPED_TRACE(s.name);
    double x[12];
    deform(s, x);
    // gradient vs central FD of the energy
    double g[12] = {};
    tet_add_gradient<M>(p, rest, x, g);
    double gmax = 0;
    for (double v : g) gmax = std::max(gmax, std::abs(v));
    const double h = 1e-6;
    for (int i = 0; i < 12; ++i) {
      double xp[12], xm[12];
      std::copy(x, x + 12, xp);
      std::copy(x, x + 12, xm);
      xp[i] += h;
      xm[i] -= h;
      const double fd = (tet_energy<M>(p, rest, xp) - tet_energy<M>(p, rest, xm)) / (2 * h);
      EXPECT_NEAR(g[i], fd, 1e-6 * gmax + 1e-9) << "dof " << i;
    }
    // Hessian vs central FD of the gradient, and symmetric
    double K[144];
    tet_hessian<M>(p, rest, x, K);
    double kmax = 0;
    for (double v : K) kmax = std::max(kmax, std::abs(v));
    for (int j = 0; j < 12; ++j) {
      double xp[12], xm[12], gp[12] = {}, gm[12] = {};
      std::copy(x, x + 12, xp);
      std::copy(x, x + 12, xm);
      xp[j] += h;
      xm[j] -= h;
      tet_add_gradient<M>(p, rest, xp, gp);
      tet_add_gradient<M>(p, rest, xm, gm);
      for (int i = 0; i < 12; ++i) EXPECT_NEAR(K[12 * i + j], (gp[i] - gm[i]) / (2 * h), 1e-6 * kmax) << i << "," << j;
    }
    // Hessian-vector product vs the Hessian
    double u[12], Ku[12] = {};
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> U(-1, 1);
    for (double& v : u) v = U(rng);
    tet_add_hessian_vector<M>(p, rest, x, u, Ku);
    for (int i = 0; i < 12; ++i) {
      double ref = 0;
      for (int j = 0; j < 12; ++j) ref += K[12 * i + j] * u[j];
      EXPECT_NEAR(Ku[i], ref, 1e-10 * kmax * 12);
    }
    // parameter VJP vs FD of w^T grad in (E, nu)
    double adj[materials::kMaxParams] = {};
    tet_add_gradient_parameter_vjp<M>(p, rest, x, u, adj);
    for (int k = 0; k < 2; ++k) {
      const double hk = k == 0 ? 1.0 : 1e-6;
      double pp[materials::kMaxParams] = {p[0], p[1]}, pm[materials::kMaxParams] = {p[0], p[1]};
      pp[k] += hk;
      pm[k] -= hk;
      double gp[12] = {}, gm[12] = {};
      tet_add_gradient<M>(pp, rest, x, gp);
      tet_add_gradient<M>(pm, rest, x, gm);
      double fd = 0;
      for (int i = 0; i < 12; ++i) fd += u[i] * (gp[i] - gm[i]) / (2 * hk);
      EXPECT_NEAR(adj[k], fd, 1e-6 * std::abs(fd) + 1e-12) << "parameter " << k;
    }
  }
}

TYPED_TEST(TetElementTest, RigidMotionHasZeroForceAndEnergy) {
  using M = TypeParam;
  double p[materials::kMaxParams] = {params_for(0), params_for(1)};
  const TetRest<double> rest = tet_rest(kRest);
  // rotation by 1.1 rad about a non-axis direction (Rodrigues) plus a translation
  const double n[3] = {1 / std::sqrt(3.0), 1 / std::sqrt(3.0), 1 / std::sqrt(3.0)}, th = 1.1;
  double R[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const double cross = (i == j) ? 0 : ((j == (i + 1) % 3) ? -n[(i + 2) % 3] : n[(i + 1) % 3]);
      R[i][j] = std::cos(th) * (i == j) + std::sin(th) * cross + (1 - std::cos(th)) * n[i] * n[j];
    }
  double x[12];
  for (int a = 0; a < 4; ++a)
    for (int r = 0; r < 3; ++r) {
      x[3 * a + r] = 5.0 + r;
      for (int c = 0; c < 3; ++c) x[3 * a + r] += R[r][c] * kRest[3 * a + c];
    }
  double g[12] = {};
  tet_add_gradient<M>(p, rest, x, g);
  // Force scale for comparison: the gradient at a 1% stretch.
  double xs[12], gs[12] = {};
  for (int i = 0; i < 12; ++i) xs[i] = 1.01 * kRest[i];
  tet_add_gradient<M>(p, rest, xs, gs);
  double scale = 0;
  for (double v : gs) scale = std::max(scale, std::abs(v));
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(g[i], 0.0, 1e-9 * scale);
  EXPECT_NEAR(tet_energy<M>(p, rest, x), 0.0, 1e-9 * scale);
}

TYPED_TEST(TetElementTest, RestStiffnessIsTheHessianAtRest) {
  using M = TypeParam;
  const double E = params_for(0), nu = params_for(1);
  double p[materials::kMaxParams] = {E, nu};
  const TetRest<double> rest = tet_rest(kRest);
  double K[144];
  tet_hessian<M>(p, rest, kRest, K);
  double kmax = 0;
  for (double v : K) kmax = std::max(kmax, std::abs(v));
  for (int k = 0; k < 12; ++k) {
    double e[12] = {}, col[12] = {};
    e[k] = 1;
    tet_add_rest_stiffness_vector(materials::lame_mu(E, nu), materials::lame_lambda(E, nu), rest, e, col);
    for (int i = 0; i < 12; ++i) EXPECT_NEAR(col[i], K[12 * i + k], 1e-9 * kmax);
  }
}

}  // namespace
}  // namespace pl::fem
