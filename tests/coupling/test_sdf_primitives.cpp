// SDF primitives: values at known points, gradients and Hessian-vector
// products (dual evaluation) against central finite differences.
#include <gtest/gtest.h>

#include <random>

#include "kernels/coupling/sdf_primitives.hpp"
#include "tests/coupling/coupling_test_util.hpp"

namespace pl {
namespace {

const ToolShape kAnalytic[] = {ToolShape::Box,      ToolShape::Sphere, ToolShape::Capsule,
                               ToolShape::Cylinder, ToolShape::Plane,  ToolShape::RoundedBox};

template <int D>
double phi_at(const ToolGeometry<double, D>& g, const Vec<double, D>& p) {
  Vec<double, D> grad;
  return tool_sdf(g, p, grad);
}

template <int D>
void check_derivatives() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-0.45, 0.45);
  const double h = 1e-6;
  for (ToolShape shape : kAnalytic) {
    const auto g = test::test_geometry<D>(shape);
    int checked = 0;
    for (int trial = 0; trial < 200 && checked < 40; ++trial) {
      Vec<double, D> p;
      for (int a = 0; a < D; ++a) p[a] = u(rng);
      Vec<double, D> grad;
      tool_sdf(g, p, grad);
      // Stay clear of kinks (medial axes, the capsule's segment ends): the
      // gradient must be the same a little way off in every direction.
      bool smooth = true;
      for (int a = 0; a < D && smooth; ++a)
        for (double s : {-1e-3, 1e-3}) {
          Vec<double, D> q = p, gq;
          q[a] += s;
          tool_sdf(g, q, gq);
          if (norm(gq - grad) > 0.05) smooth = false;
        }
      if (!smooth) continue;
      ++checked;
      // Gradient: unit length and equal to the FD of phi.
      EXPECT_NEAR(norm(grad), 1.0, 1e-12);
      for (int a = 0; a < D; ++a) {
        Vec<double, D> hi = p, lo = p;
        hi[a] += h, lo[a] -= h;
        EXPECT_NEAR(grad[a], (phi_at(g, hi) - phi_at(g, lo)) / (2 * h), 1e-7) << "shape " << int(shape);
      }
      // Hessian-vector product through a dual point, vs FD of the gradient.
      Vec<double, D> dir;
      for (int a = 0; a < D; ++a) dir[a] = u(rng);
      Vec<Dual<double>, D> pd, gd;
      for (int a = 0; a < D; ++a) pd[a] = Dual<double>(p[a], dir[a]);
      const Dual<double> phid = tool_sdf(g, pd, gd);
      EXPECT_NEAR(phid.v, phi_at(g, p), 1e-14);
      EXPECT_NEAR(phid.d, dot(grad, dir), 1e-12);
      Vec<double, D> ghi, glo;
      tool_sdf(g, p + h * dir, ghi);
      tool_sdf(g, p - h * dir, glo);
      for (int a = 0; a < D; ++a)
        EXPECT_NEAR(gd[a].d, (ghi[a] - glo[a]) / (2 * h), 1e-5) << "shape " << int(shape) << " axis " << a;
    }
    EXPECT_GE(checked, 20) << "shape " << int(shape);
  }
}

TEST(CouplingSdf, DerivativesMatchFiniteDifferences2D) { check_derivatives<2>(); }
TEST(CouplingSdf, DerivativesMatchFiniteDifferences3D) { check_derivatives<3>(); }

TEST(CouplingSdf, ValuesAtKnownPoints) {
  using V = Vec<double, 3>;
  auto box = test::test_geometry<3>(ToolShape::Box);  // half 0.15, 0.2, 0.25
  EXPECT_NEAR(phi_at(box, V{{0, 0, 0}}), -0.15, 1e-15);
  EXPECT_NEAR(phi_at(box, V{{0.35, 0, 0}}), 0.2, 1e-15);
  EXPECT_NEAR(phi_at(box, V{{0.18, 0.24, 0}}), 0.05, 1e-15);  // corner: (0.03, 0.04)
  auto sphere = test::test_geometry<3>(ToolShape::Sphere);
  EXPECT_NEAR(phi_at(sphere, V{{0, 0.5, 0}}), 0.38, 1e-15);
  auto capsule = test::test_geometry<3>(ToolShape::Capsule);  // r 0.12, half length 0.2 along y
  EXPECT_NEAR(phi_at(capsule, V{{0, 0.4, 0}}), 0.08, 1e-15);
  EXPECT_NEAR(phi_at(capsule, V{{0.3, 0.1, 0}}), 0.18, 1e-15);
  auto cyl = test::test_geometry<3>(ToolShape::Cylinder);
  EXPECT_NEAR(phi_at(cyl, V{{0.0, 0.0, 0.0}}), -0.12, 1e-15);
  EXPECT_NEAR(phi_at(cyl, V{{0.0, 0.3, 0.0}}), 0.1, 1e-15);
  EXPECT_NEAR(phi_at(cyl, V{{0.0, 0.0, 0.2}}), 0.08, 1e-15);
  auto plane = test::test_geometry<3>(ToolShape::Plane);
  EXPECT_NEAR(phi_at(plane, V{{5, -0.25, 3}}), -0.25, 1e-15);
  auto rounded = test::test_geometry<3>(ToolShape::RoundedBox);  // half (0.15, 0.2, 0.25), r 0.05
  EXPECT_NEAR(phi_at(rounded, V{{0.3, 0, 0}}), 0.15, 1e-15);
  // At the box corner direction the rounded box is further away than the sharp one.
  EXPECT_GT(phi_at(rounded, V{{0.2, 0.25, 0.3}}), phi_at(box, V{{0.2, 0.25, 0.3}}));
}

TEST(CouplingSdf, GridSamplerReproducesALinearFieldAndItsGradient) {
  // A plane phi = 0.3 x - 0.4 y + 0.5 z - 0.1 sampled on a grid is reproduced
  // exactly by trilinear interpolation, with the exact gradient.
  std::vector<double> values(5 * 6 * 7);
  SdfGridView<double> grid{values.data(), {5, 6, 7}, {-0.2, -0.3, -0.1}, 0.1};
  auto field = [](double x, double y, double z) { return 0.3 * x - 0.4 * y + 0.5 * z - 0.1; };
  for (int k = 0; k < 7; ++k)
    for (int j = 0; j < 6; ++j)
      for (int i = 0; i < 5; ++i)
        values[i + 5 * (j + 6 * k)] = field(-0.2 + 0.1 * i, -0.3 + 0.1 * j, -0.1 + 0.1 * k);
  ToolGeometry<double, 3> g{};
  g.shape = ToolShape::Mesh;
  g.grid = grid;
  Vec<double, 3> p{{0.013, 0.07, 0.33}}, grad;
  EXPECT_NEAR(tool_sdf(g, p, grad), field(p[0], p[1], p[2]), 1e-14);
  EXPECT_NEAR(grad[0], 0.3, 1e-13);
  EXPECT_NEAR(grad[1], -0.4, 1e-13);
  EXPECT_NEAR(grad[2], 0.5, 1e-13);
  // Outside the grid box the distance to the box is added.
  Vec<double, 3> far{{0.013, 0.07, 0.6}};
  EXPECT_NEAR(tool_sdf(g, far, grad), field(0.013, 0.07, 0.5) + 0.1, 1e-13);
  EXPECT_NEAR(grad[2], 1.0, 1e-13);
}

}  // namespace
}  // namespace pl
