// Generalized winding numbers: exact sum and the BVH approximation.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "engine/geometry/triangle_mesh.hpp"
#include "engine/geometry/winding_number.hpp"

namespace {

const double kPi = 3.14159265358979323846;
using P = std::array<double, 3>;

pl::TriangleMesh load(const std::string& name) {
  return pl::load_obj(std::string(PLIANT_SOURCE_DIR) + "/assets/meshes/" + name);
}

// Uniform points in the mesh's bounding box grown by `margin` on every side.
std::vector<P> random_points(const pl::TriangleMesh& m, double margin, int n, std::uint64_t seed) {
  const pl::Aabb3 b = pl::bounding_box(m);
  std::mt19937_64 rng(seed);
  std::vector<P> pts(n);
  for (auto& p : pts)
    for (int a = 0; a < 3; ++a) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      p[a] = b.lower[a] - margin + (b.upper[a] - b.lower[a] + 2 * margin) * u;
    }
  return pts;
}

}  // namespace

TEST(WindingNumber, SolidAngleOfOctantTriangle) {
  // The triangle through the three unit axis points, seen from the origin,
  // covers exactly one octant: 4 pi / 8.  Its right-hand normal (1,1,1) points
  // away from the origin, so the sign is positive; reversed, negative.
  const P o{0, 0, 0}, x{1, 0, 0}, y{0, 1, 0}, z{0, 0, 1};
  EXPECT_NEAR(pl::triangle_solid_angle(o, x, y, z), kPi / 2, 1e-14);
  EXPECT_NEAR(pl::triangle_solid_angle(o, x, z, y), -kPi / 2, 1e-14);
  // In the triangle's plane but outside it: zero.
  EXPECT_NEAR(pl::triangle_solid_angle(P{1, 1, -1}, x, y, z), 0.0, 1e-14);
  // Just behind the triangle's centre: nearly a half sphere (2 pi).
  const double c = 1.0 / 3.0 - 1e-9;
  EXPECT_NEAR(pl::triangle_solid_angle(P{c, c, c}, x, y, z), 2 * kPi, 1e-6);
}

TEST(WindingNumber, IcosphereInsideOneOutsideZero) {
  const pl::TriangleMesh m = load("icosphere.obj");
  for (const P& q : {P{0, 0, 0}, P{0.5, -0.3, 0.2}, P{0, 0, 0.93}})
    EXPECT_NEAR(pl::winding_number(m, q), 1.0, 1e-10) << q[0] << " " << q[1] << " " << q[2];
  for (const P& q : {P{2, 0, 0}, P{0, 0, 1.01}, P{-5, 7, 3}})
    EXPECT_NEAR(pl::winding_number(m, q), 0.0, 1e-10) << q[0] << " " << q[1] << " " << q[2];
}

TEST(WindingNumber, TorusHoleIsOutsideTubeIsInside) {
  const pl::TriangleMesh m = load("torus.obj");
  EXPECT_NEAR(pl::winding_number(m, P{0, 0, 0}), 0.0, 1e-10);      // the hole
  EXPECT_NEAR(pl::winding_number(m, P{0.35, 0, 0}), 1.0, 1e-10);   // tube centre line
  EXPECT_NEAR(pl::winding_number(m, P{0, -0.45, 0.05}), 1.0, 1e-10);
  EXPECT_NEAR(pl::winding_number(m, P{0.35, 0, 0.2}), 0.0, 1e-10);  // above the tube
  EXPECT_NEAR(pl::winding_number(m, P{0.7, 0, 0}), 0.0, 1e-10);     // beyond the rim
}

TEST(WindingNumber, OpenBoxGivesFractionalValue) {
  // From the centre each of the 6 faces subtends 4 pi / 6; one is missing.
  EXPECT_NEAR(pl::winding_number(load("open_box.obj"), P{0, 0, 0}), 5.0 / 6.0, 1e-12);
}

TEST(WindingNumber, TreeMatchesExactSum) {
  for (const char* name : {"icosphere.obj", "torus.obj", "cube.obj"}) {
    const pl::TriangleMesh m = load(name);
    const pl::WindingNumberTree tree(m);
    EXPECT_EQ(tree.triangle_count(), m.triangles.size());
    const std::vector<P> pts = random_points(m, 0.3, 3000, 7);
    double max_error = 0.0;
    int disagreements = 0;
    for (const P& q : pts) {
      const double exact = pl::winding_number(m, q);
      max_error = std::max(max_error, std::abs(tree.winding_number(q) - exact));
      EXPECT_NEAR(tree.winding_number_exact(q), exact, 1e-12);
      disagreements += tree.contains(q) != (exact > 0.5);
    }
    EXPECT_LT(max_error, 0.1) << name;
    EXPECT_EQ(disagreements, 0) << name;
  }
}

TEST(WindingNumber, TreeIsAccurateFarAway) {
  const pl::TriangleMesh m = load("torus.obj");
  const pl::WindingNumberTree tree(m);
  // Far from a closed mesh the expansion of the whole mesh is used; w ~ 0.
  EXPECT_NEAR(tree.winding_number(P{30, -20, 10}), 0.0, 1e-6);
  EXPECT_NEAR(tree.winding_number(P{0.35, 0, 0}), 1.0, 1e-2);
  EXPECT_TRUE(tree.contains(P{-0.35, 0, 0}));
  EXPECT_FALSE(tree.contains(P{0, 0, 0}));
}

TEST(WindingNumber, ParallelBatchEqualsSerialQueries) {
  const pl::TriangleMesh m = load("torus.obj");
  const pl::WindingNumberTree tree(m);
  const std::vector<P> pts = random_points(m, 0.1, 5000, 11);
  const std::vector<double> w = tree.winding_numbers(pts);
  ASSERT_EQ(w.size(), pts.size());
  for (size_t i = 0; i < pts.size(); ++i) ASSERT_EQ(w[i], tree.winding_number(pts[i])) << i;
}

TEST(WindingNumber, BoxTouchesSurface) {
  const pl::WindingNumberTree tree(load("cube.obj"));
  EXPECT_TRUE(tree.box_touches_surface(P{0.4, 0.4, 0.4}, P{0.6, 0.6, 0.6}));    // straddles a corner
  EXPECT_FALSE(tree.box_touches_surface(P{-0.1, -0.1, -0.1}, P{0.1, 0.1, 0.1}));  // deep inside
  EXPECT_FALSE(tree.box_touches_surface(P{0.6, 0.6, 0.6}, P{0.7, 0.7, 0.7}));     // outside
  const pl::Aabb3 b = tree.bounds();
  EXPECT_DOUBLE_EQ(b.lower[0], -0.5);
  EXPECT_DOUBLE_EQ(b.upper[2], 0.5);
}

TEST(WindingNumber, BoxTouchesSurfaceUsesTheTriangleNotItsBoundingBox) {
  pl::TriangleMesh m;
  m.vertices = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  m.triangles = {{0, 1, 2}};
  const pl::WindingNumberTree tree(m);
  // Inside the triangle's bounding box [0,1]^3 but below its plane x+y+z = 1.
  EXPECT_FALSE(tree.box_touches_surface(P{0.0, 0.0, 0.0}, P{0.3, 0.3, 0.3}));
  // Contains the triangle's centroid (1/3, 1/3, 1/3).
  EXPECT_TRUE(tree.box_touches_surface(P{0.3, 0.3, 0.3}, P{0.4, 0.4, 0.4}));
  // Overlaps the triangle's bounding box and crosses its plane, but where the
  // plane passes through the box z < 0, outside the triangle (needs an edge axis).
  EXPECT_FALSE(tree.box_touches_surface(P{0.7, 0.7, -0.5}, P{0.9, 0.9, 0.05}));
  // Same z range, moved to x, y in [0.4, 0.6]: contains (0.49, 0.49, 0.02) of the triangle.
  EXPECT_TRUE(tree.box_touches_surface(P{0.4, 0.4, -0.5}, P{0.6, 0.6, 0.05}));
}
