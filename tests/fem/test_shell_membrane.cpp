// Shell membrane triangle (StVK and Neo-Hookean): energy, gradient, Hessian and
// parameter VJPs against central finite differences (double); rest and rigid
// motions carry no force; projected Hessians are PSD.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/fem/shell_membrane.hpp"
#include "tests/fem/test_shell_fd.hpp"

namespace pl::fem {
namespace {

using testing::central_difference;
using testing::max_relative_error;
using V = V3<double>;

// A tilted rest triangle (not in a coordinate plane) and a stretched, sheared,
// rotated deformed copy.
const double kRest[9] = {0.1, 0.0, 0.2, 1.1, 0.2, 0.1, 0.3, 0.9, 0.5};

MembraneRest<double> rest_data() {
  V X[3];
  for (int v = 0; v < 3; ++v)
    for (int a = 0; a < 3; ++a) X[v][a] = kRest[3 * v + a];
  return membrane_rest(X);
}

std::vector<double> deformed(unsigned seed, double amount) {
  std::vector<double> x(kRest, kRest + 9);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-amount, amount);
  for (double& v : x) v += u(rng);
  return x;
}

void unpack(const std::vector<double>& flat, V (&x)[3]) {
  for (int v = 0; v < 3; ++v)
    for (int a = 0; a < 3; ++a) x[v][a] = flat[3 * v + a];
}

const Lame<double> kLame = membrane_lame(3.0e3, 0.3);
constexpr double kThickness = 0.02;
const MembraneModel kModels[] = {MembraneModel::kStVK, MembraneModel::kNeoHookean};
const char* model_name(MembraneModel m) { return m == MembraneModel::kStVK ? "stvk" : "neo_hookean"; }

std::vector<double> gradient_of(MembraneModel m, const std::vector<double>& flat, Lame<double> lame = kLame,
                                double thickness = kThickness) {
  V x[3];
  unpack(flat, x);
  double g[9];
  membrane_gradient(m, x, rest_data(), lame, thickness, g);
  return std::vector<double>(g, g + 9);
}

TEST(ShellMembrane, RestTriangleHasItsAreaAndIdentityMetric) {
  const MembraneRest<double> r = rest_data();
  const Eigen::Vector3d a(kRest[0], kRest[1], kRest[2]), b(kRest[3], kRest[4], kRest[5]), c(kRest[6], kRest[7], kRest[8]);
  EXPECT_NEAR(r.area, 0.5 * (b - a).cross(c - a).norm(), 1e-14);
  V x[3];
  unpack(std::vector<double>(kRest, kRest + 9), x);
  double g[3][2];
  membrane_shape_gradients(r, g);
  const MembraneStrain<double> s = membrane_strain(membrane_deformation_gradient(x, g));
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) EXPECT_NEAR(s.C[a][b], a == b ? 1.0 : 0.0, 1e-13);
}

TEST(ShellMembrane, GradientAndHessianMatchFiniteDifferences) {
  for (MembraneModel m : kModels) {
    for (unsigned seed : {1u, 2u, 3u}) {
      const std::vector<double> flat = deformed(seed, 0.15);
      auto energy = [&](const std::vector<double>& xf) {
        V x[3];
        unpack(xf, x);
        return membrane_energy(m, x, rest_data(), kLame, kThickness);
      };
      std::vector<double> fd(9);
      for (int i = 0; i < 9; ++i) fd[i] = central_difference(energy, flat, i, 1e-6);
      EXPECT_LT(max_relative_error(gradient_of(m, flat), fd), 1e-7) << model_name(m) << " seed " << seed;

      V x[3];
      unpack(flat, x);
      double H[9][9];
      membrane_hessian(m, x, rest_data(), kLame, kThickness, false, H);
      std::vector<double> analytic, fdh;
      for (int j = 0; j < 9; ++j) {
        std::vector<double> xp = flat, xm = flat;
        xp[j] += 1e-6;
        xm[j] -= 1e-6;
        const std::vector<double> gp = gradient_of(m, xp), gm = gradient_of(m, xm);
        for (int i = 0; i < 9; ++i) {
          analytic.push_back(H[i][j]);
          fdh.push_back((gp[i] - gm[i]) / 2e-6);
          EXPECT_NEAR(H[i][j], H[j][i], 1e-9 * std::fabs(H[0][0]) + 1e-12);
        }
      }
      EXPECT_LT(max_relative_error(analytic, fdh), 1e-6) << model_name(m) << " seed " << seed;
    }
  }
}

TEST(ShellMembrane, RestAndRigidMotionsCarryNoForce) {
  const Eigen::Matrix3d R = Eigen::AngleAxisd(2.0, Eigen::Vector3d(1, 2, -0.5).normalized()).toRotationMatrix();
  std::vector<double> moved(9);
  for (int v = 0; v < 3; ++v) {
    const Eigen::Vector3d p = R * Eigen::Vector3d(kRest[3 * v], kRest[3 * v + 1], kRest[3 * v + 2]) + Eigen::Vector3d(5, -3, 1);
    for (int a = 0; a < 3; ++a) moved[3 * v + a] = p[a];
  }
  // Force scale: the same triangle stretched by 10 %.
  std::vector<double> stretched(kRest, kRest + 9);
  for (double& v : stretched) v *= 1.1;
  for (MembraneModel m : kModels) {
    double ref = 0;
    for (double g : gradient_of(m, stretched)) ref = std::max(ref, std::fabs(g));
    ASSERT_GT(ref, 1.0) << model_name(m);
    for (double g : gradient_of(m, std::vector<double>(kRest, kRest + 9))) EXPECT_LT(std::fabs(g), 1e-12 * ref);
    for (double g : gradient_of(m, moved)) EXPECT_LT(std::fabs(g), 1e-11 * ref) << model_name(m);
    V x[3];
    unpack(moved, x);
    EXPECT_NEAR(membrane_energy(m, x, rest_data(), kLame, kThickness), 0.0, 1e-12 * ref);
  }
}

TEST(ShellMembrane, ProjectedHessianIsPsdAndUnchangedWhenAlreadyPsd) {
  for (MembraneModel m : kModels) {
    // Compressed to 60 %: the exact Hessian is indefinite (buckling modes).
    std::vector<double> compressed(kRest, kRest + 9);
    for (int v = 0; v < 3; ++v)
      for (int a = 0; a < 3; ++a) compressed[3 * v + a] = 0.6 * kRest[3 * v + a];
    V x[3];
    unpack(compressed, x);
    double H[9][9], P[9][9];
    membrane_hessian(m, x, rest_data(), kLame, kThickness, false, H);
    membrane_hessian(m, x, rest_data(), kLame, kThickness, true, P);
    Eigen::Matrix<double, 9, 9> He, Pe;
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 9; ++j) {
        He(i, j) = H[i][j];
        Pe(i, j) = P[i][j];
      }
    Eigen::SelfAdjointEigenSolver<Eigen::Matrix<double, 9, 9>> eh(He), ep(Pe);
    EXPECT_LT(eh.eigenvalues().minCoeff(), -1e-6 * He.norm()) << model_name(m);
    EXPECT_GT(ep.eigenvalues().minCoeff(), -1e-10 * He.norm()) << model_name(m);

    // Stretched by 20 %: already PSD, projection changes nothing.
    std::vector<double> stretched(kRest, kRest + 9);
    for (double& v : stretched) v *= 1.2;
    unpack(stretched, x);
    membrane_hessian(m, x, rest_data(), kLame, kThickness, false, H);
    membrane_hessian(m, x, rest_data(), kLame, kThickness, true, P);
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 9; ++j) EXPECT_NEAR(P[i][j], H[i][j], 1e-9 * std::fabs(H[0][0])) << model_name(m);
  }
}

TEST(ShellMembrane, ParameterVjpsMatchFiniteDifferences) {
  const std::vector<double> flat = deformed(8, 0.15);
  V x[3];
  unpack(flat, x);
  double w[9];
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  for (double& wi : w) wi = u(rng);
  const double E = 3.0e3, nu = 0.3;
  for (MembraneModel m : kModels) {
    auto gw = [&](double E_, double nu_, double h_) {
      const std::vector<double> g = gradient_of(m, flat, membrane_lame(E_, nu_), h_);
      double s = 0;
      for (int i = 0; i < 9; ++i) s += g[i] * w[i];
      return s;
    };
    double adj_mu = 0, adj_lambda = 0, adj_h = 0, adj_E = 0, adj_nu = 0;
    membrane_gradient_vjp(m, x, rest_data(), membrane_lame(E, nu), kThickness, w, adj_mu, adj_lambda, adj_h);
    adj_membrane_lame(E, nu, adj_mu, adj_lambda, adj_E, adj_nu);
    const double fd_E = (gw(E * (1 + 1e-6), nu, kThickness) - gw(E * (1 - 1e-6), nu, kThickness)) / (2e-6 * E);
    const double fd_nu = (gw(E, nu + 1e-6, kThickness) - gw(E, nu - 1e-6, kThickness)) / 2e-6;
    const double fd_h = (gw(E, nu, kThickness * (1 + 1e-6)) - gw(E, nu, kThickness * (1 - 1e-6))) / (2e-6 * kThickness);
    EXPECT_NEAR(adj_E, fd_E, 1e-6 * std::fabs(fd_E)) << model_name(m);
    EXPECT_NEAR(adj_nu, fd_nu, 1e-6 * std::fabs(fd_nu)) << model_name(m);
    EXPECT_NEAR(adj_h, fd_h, 1e-6 * std::fabs(fd_h)) << model_name(m);
  }
}

TEST(ShellMembrane, CollapsedTriangleGivesInfiniteNeoHookeanEnergyAndFiniteStVK) {
  // All three vertices on a line: zero deformed area.
  const std::vector<double> line = {0, 0, 0, 1, 0, 0, 0.5, 0, 0};
  V x[3];
  unpack(line, x);
  EXPECT_TRUE(std::isinf(membrane_energy(MembraneModel::kNeoHookean, x, rest_data(), kLame, kThickness)));
  EXPECT_TRUE(std::isfinite(membrane_energy(MembraneModel::kStVK, x, rest_data(), kLame, kThickness)));
  for (double g : gradient_of(MembraneModel::kStVK, line)) EXPECT_TRUE(std::isfinite(g));
}

TEST(ShellMembrane, ZeroAreaRestTriangleIsMarked) {
  V X[3] = {{{0, 0, 0}}, {{1, 0, 0}}, {{2, 0, 0}}};
  EXPECT_EQ(membrane_rest(X).area, 0.0);
}

}  // namespace
}  // namespace pl::fem
