// OBJ loading, closed-manifold validation, transforms, volume and bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "engine/core/error.hpp"
#include "engine/geometry/triangle_mesh.hpp"

namespace {

const double kPi = 3.14159265358979323846;

std::string asset(const std::string& name) { return std::string(PLIANT_SOURCE_DIR) + "/assets/meshes/" + name; }

// Temporary files are removed when the test program exits.
struct TempFiles {
  std::vector<std::filesystem::path> paths;
  ~TempFiles() {
    std::error_code ignored;
    for (const auto& p : paths) std::filesystem::remove(p, ignored);
  }
} temp_files;

// Writes `text` to a file unique to this test and process (ctest runs tests in
// parallel) and returns its path.
std::string write_temp(const std::string& text) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("pliant_" + std::string(info->test_suite_name()) + "_" + info->name() +
                                      "_" + std::to_string(::getpid()) + ".obj");
  std::ofstream(path, std::ios::binary) << text;
  temp_files.paths.push_back(path);
  return path.string();
}

// Runs f, expects pl::InputError, and that its message contains every part.
void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected pl::InputError";
  } catch (const pl::InputError& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

pl::TriangleMesh unit_cube() { return pl::load_obj(asset("cube.obj")); }

}  // namespace

TEST(ObjLoader, ReadsTrianglesAndIgnoresOtherStatements) {
  const std::string path = write_temp(
      "# a comment\r\n"
      "mtllib x.mtl\n"
      "o thing\n"
      "v 0 0 0\n"
      "v 1.5 0 0  # trailing comment\n"
      "v 0 +2 0 1.0\n"  // homogeneous w and a leading '+' are accepted
      "vt 0.5 0.5\n"
      "vn 0 0 1\n"
      "g group\n"
      "s off\n"
      "usemtl red\n"
      "f 1 2 3\r\n");
  const pl::TriangleMesh m = pl::load_obj(path);
  ASSERT_EQ(m.vertices.size(), 3u);
  ASSERT_EQ(m.triangles.size(), 1u);
  EXPECT_EQ(m.triangles[0], (std::array<int, 3>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(m.vertices[1][0], 1.5);
  EXPECT_DOUBLE_EQ(m.vertices[2][1], 2.0);
}

TEST(ObjLoader, FanTriangulatesPolygons) {
  const std::string path = write_temp(
      "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv -1 0.5 0\n"
      "f 1 2 3 4 5\n");
  const pl::TriangleMesh m = pl::load_obj(path);
  ASSERT_EQ(m.triangles.size(), 3u);
  EXPECT_EQ(m.triangles[0], (std::array<int, 3>{0, 1, 2}));
  EXPECT_EQ(m.triangles[1], (std::array<int, 3>{0, 2, 3}));
  EXPECT_EQ(m.triangles[2], (std::array<int, 3>{0, 3, 4}));
}

TEST(ObjLoader, SlashFormsAndNegativeIndices) {
  const std::string path = write_temp(
      "v 0 0 0\nv 1 0 0\nv 0 1 0\n"
      "vt 0 0\nvn 0 0 1\n"
      "f 1/1/1 2/1/1 3/1/1\n"
      "f 1//1 2//1 3//1\n"
      "f 1/1 2/1 3/1\n"
      "v 0 0 1\n"
      "f -4 -1 -3\n"          // relative to the 4 vertices defined so far: 1 4 2
      "f -4/1/1 -3//1 -2/1\n");  // 1 2 3
  const pl::TriangleMesh m = pl::load_obj(path);
  ASSERT_EQ(m.triangles.size(), 5u);
  for (int t = 0; t < 3; ++t) EXPECT_EQ(m.triangles[t], (std::array<int, 3>{0, 1, 2})) << t;
  EXPECT_EQ(m.triangles[3], (std::array<int, 3>{0, 3, 1}));
  EXPECT_EQ(m.triangles[4], (std::array<int, 3>{0, 1, 2}));
}

TEST(ObjLoader, QuadCubeIsClosedAfterFanTriangulation) {
  const pl::TriangleMesh m = pl::load_obj(write_temp(
      "v 0 0 0\nv 0 0 1\nv 0 1 0\nv 0 1 1\nv 1 0 0\nv 1 0 1\nv 1 1 0\nv 1 1 1\n"
      "f 1 2 4 3\nf 5 7 8 6\nf 1 5 6 2\nf 3 4 8 7\nf 1 3 7 5\nf 2 6 8 4\n"));
  EXPECT_EQ(m.triangles.size(), 12u);
  EXPECT_NO_THROW(pl::validate_closed_manifold(m, "quad cube"));
  EXPECT_NEAR(pl::mesh_volume(m), 1.0, 1e-15);
}

TEST(ObjLoader, PositiveIndicesMayReferToLaterVertices) {
  const pl::TriangleMesh m = pl::load_obj(write_temp("f 1 2 3\nv 0 0 0\nv 1 0 0\nv 0 1 0\n"));
  EXPECT_EQ(m.triangles.size(), 1u);
  EXPECT_EQ(m.vertices.size(), 3u);
}

TEST(ObjLoader, AssetsHaveTheAdvertisedSizes) {
  EXPECT_EQ(pl::load_obj(asset("cube.obj")).triangles.size(), 12u);
  EXPECT_EQ(pl::load_obj(asset("icosphere.obj")).triangles.size(), 320u);
  EXPECT_EQ(pl::load_obj(asset("torus.obj")).triangles.size(), 800u);
  EXPECT_EQ(pl::load_obj(asset("open_box.obj")).triangles.size(), 10u);
}

TEST(ObjLoader, MissingFileNamesThePath) {
  const std::string path = std::string(PLIANT_SOURCE_DIR) + "/assets/meshes/does_not_exist.obj";
  expect_input_error([&] { pl::load_obj(path); }, {path, "cannot open"});
}

TEST(ObjLoader, BadNumberNamesLineAndToken) {
  const std::string path = write_temp("v 0 0 0\nv 1 0 0\nv 0 1.0x 0\nf 1 2 3\n");
  expect_input_error([&] { pl::load_obj(path); }, {path + ":3:", "'1.0x'", "not a number"});
}

TEST(ObjLoader, NonFiniteCoordinateRejected) {
  const std::string path = write_temp("v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n");
  expect_input_error([&] { pl::load_obj(path); }, {path + ":2:", "finite"});
}

TEST(ObjLoader, TooFewCoordinates) {
  const std::string path = write_temp("v 0 0\n");
  expect_input_error([&] { pl::load_obj(path); }, {path + ":1:", "3 coordinates"});
}

TEST(ObjLoader, IndexOutOfRangeNamesLine) {
  const std::string path = write_temp("v 0 0 0\nv 1 0 0\nv 0 1 0\n\nf 1 2 3\nf 1 2 9\n");
  expect_input_error([&] { pl::load_obj(path); }, {path + ":6:", "index 9", "out of range", "1..3"});
}

TEST(ObjLoader, NegativeIndexOutOfRangeNamesLine) {
  const std::string path = write_temp("v 0 0 0\nv 1 0 0\nf -1 -2 -3\nv 0 1 0\n");
  expect_input_error([&] { pl::load_obj(path); }, {path + ":3:", "-3", "out of range"});
}

TEST(ObjLoader, ZeroIndexRejected) {
  const std::string path = write_temp("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n");
  expect_input_error([&] { pl::load_obj(path); }, {path + ":4:", "start at 1"});
}

TEST(ObjLoader, NonIntegerIndexRejected) {
  const std::string path = write_temp("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x/1\n");
  expect_input_error([&] { pl::load_obj(path); }, {path + ":4:", "'x/1'"});
}

TEST(ObjLoader, FaceWithTwoVerticesRejected) {
  const std::string path = write_temp("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2\n");
  expect_input_error([&] { pl::load_obj(path); }, {path + ":5:", "2 vertices", "at least 3"});
}

TEST(ObjLoader, NoFacesRejected) {
  const std::string path = write_temp("v 0 0 0\nv 1 0 0\nv 0 1 0\n");
  expect_input_error([&] { pl::load_obj(path); }, {path, "no faces"});
}

TEST(ClosedManifold, AssetsAreClosed) {
  for (const char* name : {"cube.obj", "icosphere.obj", "torus.obj"})
    EXPECT_NO_THROW(pl::validate_closed_manifold(pl::load_obj(asset(name)), name)) << name;
}

TEST(ClosedManifold, OpenBoxRejected) {
  const pl::TriangleMesh m = pl::load_obj(asset("open_box.obj"));
  expect_input_error([&] { pl::validate_closed_manifold(m, "open_box.obj"); },
                     {"open_box.obj", "not closed", "edge between vertices",
                      "must be closed and consistently oriented for sampling the interior"});
}

TEST(ClosedManifold, FlippedTriangleRejected) {
  pl::TriangleMesh m = unit_cube();
  std::swap(m.triangles[5][1], m.triangles[5][2]);
  expect_input_error([&] { pl::validate_closed_manifold(m, "cube.obj"); },
                     {"cube.obj", "not consistently oriented", "5", "same direction"});
}

TEST(ClosedManifold, NonManifoldEdgeRejected) {
  pl::TriangleMesh m = unit_cube();
  // A fin: an extra pair of triangles hanging off the cube's edge (1,2) (0-based 0,1).
  m.vertices.push_back({-1.0, -1.0, 0.0});
  const int v = static_cast<int>(m.vertices.size()) - 1;
  m.triangles.push_back({0, 1, v});
  m.triangles.push_back({1, 0, v});
  expect_input_error([&] { pl::validate_closed_manifold(m, "fin"); }, {"fin", "not manifold", "4 triangles"});
}

TEST(ClosedManifold, DegenerateTriangleRejected) {
  pl::TriangleMesh m;
  m.vertices = {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}, {0, 1, 0}};
  m.triangles = {{0, 1, 2}, {0, 3, 1}};
  expect_input_error([&] { pl::validate_closed_manifold(m, "flat"); },
                     {"flat", "triangle 0", "vertices 1, 2, 3", "zero area"});
}

TEST(ClosedManifold, InwardOrientationRejected) {
  pl::TriangleMesh m = unit_cube();
  for (auto& t : m.triangles) std::swap(t[1], t[2]);
  expect_input_error([&] { pl::validate_closed_manifold(m, "inside_out"); },
                     {"inside_out", "oriented inward", "reverse"});
}

TEST(ClosedManifold, OutOfRangeIndexRejected) {
  pl::TriangleMesh m = unit_cube();
  m.triangles[3][2] = 99;
  expect_input_error([&] { pl::validate_closed_manifold(m, "bad"); }, {"bad", "triangle 3", "vertex 100"});
}

TEST(MeshVolume, CubeIsExactlyOne) { EXPECT_NEAR(pl::mesh_volume(unit_cube()), 1.0, 1e-14); }

TEST(MeshVolume, IcosphereNearBallVolume) {
  const double v = pl::mesh_volume(pl::load_obj(asset("icosphere.obj")));
  const double ball = 4.0 / 3.0 * kPi;
  // An inscribed polyhedron: slightly smaller than the ball, within 4%.
  EXPECT_LT(v, ball);
  EXPECT_GT(v, 0.96 * ball);
}

TEST(MeshVolume, TorusNearAnalytic) {
  const double v = pl::mesh_volume(pl::load_obj(asset("torus.obj")));
  const double analytic = 2.0 * kPi * kPi * 0.35 * 0.15 * 0.15;
  EXPECT_LT(v, analytic);
  EXPECT_GT(v, 0.96 * analytic);
}

TEST(MeshVolume, IndependentOfTranslation) {
  pl::MeshTransform t;
  t.translation = {1000.0, -2000.0, 3000.0};
  EXPECT_NEAR(pl::mesh_volume(pl::transform_mesh(unit_cube(), t)), 1.0, 1e-9);
}

TEST(BoundingBox, CubeAndIgnoresUnreferencedVertices) {
  pl::TriangleMesh m = unit_cube();
  m.vertices.push_back({10.0, 10.0, 10.0});  // referenced by no triangle
  const pl::Aabb3 b = pl::bounding_box(m);
  for (int a = 0; a < 3; ++a) {
    EXPECT_DOUBLE_EQ(b.lower[a], -0.5);
    EXPECT_DOUBLE_EQ(b.upper[a], 0.5);
  }
}

TEST(MeshTransform, ScaleRotateTranslateInThatOrder) {
  pl::TriangleMesh m;
  m.vertices = {{1.0, 0.0, 0.0}};
  pl::MeshTransform t;
  t.scale = {2.0, 3.0, 4.0};
  t.rotation_deg = {0.0, 0.0, 90.0};  // x -> y
  t.translation = {0.5, 0.0, -1.0};
  const pl::TriangleMesh out = pl::transform_mesh(m, t);
  // (1,0,0) -> scale (2,0,0) -> Rz(90) (0,2,0) -> translate (0.5,2,-1); exact for 90 degrees.
  EXPECT_EQ(out.vertices[0], (std::array<double, 3>{0.5, 2.0, -1.0}));
}

TEST(MeshTransform, EulerXYZAppliesXFirst) {
  pl::TriangleMesh m;
  m.vertices = {{0.0, 1.0, 0.0}};
  pl::MeshTransform t;
  t.rotation_deg = {90.0, 90.0, 0.0};
  // Rx(90): (0,1,0) -> (0,0,1); then Ry(90): (0,0,1) -> (1,0,0).
  // (The opposite order would give Ry first: (0,1,0) -> (0,1,0), then Rx -> (0,0,1).)
  EXPECT_EQ(pl::transform_mesh(m, t).vertices[0], (std::array<double, 3>{1.0, 0.0, 0.0}));
}

TEST(MeshTransform, GeneralRotationPreservesVolumeAndScaleMultipliesIt) {
  pl::MeshTransform t;
  t.scale = pl::uniform_scale(0.5);
  t.rotation_deg = {17.0, -33.0, 71.5};
  t.translation = {0.1, 0.2, 0.3};
  const pl::TriangleMesh m = pl::transform_mesh(pl::load_obj(asset("icosphere.obj")), t);
  EXPECT_NEAR(pl::mesh_volume(m), 0.125 * pl::mesh_volume(pl::load_obj(asset("icosphere.obj"))), 1e-12);
  // Every vertex stays on the sphere of radius 0.5 about the translation.
  for (const auto& v : m.vertices)
    EXPECT_NEAR(std::hypot(v[0] - 0.1, v[1] - 0.2, v[2] - 0.3), 0.5, 1e-12);
}

TEST(MeshTransform, MirrorKeepsOutwardOrientation) {
  pl::MeshTransform t;
  t.scale = {-1.0, 2.0, 1.0};
  const pl::TriangleMesh m = pl::transform_mesh(unit_cube(), t);
  EXPECT_NEAR(pl::mesh_volume(m), 2.0, 1e-14);
  EXPECT_NO_THROW(pl::validate_closed_manifold(m, "mirrored"));
}

TEST(MeshTransform, InvalidTransformNamesTheField) {
  pl::MeshTransform t;
  t.scale = {1.0, 0.0, 1.0};
  expect_input_error([&] { pl::transform_mesh(unit_cube(), t, "scene.yaml: bodies[0].transform"); },
                     {"scene.yaml: bodies[0].transform", "scale[y]", "nonzero"});
  t = pl::MeshTransform{};
  t.rotation_deg[2] = std::nan("");
  expect_input_error([&] { pl::transform_mesh(unit_cube(), t); }, {"rotation_deg[z]", "finite"});
  t = pl::MeshTransform{};
  EXPECT_EQ(pl::validate(t), "");
}
