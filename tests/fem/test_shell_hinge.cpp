// Discrete-shell hinge: dihedral angle, bending energy, derivatives, plastic
// rest-angle update and their adjoints against central finite differences
// (double), including flat, nearly folded and degenerate hinges.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/fem/discrete_shell_hinge.hpp"
#include "tests/fem/test_shell_fd.hpp"

namespace pl::fem {
namespace {

using testing::central_difference;
using testing::max_relative_error;
using V = V3<double>;

// Edge x0 -> x1 along +x; wing A fixed in the z = 0 plane; wing B folded by
// `fold` (θ = fold for an unperturbed hinge), then every vertex jittered.
std::vector<double> make_hinge(double fold, double jitter, unsigned seed) {
  std::vector<double> x = {0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.4, 0.8, 0.0, 0.6, -0.9 * std::cos(fold), 0.9 * std::sin(fold)};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-jitter, jitter);
  for (double& v : x) v += u(rng);
  return x;
}

void unpack(const std::vector<double>& flat, V (&x)[4]) {
  for (int v = 0; v < 4; ++v)
    for (int a = 0; a < 3; ++a) x[v][a] = flat[3 * v + a];
}

double angle_of(const std::vector<double>& flat) {
  V x[4];
  unpack(flat, x);
  return dihedral_angle(x);
}

std::vector<double> angle_gradient(const std::vector<double>& flat) {
  V x[4], g[4];
  unpack(flat, x);
  dihedral_angle_gradient(x, g);
  std::vector<double> out(12);
  for (int v = 0; v < 4; ++v)
    for (int a = 0; a < 3; ++a) out[3 * v + a] = g[v][a];
  return out;
}

struct Case {
  const char* name;
  double fold;
  double jitter;
};
// Flat, generic both ways, nearly folded onto itself both ways.
const Case kCases[] = {{"flat", 0.0, 0.0},         {"flat_jittered", 0.0, 0.05}, {"generic", 0.7, 0.1},
                       {"generic_negative", -1.2, 0.1}, {"nearly_folded", 0.99 * M_PI, 0.0},
                       {"nearly_folded_negative", -0.99 * M_PI, 0.0}};

TEST(ShellDihedralAngle, MatchesTheConstructedFoldWithItsSign) {
  for (double fold : {0.0, 0.3, -0.3, 1.5, -2.0, 3.0, -3.0}) {
    EXPECT_NEAR(angle_of(make_hinge(fold, 0.0, 1)), fold, 1e-12) << fold;
  }
}

TEST(ShellDihedralAngle, InvariantUnderRigidMotion) {
  const std::vector<double> flat = make_hinge(0.8, 0.1, 3);
  const Eigen::Matrix3d R = Eigen::AngleAxisd(1.1, Eigen::Vector3d(0.3, -0.5, 0.8).normalized()).toRotationMatrix();
  std::vector<double> moved(12);
  for (int v = 0; v < 4; ++v) {
    const Eigen::Vector3d p = R * Eigen::Vector3d(flat[3 * v], flat[3 * v + 1], flat[3 * v + 2]) +
                              Eigen::Vector3d(2.0, -1.0, 0.5);
    for (int a = 0; a < 3; ++a) moved[3 * v + a] = p[a];
  }
  EXPECT_NEAR(angle_of(moved), angle_of(flat), 1e-12);
}

TEST(ShellDihedralAngle, GradientMatchesFiniteDifferences) {
  for (const Case& c : kCases) {
    const std::vector<double> x = make_hinge(c.fold, c.jitter, 7);
    std::vector<double> fd(12);
    for (int i = 0; i < 12; ++i) fd[i] = central_difference(angle_of, x, i, 1e-6);
    EXPECT_LT(max_relative_error(angle_gradient(x), fd), 1e-7) << c.name;
  }
}

TEST(ShellDihedralAngle, HessianMatchesFiniteDifferencesAndIsSymmetric) {
  for (const Case& c : kCases) {
    const std::vector<double> flat = make_hinge(c.fold, c.jitter, 11);
    V x[4];
    M3<double> H[4][4];
    unpack(flat, x);
    dihedral_angle_hessian(x, H);
    std::vector<double> analytic, fd;
    for (int j = 0; j < 12; ++j) {
      std::vector<double> xp = flat, xm = flat;
      xp[j] += 1e-6;
      xm[j] -= 1e-6;
      const std::vector<double> gp = angle_gradient(xp), gm = angle_gradient(xm);
      for (int i = 0; i < 12; ++i) {
        analytic.push_back(H[i / 3][j / 3](i % 3, j % 3));
        fd.push_back((gp[i] - gm[i]) / 2e-6);
        EXPECT_NEAR(H[i / 3][j / 3](i % 3, j % 3), H[j / 3][i / 3](j % 3, i % 3), 1e-9) << c.name;
      }
    }
    EXPECT_LT(max_relative_error(analytic, fd), 1e-6) << c.name;
  }
}

TEST(ShellDihedralAngle, ZeroAreaTriangleIsDegenerateAndYieldsNoForce) {
  // Wing A on the edge line: triangle A has no area, θ is undefined.
  std::vector<double> flat = make_hinge(0.5, 0.0, 1);
  flat[6] = 0.4;
  flat[7] = 0.0;
  flat[8] = 0.0;
  V x[4];
  unpack(flat, x);
  EXPECT_TRUE(hinge_is_degenerate(x));
  double grad[12], hess[12][12];
  hinge_gradient(x, 0.7, 2.0, 0.1, grad);
  hinge_hessian(x, 0.7, 2.0, 0.1, true, hess);
  EXPECT_TRUE(std::isfinite(hinge_energy(x, 0.7, 2.0, 0.1)));
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(grad[i], 0.0);
    for (int j = 0; j < 12; ++j) EXPECT_EQ(hess[i][j], 0.0);
  }
  // A thin but regular triangle (height 1e-4 |e|) is not degenerate and its
  // gradient is finite and consistent.
  flat[7] = 1e-4;
  unpack(flat, x);
  EXPECT_FALSE(hinge_is_degenerate(x));
  hinge_gradient(x, 0.7, 2.0, 0.1, grad);
  for (double g : grad) EXPECT_TRUE(std::isfinite(g));
  // Zero-length edge.
  std::vector<double> collapsed = make_hinge(0.5, 0.0, 1);
  collapsed[3] = collapsed[4] = collapsed[5] = 0.0;
  unpack(collapsed, x);
  EXPECT_TRUE(hinge_is_degenerate(x));
  EXPECT_TRUE(std::isfinite(dihedral_angle(x)));
}

// ---- bending energy ----------------------------------------------------------

constexpr double kWeight = 1.3, kStiffness = 0.8, kRest = 0.25;

double energy_of(const std::vector<double>& flat) {
  V x[4];
  unpack(flat, x);
  return hinge_energy(x, kWeight, kStiffness, kRest);
}

std::vector<double> energy_gradient(const std::vector<double>& flat) {
  V x[4];
  unpack(flat, x);
  double g[12];
  hinge_gradient(x, kWeight, kStiffness, kRest, g);
  return std::vector<double>(g, g + 12);
}

TEST(ShellHinge, EnergyGradientAndHessianMatchFiniteDifferences) {
  for (const Case& c : kCases) {
    const std::vector<double> flat = make_hinge(c.fold, c.jitter, 5);
    std::vector<double> fd(12);
    for (int i = 0; i < 12; ++i) fd[i] = central_difference(energy_of, flat, i, 1e-6);
    EXPECT_LT(max_relative_error(energy_gradient(flat), fd), 1e-7) << c.name;

    V x[4];
    unpack(flat, x);
    double H[12][12];
    hinge_hessian(x, kWeight, kStiffness, kRest, false, H);
    std::vector<double> analytic, fdh;
    for (int j = 0; j < 12; ++j) {
      std::vector<double> xp = flat, xm = flat;
      xp[j] += 1e-6;
      xm[j] -= 1e-6;
      const std::vector<double> gp = energy_gradient(xp), gm = energy_gradient(xm);
      for (int i = 0; i < 12; ++i) {
        analytic.push_back(H[i][j]);
        fdh.push_back((gp[i] - gm[i]) / 2e-6);
      }
    }
    EXPECT_LT(max_relative_error(analytic, fdh), 1e-6) << c.name;
  }
}

TEST(ShellHinge, RigidMotionsCarryNoForceAndNoTorque) {
  const std::vector<double> flat = make_hinge(1.0, 0.1, 9);
  const std::vector<double> g = energy_gradient(flat);
  Eigen::Vector3d force = Eigen::Vector3d::Zero(), torque = Eigen::Vector3d::Zero();
  for (int v = 0; v < 4; ++v) {
    const Eigen::Vector3d f(g[3 * v], g[3 * v + 1], g[3 * v + 2]);
    force += f;
    torque += Eigen::Vector3d(flat[3 * v], flat[3 * v + 1], flat[3 * v + 2]).cross(f);
  }
  double scale = 0;
  for (double gi : g) scale = std::max(scale, std::fabs(gi));
  ASSERT_GT(scale, 1e-3);  // the hinge is bent away from its rest angle
  EXPECT_LT(force.norm(), 1e-12 * scale);
  EXPECT_LT(torque.norm(), 1e-12 * scale);
}

TEST(ShellHinge, AtItsRestAngleTheHingeExertsNoForce) {
  for (double fold : {0.0, 0.6, -2.5}) {
    const std::vector<double> flat = make_hinge(fold, 0.05, 2);
    V x[4];
    unpack(flat, x);
    double g[12];
    hinge_gradient(x, kWeight, kStiffness, dihedral_angle(x), g);
    for (double gi : g) EXPECT_EQ(gi, 0.0);
  }
}

TEST(ShellHinge, ProjectedHessianIsTheNearestPsdMatrix) {
  const std::vector<double> flat = make_hinge(1.4, 0.1, 13);
  V x[4];
  unpack(flat, x);
  double H[12][12], P[12][12];
  hinge_hessian(x, kWeight, kStiffness, -0.6, false, H);  // far from rest: strongly indefinite
  hinge_hessian(x, kWeight, kStiffness, -0.6, true, P);
  Eigen::Matrix<double, 12, 12> He, Pe;
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 12; ++j) {
      He(i, j) = H[i][j];
      Pe(i, j) = P[i][j];
    }
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix<double, 12, 12>> eig(He);
  ASSERT_LT(eig.eigenvalues().minCoeff(), -1e-3);  // the exact Hessian is indefinite here
  const Eigen::Matrix<double, 12, 12> expected =
      eig.eigenvectors() * eig.eigenvalues().cwiseMax(0.0).asDiagonal() * eig.eigenvectors().transpose();
  EXPECT_LT((Pe - expected).norm(), 1e-10 * He.norm());
}

TEST(ShellHinge, GradientVjpsMatchFiniteDifferences) {
  const std::vector<double> flat = make_hinge(0.9, 0.1, 21);
  V x[4];
  unpack(flat, x);
  double w[12];
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> u(-1, 1);
  for (double& wi : w) wi = u(rng);
  double adj_k = 0, adj_rest = 0;
  hinge_gradient_vjp(x, kWeight, kStiffness, kRest, w, adj_k, adj_rest);
  auto gw = [&](double k, double rest) {
    double g[12];
    hinge_gradient(x, kWeight, k, rest, g);
    double s = 0;
    for (int i = 0; i < 12; ++i) s += g[i] * w[i];
    return s;
  };
  const double h = 1e-6;
  EXPECT_NEAR(adj_k, (gw(kStiffness + h, kRest) - gw(kStiffness - h, kRest)) / (2 * h), 1e-7);
  EXPECT_NEAR(adj_rest, (gw(kStiffness, kRest + h) - gw(kStiffness, kRest - h)) / (2 * h), 1e-7);
}

TEST(ShellHinge, PlateBendingStiffnessAdjointMatchesFiniteDifferences) {
  const double E = 2e9, nu = 0.3, t = 1e-3, h = 1e-7;
  EXPECT_NEAR(plate_bending_stiffness(E, nu, t), E * t * t * t / (12 * (1 - nu * nu)), 1e-15);
  double aE = 0, anu = 0, ah = 0;
  adj_plate_bending_stiffness(E, nu, t, 1.0, aE, anu, ah);
  EXPECT_NEAR(aE * E, (plate_bending_stiffness(E * (1 + h), nu, t) - plate_bending_stiffness(E * (1 - h), nu, t)) / (2 * h),
              1e-9);
  EXPECT_NEAR(anu, (plate_bending_stiffness(E, nu + h, t) - plate_bending_stiffness(E, nu - h, t)) / (2 * h), 1e-6);
  EXPECT_NEAR(ah * t, (plate_bending_stiffness(E, nu, t * (1 + h)) - plate_bending_stiffness(E, nu, t * (1 - h))) / (2 * h),
              1e-9);
}

TEST(ShellHinge, AngleDifferenceWrapsThroughPlusMinusPi) {
  // A crease folded flat (rest angle 0.99 π) pushed through π: θ jumps to
  // about -0.99 π, but the bend relative to rest stays small and smooth.
  const double rest = 0.99 * M_PI;
  for (double fold : {0.98 * M_PI, 0.995 * M_PI, -0.995 * M_PI, -0.98 * M_PI}) {
    V x[4];
    unpack(make_hinge(fold, 0.0, 1), x);
    const double expected = wrapped_angle_difference(fold, rest);
    EXPECT_LT(std::fabs(expected), 0.04 * M_PI);
    EXPECT_NEAR(hinge_energy(x, kWeight, kStiffness, rest), 0.5 * kStiffness * kWeight * expected * expected, 1e-12);
  }
  // FD of the energy across the branch cut of atan2.
  const std::vector<double> flat = make_hinge(M_PI - 1e-4, 0.0, 1);
  auto energy = [&](const std::vector<double>& xf) {
    V x[4];
    unpack(xf, x);
    return hinge_energy(x, kWeight, kStiffness, rest);
  };
  V x[4];
  unpack(flat, x);
  double g[12];
  hinge_gradient(x, kWeight, kStiffness, rest, g);
  std::vector<double> fd(12);
  for (int i = 0; i < 12; ++i) fd[i] = central_difference(energy, flat, i, 1e-3);  // steps cross θ = π
  EXPECT_LT(max_relative_error(std::vector<double>(g, g + 12), fd), 1e-5);
  // The plastic update wraps too: yielding past π lands in (-π, π].
  const double updated = plastic_rest_angle(-0.95 * M_PI, 0.8 * M_PI, 0.1 * M_PI);
  EXPECT_NEAR(updated, 0.95 * M_PI, 1e-12);
}

// ---- plastic rest-angle update -----------------------------------------------

TEST(ShellHingePlasticity, RestAngleFollowsPastTheYieldAngleOnly) {
  EXPECT_DOUBLE_EQ(plastic_rest_angle(0.3, 0.1, 0.5), 0.1);   // elastic
  EXPECT_DOUBLE_EQ(plastic_rest_angle(1.0, 0.1, 0.5), 0.5);   // yields: keeps θ - θ_y
  EXPECT_DOUBLE_EQ(plastic_rest_angle(-1.0, 0.1, 0.5), -0.5);  // yields the other way
  // Idempotent: after yielding, the same angle is within the yield surface.
  EXPECT_DOUBLE_EQ(plastic_rest_angle(1.0, plastic_rest_angle(1.0, 0.1, 0.5), 0.5), 0.5);
}

TEST(ShellHingePlasticity, AdjointMatchesFiniteDifferencesAwayFromTheKink) {
  struct P {
    double angle, rest, yield;
  };
  for (const P& p : {P{0.3, 0.1, 0.5}, P{1.0, 0.1, 0.5}, P{-1.0, 0.1, 0.5}}) {
    double a_angle = 0, a_rest = 0, a_yield = 0;
    adj_plastic_rest_angle(p.angle, p.rest, p.yield, 1.0, a_angle, a_rest, a_yield);
    const double h = 1e-6;
    EXPECT_NEAR(a_angle,
                (plastic_rest_angle(p.angle + h, p.rest, p.yield) - plastic_rest_angle(p.angle - h, p.rest, p.yield)) / (2 * h),
                1e-8);
    EXPECT_NEAR(a_rest,
                (plastic_rest_angle(p.angle, p.rest + h, p.yield) - plastic_rest_angle(p.angle, p.rest - h, p.yield)) / (2 * h),
                1e-8);
    EXPECT_NEAR(a_yield,
                (plastic_rest_angle(p.angle, p.rest, p.yield + h) - plastic_rest_angle(p.angle, p.rest, p.yield - h)) / (2 * h),
                1e-8);
  }
}

}  // namespace
}  // namespace pl::fem
