// The per-vertex FEM <-> tool contact body (kernels/coupling/fem_tool_contact.hpp)
// against central finite differences in double, for every tool shape
// (primitives and a mesh grid of a torus): the gradient against the energy, the Hessian
// block against the gradient, and the vector-Jacobian products with respect
// to the previous position, both tool poses, the tool velocity, mu and k
// against the gradient.  Points are drawn near the surface (inside, in the
// softplus ramp, and just outside), with the friction both sticking and sliding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "coupling_test_util.hpp"
#include "engine/coupling/mesh_sdf.hpp"
#include "kernels/coupling/fem_tool_contact.hpp"

namespace pl {
namespace {

using I = FemToolContactIndex;

struct Pair {
  ToolGeometry<double, 3> geometry;
  FemToolContactConstants<double> k;
  double flat[I::size];
};

// A vertex at signed distance `depth` from the tool's end-pose surface: from
// `start` (local; default 0.1 m along a random direction) by Newton on phi.
Pair make_pair(const ToolGeometry<double, 3>& geometry, std::mt19937& rng, double depth, double slide,
               const Vec<double, 3>* start = nullptr) {
  std::uniform_real_distribution<double> U(-1, 1);
  Pair p;
  p.geometry = geometry;
  p.k = {0.02, 2e-3, 1e-4, 1e-2};  // m, h, eps, dt
  const Mat<double, 3> R1 = test::test_rotation<3>(0.3 * U(rng), 0.4 * U(rng), 0.5 * U(rng));
  const Vec<double, 3> c1{{0.1 * U(rng), 0.1 * U(rng), 0.1 * U(rng)}};
  Vec<double, 3> dir{{U(rng), U(rng), U(rng)}};
  dir = (1.0 / norm(dir)) * dir;
  Vec<double, 3> local = start ? *start : 0.1 * dir, g;
  for (int it = 0; it < 20; ++it) {  // walk to phi = depth
    const double phi = tool_sdf(geometry, local, g);
    local -= ((phi - depth) / std::max(1e-12, dot(g, g))) * g;
  }
  const Vec<double, 3> y = c1 + R1 * local;
  const Vec<double, 3> x_prev = y - Vec<double, 3>{{slide * U(rng), slide * U(rng), slide * U(rng)}};
  const Mat<double, 3> R0 = test::test_rotation<3>(0.01 * U(rng), 0.01 * U(rng), 0.01 * U(rng)) * R1;
  const Vec<double, 3> c0 = c1 - Vec<double, 3>{{1e-3 * U(rng), 1e-3 * U(rng), 1e-3 * U(rng)}};
  for (int a = 0; a < 3; ++a) {
    p.flat[I::y + a] = y[a];
    p.flat[I::x_prev + a] = x_prev[a];
    p.flat[I::c_end + a] = c1[a];
    p.flat[I::velocity + a] = 0.1 * U(rng);
    p.flat[I::angular + a] = 0.5 * U(rng);
    p.flat[I::c_start + a] = c0[a];
    for (int b = 0; b < 3; ++b) p.flat[I::R_end + 3 * a + b] = R1(a, b), p.flat[I::R_start + 3 * a + b] = R0(a, b);
  }
  p.flat[I::friction] = 0.4;
  p.flat[I::stiffness] = 1e4;
  return p;
}

double energy(const Pair& p, const double (&flat)[I::size]) {
  return fem_tool_contact_energy(p.geometry, p.k, fem_tool_inputs_from_flat(flat));
}
Vec<double, 3> gradient(const Pair& p, const double (&flat)[I::size]) {
  return fem_tool_contact_gradient(p.geometry, p.k, fem_tool_inputs_from_flat(flat));
}

// Relative error of a against b, scaled by `scale` (the size of the quantity's entries).
void expect_close(double a, double b, double scale, const std::string& what) {
  EXPECT_LE(std::abs(a - b), 1e-6 * scale + 1e-14) << what << ": " << a << " vs FD " << b;
}

void check_pair(const Pair& p, const std::string& what) {
  double f[I::size];
  std::copy(std::begin(p.flat), std::end(p.flat), f);
  const Vec<double, 3> g = gradient(p, p.flat);
  const double gscale = norm(g);
  ASSERT_GT(gscale, 0) << what;
  // gradient vs energy
  const double e = 1e-7;
  for (int a = 0; a < 3; ++a) {
    f[I::y + a] += e;
    const double ep = energy(p, f);
    f[I::y + a] -= 2 * e;
    const double em = energy(p, f);
    f[I::y + a] += e;
    expect_close(g[a], (ep - em) / (2 * e), gscale, what + " gradient " + std::to_string(a));
  }
  // Hessian vs gradient
  double H[3][3];
  fem_tool_contact_hessian(p.geometry, p.k, p.flat, false, H);
  double hscale = 0;
  for (auto& row : H)
    for (double h : row) hscale = std::max(hscale, std::abs(h));
  for (int b = 0; b < 3; ++b) {
    f[I::y + b] += e;
    const Vec<double, 3> gp = gradient(p, f);
    f[I::y + b] -= 2 * e;
    const Vec<double, 3> gm = gradient(p, f);
    f[I::y + b] += e;
    for (int a = 0; a < 3; ++a)
      expect_close(H[a][b], (gp[a] - gm[a]) / (2 * e), hscale, what + " hessian " + std::to_string(a) + std::to_string(b));
  }
  // VJPs vs gradient
  const Vec<double, 3> w{{0.3, -0.7, 0.5}};
  double out[I::size] = {};
  fem_tool_contact_gradient_vjp(p.geometry, p.k, p.flat, w, out);
  double scale = 0;  // the largest product: entries have different units, a common scale keeps the test simple
  for (int i = I::x_prev; i < I::size; ++i) scale = std::max(scale, std::abs(out[i]));
  for (int i = I::x_prev; i < I::size; ++i) {
    const double step = e * std::max(1.0, std::abs(p.flat[i]));
    f[i] += step;
    const double lp = dot(w, gradient(p, f));
    f[i] -= 2 * step;
    const double lm = dot(w, gradient(p, f));
    f[i] += step;
    expect_close(out[i], (lp - lm) / (2 * step), scale, what + " vjp input " + std::to_string(i));
  }
}

TEST(FemToolContactKernel, DerivativesMatchFiniteDifferencesForEveryShape) {
  std::mt19937 rng(11);
  const ToolShape shapes[] = {ToolShape::Box,   ToolShape::Sphere, ToolShape::Capsule,
                              ToolShape::Cylinder, ToolShape::Plane, ToolShape::RoundedBox};
  for (ToolShape shape : shapes)
    for (double depth : {-3e-3, -5e-4, 1e-3})        // inside, in the ramp, outside
      for (double slide : {2e-5, 3e-3}) {             // sticking (|u_T| < eps) and sliding
        const Pair p = make_pair(test::test_geometry<3>(shape), rng, depth, slide);
        check_pair(p, "shape " + std::to_string(int(shape)) + " depth " + std::to_string(depth) + " slide " +
                          std::to_string(slide));
      }
}

// A torus (not convex: the penalty's curvature term can be indefinite, which
// is why Newton's blocks are PSD-projected) as a trilinear distance grid.
TEST(FemToolContactKernel, DerivativesMatchFiniteDifferencesForAMeshTool) {
  MeshTransform half_size;
  half_size.scale = uniform_scale(0.5);  // major radius 0.175 m, minor 0.075 m
  const TriangleMesh torus =
      transform_mesh(load_obj(std::string(PLIANT_SOURCE_DIR) + "/assets/meshes/torus.obj"), half_size, "test");
  MeshSdfOptions grid;
  grid.spacing = 0.02;
  const MeshSdf field = build_mesh_sdf(torus, grid, "test");
  ToolGeometry<double, 3> g{};
  g.shape = ToolShape::Mesh;
  g.grid = field.view();
  std::mt19937 rng(5);
  for (double depth : {-3e-3, 1e-3})
    for (double slide : {2e-5, 3e-3}) {
      // Start next to the tube (inside the grid's narrow band, where the field is a distance).
      const double angle = 6.0 * std::uniform_real_distribution<double>(0, 1)(rng);
      const Vec<double, 3> start{{0.2 * std::cos(angle), 0.2 * std::sin(angle), 0.07}};
      check_pair(make_pair(g, rng, depth, slide, &start), "mesh depth " + std::to_string(depth));
    }
}

TEST(FemToolContactKernel, FarVerticesFeelNothingAndTheForcePushesOut) {
  std::mt19937 rng(2);
  const ToolGeometry<double, 3> g = test::test_geometry<3>(ToolShape::Sphere);
  Pair p = make_pair(g, rng, -1e-3, 0);
  // Inside: the force -dE/dy points out of the tool (along the SDF gradient).
  const FemToolContactInputs<double> in = fem_tool_inputs_from_flat(p.flat);
  Vec<double, 3> n;
  fem_tool_detail::world_sdf(g, in.c_end, in.R_end, in.y, n);
  EXPECT_LT(dot(gradient(p, p.flat), n), 0);
  // Far outside at both poses: not in range.
  Pair far = make_pair(g, rng, 40 * p.k.softness, 0);
  EXPECT_FALSE(fem_tool_in_range(g, far.k, fem_tool_inputs_from_flat(far.flat)));
}

}  // namespace
}  // namespace pl
