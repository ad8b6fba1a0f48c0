// The soft gripper scene (scenes/soft_gripper_3d.yaml) on a compressed
// timeline: the two FEM finger pads close on the jelly cube and lift it; the
// cube rises with them, is not dropped, and no particle gets into a pad
// beyond half a grid cell.  Also: fem.coupling input errors name the key
// (a 2D scene with FEM bodies: tests/scene/malformed/fem_coupling_2d.yaml).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "engine/core/error.hpp"
#include "engine/coupling/mesh_sdf.hpp"
#include "engine/coupling/mpm_fem_scene.hpp"
#include "engine/diff/scene_gradcheck.hpp"
#include "engine/geometry/winding_number.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl {
namespace {

namespace sc = pl::scene;

const std::string kScene = std::string(PLIANT_SOURCE_DIR) + "/scenes/soft_gripper_3d.yaml";

// Close in 0.08 s, lift 3 cm from 0.1 s to 0.25 s, hold to 0.3 s.
std::vector<std::string> compressed_timeline() {
  std::vector<std::string> o;
  for (const char* pad : {"left_pad", "right_pad"}) {
    const std::string d = std::string("fem.bodies.") + pad + ".drive";
    o.push_back(d + ".velocity=[" + std::string(pad[0] == 'l' ? "" : "-") + "0.175, 0, 0]");
    o.push_back(d + ".end=0.08");
    o.push_back(d + ".then={velocity: [0, 0.2, 0], start: 0.1, end: 0.25}");
  }
  return o;
}

double cube_height(const MpmWorld<double, 3>& world) {
  const auto& p = world.particles();
  double m = 0, my = 0;
  for (std::size_t i = 0; i < p.size(); ++i) m += p.mass[i], my += p.mass[i] * p.x[i][1];
  return my / m;
}

/// Depth [m] of the deepest particle inside any pad (0 if none is inside).
double deepest_in_pads(const MpmWorld<double, 3>& world, sc::FemSceneRun<double>& fem) {
  double deepest = 0;
  const auto& p = world.particles();
  for (const TriangleMesh& pad : fem.surface_meshes())
    for (std::size_t i = 0; i < p.size(); ++i) {
      const std::array<double, 3> q{p.x[i][0], p.x[i][1], p.x[i][2]};
      if (winding_number(pad, q) < 0.5) continue;
      double d = 1e9;
      for (const auto& t : pad.triangles)
        d = std::min(d, point_triangle_distance(q, pad.vertices[std::size_t(t[0])], pad.vertices[std::size_t(t[1])],
                                                pad.vertices[std::size_t(t[2])]));
      deepest = std::max(deepest, d);
    }
  return deepest;
}

TEST(CouplingMpmFemGripper, PadsLiftTheCubeWithoutPenetration) {
  const sc::SceneDesc scene = sc::load_scene(kScene, compressed_timeline());
  auto world = sc::build_world<double, 3>(scene);
  auto fem = sc::make_fem_scene_run<double>(scene);
  auto coupling = make_scene_coupling<double>(scene, *world, fem.get());
  ASSERT_TRUE(coupling);
  const double dx = world->settings().dx, y0 = cube_height(*world);
  const int per_10ms = 100;  // substeps of 1e-4 s
  double deepest = 0;
  for (int k = 0; k < 30; ++k) {  // 0.3 s
    coupling->step_with(per_10ms, [&] { fem->step_once(); });
    if (k % 5 == 4) deepest = std::max(deepest, deepest_in_pads(*world, *fem));
  }
  const double rise = cube_height(*world) - y0;
  std::printf("gripper: cube rose %.2f cm (pads 3 cm), deepest particle %.2f dx inside a pad\n", 100 * rise,
              deepest / dx);
  EXPECT_GT(rise, 0.02) << "the cube should follow the pads up (3 cm) and stay held";
  EXPECT_LT(deepest, 0.5 * dx);
}

TEST(CouplingMpmFemGripper, CouplingInputErrorsNameTheKey) {
  // Errors caused by an override name the override ("--set ..."); the others the file and line.
  const auto expect_error = [](const std::vector<std::string>& overrides, const std::string& key,
                               bool names_file = false) {
    try {
      const sc::SceneDesc scene = sc::load_scene(kScene, overrides);
      auto world = sc::build_world<double, 3>(scene);
      auto fem = sc::make_fem_scene_run<double>(scene);
      make_scene_coupling<double>(scene, *world, fem.get());
      ADD_FAILURE() << "no error for " << key;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(key), std::string::npos) << msg;
      if (names_file) EXPECT_NE(msg.find("soft_gripper_3d.yaml:"), std::string::npos) << msg;
    }
  };
  expect_error({"fem.coupling.stiffness=0"}, "fem.coupling.stiffness");
  expect_error({"fem.coupling.friction=-1"}, "fem.coupling.friction");
  expect_error({"fem.coupling.skinn=0.01"}, "skinn");
  expect_error({"fem.steps_per_frame=10"}, "fem.steps_per_frame");
  expect_error({"simulation.dt=2.0e-3"}, "fem.coupling", true);  // above the pads' explicit stability limit
}

// issue 6 (gc_fem): coupled scenes used to be refused; the check now runs CoupledRollout.
TEST(CouplingMpmFemGripper, SceneGradcheckRunsCoupledScenes) {
  const sc::SceneDesc scene = sc::load_scene(kScene);
  GradcheckOptions options;
  options.steps = 2;
  const GradcheckReport r = gradcheck_scene(scene, options);
  EXPECT_TRUE(r.passed()) << r.table();
  bool has_coupling_row = false;
  for (const auto& row : r.rows) has_coupling_row |= row.quantity == "coupling stiffness (relative)";
  EXPECT_TRUE(has_coupling_row) << r.table();
}

}  // namespace
}  // namespace pl
