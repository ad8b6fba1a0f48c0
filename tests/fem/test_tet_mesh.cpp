// Tet meshes: the three file formats give the same body, malformed files give
// errors that name the file and line, procedural boxes and cylinders have the
// right volume and orientation, lumped masses add up.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/core/error.hpp"
#include "engine/fem/tet_mesh.hpp"
#include "engine/fem/tet_surface.hpp"

namespace pl::fem {
namespace {

const std::string kData = std::string(PLIANT_SOURCE_DIR) + "/tests/fem/data/";

double total_volume(const TetMesh& m) {
  double v = 0;
  for (std::size_t t = 0; t < m.tets.size(); ++t) {
    EXPECT_GT(tet_rest_volume(m, t), 0) << m.source << " tet " << t;
    v += tet_rest_volume(m, t);
  }
  return v;
}

// The tets as sets of vertex positions (independent of numbering and orientation).
std::set<std::vector<double>> tet_positions(const TetMesh& m) {
  std::set<std::vector<double>> out;
  for (const auto& t : m.tets) {
    std::vector<std::vector<double>> corners;
    for (int v : t) corners.push_back({m.vertices[std::size_t(v)][0], m.vertices[std::size_t(v)][1], m.vertices[std::size_t(v)][2]});
    std::sort(corners.begin(), corners.end());
    std::vector<double> flat;
    for (const auto& c : corners) flat.insert(flat.end(), c.begin(), c.end());
    out.insert(flat);
  }
  return out;
}

TEST(TetMesh, TetGenAndGmshV2AndV41ReadTheSameBox) {
  const TetMesh tetgen = read_tet_mesh(kData + "box.node");
  const TetMesh tetgen_by_ele = read_tet_mesh(kData + "box.ele");
  const TetMesh v2 = read_tet_mesh(kData + "box_v2.msh");
  const TetMesh v41 = read_tet_mesh(kData + "box_v41.msh");
  for (const TetMesh* m : {&tetgen, &tetgen_by_ele, &v2, &v41}) {
    EXPECT_EQ(m->vertices.size(), 8u) << m->source;
    EXPECT_EQ(m->tets.size(), 6u) << m->source;  // points and triangles skipped
    EXPECT_NEAR(total_volume(*m), 2.0, 1e-12) << m->source;
  }
  EXPECT_EQ(tet_positions(tetgen), tet_positions(v2));
  EXPECT_EQ(tet_positions(tetgen), tet_positions(v41));  // odd tets of box_v41 were reoriented
}

void expect_error(const std::string& file, const std::vector<std::string>& fragments) {
  try {
    read_tet_mesh(kData + file);
    ADD_FAILURE() << file << ": expected an InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << file << ": '" << what << "' lacks '" << f << "'";
  }
}

TEST(TetMesh, MalformedFilesNameFileLineAndExpectation) {
  expect_error("bad_count.node", {"bad_count.node:", "expected a point index", "end of the file"});
  expect_error("bad_number.node", {"bad_number.node:3:", "expected a coordinate", "'zero'"});
  expect_error("bad_index.ele", {"bad_index.ele:2:", "point index 9"});
  expect_error("quadratic.node", {"quadratic.ele:1:", "10 nodes per tetrahedron", "4-node"});
  expect_error("flat.node", {"flat.node", "tet 0", "degenerate"});
  expect_error("missing_ele.node", {"missing_ele.ele", "cannot open"});
  expect_error("binary.msh", {"binary.msh:2:", "binary", "ASCII"});
  expect_error("version3.msh", {"version3.msh:2:", "3.0", "2.2 or 4.1"});
  expect_error("truncated.msh", {"truncated.msh:", "expected a node tag", "end of the file"});
  expect_error("unknown_node.msh", {"unknown_node.msh:13:", "node tag 7"});
  expect_error("no_tets.msh", {"no_tets.msh", "no tetrahedra"});
  expect_error("box.obj", {"box.obj", "unknown tet mesh format"});
}

// The boundary of a tet mesh is a closed, outward-oriented manifold enclosing
// the mesh's volume; a box has 2 triangles per boundary cell face.
TEST(TetMesh, SurfaceIsClosedOutwardAndEnclosesTheVolume) {
  const TetMesh box = make_box_mesh({0, 0, 0}, {0.3, 0.2, 0.1}, {3, 2, 2});
  const TetSurface s = tet_surface(box);
  EXPECT_EQ(s.mesh.triangles.size(), 2u * 2 * (3 * 2 + 2 * 2 + 3 * 2));
  EXPECT_EQ(s.vertex.size(), box.vertices.size() - 2);  // the 2 interior vertices (x = 0.1, 0.2 at y = z = mid) are dropped
  validate_closed_manifold(s.mesh, "box surface");
  EXPECT_NEAR(mesh_volume(s.mesh), 0.3 * 0.2 * 0.1, 1e-15);
  const TetMesh finger = read_tet_mesh(std::string(PLIANT_SOURCE_DIR) + "/assets/tets/finger.node");
  const TetSurface fs = tet_surface(finger);
  validate_closed_manifold(fs.mesh, "finger surface");
  EXPECT_NEAR(mesh_volume(fs.mesh), total_volume(finger), 1e-15);
  // Positions follow a deformed state.
  TetSurface moved = s;
  std::vector<double> x;
  for (const auto& p : box.vertices)
    for (double c : p) x.push_back(2 * c);
  update_surface_positions(moved, x.data(), 0);
  EXPECT_NEAR(mesh_volume(moved.mesh), 8 * 0.3 * 0.2 * 0.1, 1e-14);
}

TEST(TetMesh, BundledAssetsLoad) {
  const std::string assets = std::string(PLIANT_SOURCE_DIR) + "/assets/tets/";
  const TetMesh cube = read_tet_mesh(assets + "soft_cube.msh");
  EXPECT_EQ(cube.tets.size(), 6u * 64);
  EXPECT_NEAR(total_volume(cube), 1e-3, 1e-12);
  const TetMesh finger = read_tet_mesh(assets + "finger.node");
  EXPECT_EQ(finger.tets.size(), 6u * 36 * 8);
  EXPECT_NEAR(total_volume(finger), M_PI * 0.02 * 0.02 * 0.1, 0.02 * M_PI * 0.02 * 0.02 * 0.1);  // polygonal disk, 6 cells across
}

TEST(TetMesh, ProceduralBoxAndCylinder) {
  const TetMesh box = make_box_mesh({0, 0, 0}, {0.3, 0.2, 0.1}, {3, 2, 1});
  EXPECT_EQ(box.vertices.size(), 4u * 3 * 2);
  EXPECT_EQ(box.tets.size(), 6u * 6);
  EXPECT_NEAR(total_volume(box), 0.3 * 0.2 * 0.1, 1e-15);
  const auto mass = lumped_vertex_mass(box, 1000);
  double m = 0;
  for (double v : mass) m += v;
  EXPECT_NEAR(m, 1000 * 0.3 * 0.2 * 0.1, 1e-12);

  // The mapped square converges to the disk: area error shrinks with resolution.
  double previous = 1;
  for (int n : {4, 8, 16}) {
    const TetMesh cyl = make_cylinder_mesh({1, 2, 3}, 0.5, 2.0, n, 2);
    const double err = std::abs(total_volume(cyl) - M_PI * 0.25 * 2.0) / (M_PI * 0.25 * 2.0);
    EXPECT_LT(err, previous);
    previous = err;
    for (const auto& p : cyl.vertices) {
      EXPECT_LE(std::hypot(p[0] - 1, p[1] - 2), 0.5 + 1e-12);
      EXPECT_GE(p[2], 3 - 1e-12);
      EXPECT_LE(p[2], 5 + 1e-12);
    }
  }
  EXPECT_LT(previous, 0.01);
  EXPECT_THROW(make_box_mesh({0, 0, 0}, {1, 1, 1}, {0, 1, 1}), InputError);
  EXPECT_THROW(make_box_mesh({0, 0, 0}, {1, -1, 1}, {1, 1, 1}), InputError);
  EXPECT_THROW(make_cylinder_mesh({0, 0, 0}, -1, 1, 4, 4), InputError);
}

}  // namespace
}  // namespace pl::fem
