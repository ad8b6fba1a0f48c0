// Mesh tools: point-triangle distance, the narrow-band signed field of a
// closed mesh against the exact box distance, open meshes (error, or a shell
// with open_mesh).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/core/error.hpp"
#include "engine/coupling/mesh_sdf.hpp"
#include "kernels/coupling/sdf_primitives.hpp"

namespace pl {
namespace {

TEST(CouplingMeshSdf, PointTriangleDistanceInEveryRegion) {
  const std::array<double, 3> a{0, 0, 0}, b{1, 0, 0}, c{0, 1, 0};
  EXPECT_NEAR(point_triangle_distance({0.2, 0.2, 0.5}, a, b, c), 0.5, 1e-15);        // face
  EXPECT_NEAR(point_triangle_distance({-1, -1, 0}, a, b, c), std::sqrt(2.0), 1e-15);  // corner a
  EXPECT_NEAR(point_triangle_distance({0.5, -0.3, 0}, a, b, c), 0.3, 1e-15);         // edge ab
  EXPECT_NEAR(point_triangle_distance({1, 1, 0}, a, b, c), std::sqrt(0.5), 1e-15);    // edge bc
}

TEST(CouplingMeshSdf, ClosedCubeFieldMatchesTheBoxDistanceInTheBand) {
  const TriangleMesh cube = transform_mesh(load_obj(std::string(PLIANT_SOURCE_DIR) + "/assets/meshes/cube.obj"),
                                           MeshTransform{uniform_scale(0.2), {0, 0, 0}, {0, 0, 0}});
  MeshSdfOptions o;
  o.spacing = 0.01;
  const MeshSdf sdf = build_mesh_sdf(cube, o, "test");
  ToolGeometry<double, 3> mesh{}, box{};
  mesh.shape = ToolShape::Mesh;
  mesh.grid = sdf.view();
  box.shape = ToolShape::Box;
  box.half = Vec<double, 3>::constant(0.1);
  // Points within the band (4 cells): trilinear interpolation of the exact
  // distance is within a fraction of a cell of it.
  for (double x : {-0.13, -0.08, 0.0, 0.05, 0.12})
    for (double y : {-0.11, 0.03, 0.09}) {
      const Vec<double, 3> p{{x, y, 0.02}};
      Vec<double, 3> g1, g2;
      const double exact = tool_sdf(box, p, g1);
      if (std::abs(exact) > 0.035) continue;
      EXPECT_NEAR(tool_sdf(mesh, p, g2), exact, 0.004) << x << " " << y;
    }
  // Deep inside and far outside: the band's clamped values keep the sign.
  Vec<double, 3> g;
  EXPECT_LT(tool_sdf(mesh, Vec<double, 3>{{0, 0, 0}}, g), 0.0);
  EXPECT_GT(tool_sdf(mesh, Vec<double, 3>{{0.3, 0, 0}}, g), 0.0);
}

TEST(CouplingMeshSdf, OpenMeshIsAnErrorUnlessAskedForAShell) {
  const TriangleMesh open = load_obj(std::string(PLIANT_SOURCE_DIR) + "/assets/meshes/open_box.obj");
  MeshSdfOptions o;
  o.spacing = 0.05;
  try {
    build_mesh_sdf(open, o, "scene.yaml: tools.lid.shape");
    FAIL() << "an open mesh was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("open_mesh: true"), std::string::npos) << e.what();
  }
  o.open_mesh = true;
  o.thickness = 0.05;
  const MeshSdf shell = build_mesh_sdf(open, o, "test");
  ToolGeometry<double, 3> g{};
  g.shape = ToolShape::Mesh;
  g.grid = shell.view();
  Vec<double, 3> grad;
  EXPECT_GT(tool_sdf(g, Vec<double, 3>{{0, 0, 0}}, grad), 0.1);  // the centre of the open box is empty (band-clamped)
  EXPECT_LT(tool_sdf(g, Vec<double, 3>{{0, 0, -0.5}}, grad), 0.0);        // on its bottom face: inside the shell
  EXPECT_GT(tool_sdf(g, Vec<double, 3>{{0, 0, 0.5}}, grad), 0.1);  // where the missing +z face would be
}

}  // namespace
}  // namespace pl
