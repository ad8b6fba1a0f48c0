// Particle seeding: counts, containment, stratification, determinism, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/core/error.hpp"
#include "engine/geometry/triangle_mesh.hpp"
#include "engine/geometry/winding_number.hpp"
#include "engine/mpm/sampling.hpp"

namespace {

const double kPi = 3.14159265358979323846;

pl::SamplingSettings settings(double dx, int ppc, std::uint64_t seed = 1) {
  pl::SamplingSettings s;
  s.dx = dx;
  s.particles_per_cell = ppc;
  s.seed = seed;
  return s;
}

pl::TriangleMesh load(const std::string& name) {
  return pl::load_obj(std::string(PLIANT_SOURCE_DIR) + "/assets/meshes/" + name);
}

void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected pl::InputError";
  } catch (const pl::InputError& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

// Number of particles per grid cell (cell = floor(x / dx)).
template <int D>
std::map<std::array<long long, D>, int> per_cell(const std::vector<std::array<double, D>>& x, double dx) {
  std::map<std::array<long long, D>, int> cells;
  for (const auto& p : x) {
    std::array<long long, D> c;
    for (int a = 0; a < D; ++a) c[a] = static_cast<long long>(std::floor(p[a] / dx));
    ++cells[c];
  }
  return cells;
}

template <int D>
void expect_count_near(const std::vector<std::array<double, D>>& x, double volume, const pl::SamplingSettings& s,
                       double rel_tol) {
  const double expected = volume / pl::particle_volume(s, D);
  EXPECT_NEAR(static_cast<double>(x.size()) / expected, 1.0, rel_tol)
      << x.size() << " particles, expected about " << expected;
}

}  // namespace

TEST(Sampling, StratifiedSubdivisions) {
  EXPECT_EQ(pl::stratified_subdivisions(1, 2), 1);
  EXPECT_EQ(pl::stratified_subdivisions(1, 3), 1);
  EXPECT_EQ(pl::stratified_subdivisions(4, 2), 2);
  EXPECT_EQ(pl::stratified_subdivisions(9, 2), 3);
  EXPECT_EQ(pl::stratified_subdivisions(16, 2), 4);
  EXPECT_EQ(pl::stratified_subdivisions(8, 3), 2);
  EXPECT_EQ(pl::stratified_subdivisions(27, 3), 3);
  EXPECT_EQ(pl::stratified_subdivisions(64, 3), 4);
  EXPECT_EQ(pl::stratified_subdivisions(125, 3), 5);
  EXPECT_EQ(pl::stratified_subdivisions(8, 2), 0);
  EXPECT_EQ(pl::stratified_subdivisions(4, 3), 0);
  EXPECT_EQ(pl::stratified_subdivisions(5, 3), 0);
}

TEST(Sampling, ParticleVolume) {
  EXPECT_DOUBLE_EQ(pl::particle_volume(settings(0.1, 8), 3), 0.001 / 8);
  EXPECT_DOUBLE_EQ(pl::particle_volume(settings(0.1, 4), 2), 0.01 / 4);
}

TEST(Sampling, GoldenFirstPoint) {
  // mt19937_64's output is fixed by the standard (first value for seed 5489:
  // 14514284786278117030); the conversion is (bits >> 11) * 2^-53.  A change
  // here changes every scene's particles.
  const auto x = pl::sample_box<2>({0.0, 0.0}, {1.0, 1.0}, settings(0.5, 1, 5489));
  ASSERT_EQ(x.size(), 4u);
  EXPECT_EQ(x[0][0], 0.5 * (static_cast<double>(14514284786278117030ULL >> 11) * 0x1.0p-53));
  EXPECT_EQ(x[0][0], 0.39341047743390095);
  // Cells in order, last axis fastest: the second point is in cell (0, 1).
  EXPECT_LT(x[1][0], 0.5);
  EXPECT_GE(x[1][1], 0.5);
}

TEST(Sampling, AlignedBoxStratified2D) {
  // dx = 0.25 is exact in binary: a 4 x 2 cell box, 4 = 2^2 particles per cell.
  const pl::SamplingSettings s = settings(0.25, 4);
  const auto x = pl::sample_box<2>({0.0, 0.0}, {1.0, 0.5}, s);
  ASSERT_EQ(x.size(), 4u * 2u * 4u);
  // One point per half-cell sub-square: all 32 sub-cells distinct.
  std::set<std::pair<long long, long long>> sub;
  for (const auto& p : x) {
    EXPECT_GE(p[0], 0.0);
    EXPECT_LE(p[0], 1.0);
    EXPECT_GE(p[1], 0.0);
    EXPECT_LE(p[1], 0.5);
    sub.insert({static_cast<long long>(std::floor(p[0] / 0.125)), static_cast<long long>(std::floor(p[1] / 0.125))});
  }
  EXPECT_EQ(sub.size(), 32u);
}

TEST(Sampling, AlignedBoxStratified3DOnePointPerSubCell) {
  const pl::SamplingSettings s = settings(0.25, 27);
  const auto x = pl::sample_box<3>({-0.5, 0.0, 0.25}, {0.0, 0.5, 0.75}, s);
  ASSERT_EQ(x.size(), 8u * 27u);
  std::set<std::array<long long, 3>> sub;
  for (const auto& p : x) {
    std::array<long long, 3> c;
    for (int a = 0; a < 3; ++a) c[a] = static_cast<long long>(std::floor(p[a] / (0.25 / 3)));
    sub.insert(c);
  }
  EXPECT_EQ(sub.size(), x.size());
}

TEST(Sampling, RandomWhenNotAPerfectPower) {
  // 5 per cell in 3D: uniform random, still exactly 5 in every cell.
  const pl::SamplingSettings s = settings(0.25, 5);
  const auto x = pl::sample_box<3>({0.0, 0.0, 0.0}, {0.5, 0.5, 0.5}, s);
  ASSERT_EQ(x.size(), 8u * 5u);
  const auto cells = per_cell<3>(x, 0.25);
  EXPECT_EQ(cells.size(), 8u);
  for (const auto& [cell, n] : cells) EXPECT_EQ(n, 5);
  // Not stratified: with 40 random points, some pair of points of a cell
  // shares a half-cell sub-cube (which stratified 8-per-cell never does).
  std::set<std::array<long long, 3>> sub;
  for (const auto& p : x) {
    std::array<long long, 3> c;
    for (int a = 0; a < 3; ++a) c[a] = static_cast<long long>(std::floor(p[a] / 0.125));
    sub.insert(c);
  }
  EXPECT_LT(sub.size(), x.size());
}

TEST(Sampling, UnalignedBoxCountAndContainment3D) {
  const std::array<double, 3> lo{0.013, -0.271, 0.5}, hi{0.517, 0.088, 0.731};
  const pl::SamplingSettings s = settings(0.02, 8, 3);
  const auto x = pl::sample_box<3>(lo, hi, s);
  expect_count_near<3>(x, (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]), s, 0.02);
  for (const auto& p : x)
    for (int a = 0; a < 3; ++a) {
      ASSERT_GE(p[a], lo[a]);
      ASSERT_LE(p[a], hi[a]);
    }
}

TEST(Sampling, DiskCount2D) {
  const std::array<double, 2> c{0.31, -0.2};
  const double r = 0.3;
  for (int ppc : {4, 3}) {  // stratified and random
    const pl::SamplingSettings s = settings(0.01, ppc, 9);
    const auto x = pl::sample_sphere<2>(c, r, s);
    expect_count_near<2>(x, kPi * r * r, s, 0.02);
    for (const auto& p : x) ASSERT_LE(std::hypot(p[0] - c[0], p[1] - c[1]), r * (1 + 1e-12));
  }
}

TEST(Sampling, SphereCount3D) {
  const std::array<double, 3> c{0.5, 0.45, 0.52};
  const double r = 0.2;
  const pl::SamplingSettings s = settings(0.01, 8, 4);
  const auto x = pl::sample_sphere<3>(c, r, s);
  expect_count_near<3>(x, 4.0 / 3.0 * kPi * r * r * r, s, 0.02);
  for (const auto& p : x) ASSERT_LE(std::hypot(p[0] - c[0], p[1] - c[1], p[2] - c[2]), r * (1 + 1e-12));
}

TEST(Sampling, CylinderCountAndAxis) {
  const std::array<double, 3> c{0.2, 0.3, 0.4};
  const double r = 0.1, h = 0.3;
  const pl::SamplingSettings s = settings(0.01, 8, 5);
  for (int axis = 0; axis < 3; ++axis) {
    const auto x = pl::sample_cylinder<3>(c, r, h, axis, s);
    expect_count_near<3>(x, kPi * r * r * h, s, 0.02);
    for (const auto& p : x) {
      double d2 = 0.0;
      for (int a = 0; a < 3; ++a)
        if (a != axis) d2 += (p[a] - c[a]) * (p[a] - c[a]);
      ASSERT_LE(std::sqrt(d2), r * (1 + 1e-12));
      ASSERT_LE(std::abs(p[axis] - c[axis]), 0.5 * h * (1 + 1e-12));
    }
  }
}

TEST(Sampling, TorusMeshCountAndContainment) {
  const pl::TriangleMesh m = load("torus.obj");
  const pl::SamplingSettings s = settings(0.02, 8, 6);
  const auto x = pl::sample_mesh<3>(m, s, "torus.obj");
  expect_count_near<3>(x, pl::mesh_volume(m), s, 0.03);
  // Exact winding number on a subset (the exact sum costs O(triangles)).
  for (size_t i = 0; i < x.size(); i += 37) ASSERT_GT(pl::winding_number(m, x[i]), 0.5) << i;
  // Nothing in the hole: the polygonal tube's innermost chords sit at
  // (R - r) cos(pi / 20) from the axis (20 segments around the ring).
  const double hole = (0.35 - 0.15) * std::cos(kPi / 20);
  for (const auto& p : x) ASSERT_GT(std::hypot(p[0], p[1]), hole - 1e-9);
}

TEST(Sampling, TransformedIcosphere) {
  pl::MeshTransform t;
  t.scale = pl::uniform_scale(0.2);
  t.rotation_deg = {10.0, 20.0, 30.0};
  t.translation = {0.5, 0.5, 0.5};
  const pl::TriangleMesh m = pl::transform_mesh(load("icosphere.obj"), t);
  const pl::SamplingSettings s = settings(0.01, 8, 8);
  const auto x = pl::sample_mesh<3>(m, s);
  expect_count_near<3>(x, pl::mesh_volume(m), s, 0.02);
  // The inscribed polyhedron lies inside the ball of radius 0.2 about the
  // translation, and contains the ball of its faces' smallest distance (> 0.18).
  for (const auto& p : x) ASSERT_LE(std::hypot(p[0] - 0.5, p[1] - 0.5, p[2] - 0.5), 0.2);
  const auto inner = pl::sample_sphere<3>({0.5, 0.5, 0.5}, 0.18, s);
  EXPECT_GT(x.size(), inner.size());
  for (size_t i = 0; i < x.size(); i += 53) ASSERT_GT(pl::winding_number(m, x[i]), 0.5) << i;
}

TEST(Sampling, CubeMeshGivesExactlyTheBoxSamplersPoints) {
  // Same bounding box -> same cells and random stream; so the winding-number
  // classification (with its whole-cell shortcuts) must agree point for point
  // with the analytic box test.
  const pl::TriangleMesh cube = load("cube.obj");
  for (int ppc : {8, 5}) {
    const pl::SamplingSettings s = settings(0.03, ppc, 17);
    const auto from_mesh = pl::sample_mesh<3>(cube, s);
    const auto from_box = pl::sample_box<3>({-0.5, -0.5, -0.5}, {0.5, 0.5, 0.5}, s);
    EXPECT_FALSE(from_box.empty());
    EXPECT_EQ(from_mesh, from_box) << "ppc " << ppc;
  }
}

TEST(Sampling, SameSeedSamePointsDifferentSeedDifferent) {
  const pl::TriangleMesh m = load("torus.obj");
  const auto a = pl::sample_mesh<3>(m, settings(0.04, 8, 123));
  const auto b = pl::sample_mesh<3>(m, settings(0.04, 8, 123));
  const auto c = pl::sample_mesh<3>(m, settings(0.04, 8, 124));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);

  const auto d = pl::sample_sphere<2>({0.0, 0.0}, 0.5, settings(0.05, 5, 1));
  const auto e = pl::sample_sphere<2>({0.0, 0.0}, 0.5, settings(0.05, 5, 1));
  const auto f = pl::sample_sphere<2>({0.0, 0.0}, 0.5, settings(0.05, 5, 2));
  EXPECT_EQ(d, e);
  EXPECT_NE(d, f);
}

#ifdef _OPENMP
TEST(Sampling, IndependentOfThreadCount) {
  const pl::TriangleMesh m = load("torus.obj");
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = pl::sample_mesh<3>(m, settings(0.03, 8, 77));
  omp_set_num_threads(4);
  const auto four = pl::sample_mesh<3>(m, settings(0.03, 8, 77));
  omp_set_num_threads(saved);
  EXPECT_FALSE(one.empty());
  EXPECT_EQ(one, four);
}
#endif

TEST(Sampling, InvalidSettingsNameTheParameter) {
  expect_input_error([] { pl::sample_box<3>({0, 0, 0}, {1, 1, 1}, settings(0.0, 8), "scene.yaml: bodies[1]"); },
                     {"scene.yaml: bodies[1]", "dx", "> 0"});
  expect_input_error([] { pl::sample_box<2>({0, 0}, {1, 1}, settings(std::nan(""), 4)); }, {"dx", "finite"});
  expect_input_error([] { pl::sample_box<2>({0, 0}, {1, 1}, settings(0.1, 0)); }, {"particles_per_cell", ">= 1"});
  expect_input_error([] { pl::particle_volume(settings(-1.0, 8), 3); }, {"dx"});
}

TEST(Sampling, InvalidGeometryNamesTheParameter) {
  const pl::SamplingSettings s = settings(0.1, 8);
  expect_input_error([&] { pl::sample_box<3>({0, 0, 0}, {1, -1, 1}, s, "body"); },
                     {"body", "box.upper[1]", "box.lower[1]", "greater"});
  expect_input_error([&] { pl::sample_box<3>({std::nan(""), 0, 0}, {1, 1, 1}, s); }, {"box.lower[0]", "finite"});
  expect_input_error([&] { pl::sample_sphere<3>({0, 0, 0}, -0.5, s); }, {"sphere.radius", "> 0"});
  expect_input_error([&] { pl::sample_sphere<2>({0, INFINITY}, 0.5, s); }, {"sphere.center[1]"});
  expect_input_error([&] { pl::sample_cylinder<3>({0, 0, 0}, 0.5, -1.0, 2, s); }, {"cylinder.height"});
  expect_input_error([&] { pl::sample_cylinder<3>({0, 0, 0}, 0.0, 1.0, 2, s); }, {"cylinder.radius"});
  expect_input_error([&] { pl::sample_cylinder<3>({0, 0, 0}, 0.5, 1.0, 3, s); }, {"cylinder.axis", "got 3"});
}

TEST(Sampling, ThreeDimensionalShapesIn2DSuggestBoxOrSphere) {
  const pl::SamplingSettings s = settings(0.1, 4);
  expect_input_error([&] { pl::sample_cylinder<2>({0, 0}, 0.5, 1.0, 1, s, "scene2d.yaml: bodies[0]"); },
                     {"scene2d.yaml: bodies[0]", "cylinder", "3D", "box", "sphere"});
  expect_input_error([&] { pl::sample_mesh<2>(load("cube.obj"), s, "scene2d.yaml: bodies[0]"); },
                     {"mesh", "3D", "box", "sphere"});
}

TEST(Sampling, OpenMeshRejected) {
  expect_input_error([] { pl::sample_mesh<3>(load("open_box.obj"), settings(0.1, 8), "open_box.obj"); },
                     {"open_box.obj", "closed"});
}

TEST(Sampling, TooManyCandidatesRejected) {
  // A 1 m box with dx given in millimetres by mistake... as meters: 1e-5.
  expect_input_error([] { pl::sample_box<3>({0, 0, 0}, {1, 1, 1}, settings(1e-5, 8)); },
                     {"candidate particles", "increase dx"});
}
