// Scene tools acting on FEM bodies (issue 6): scenes/tool_press_soft_3d.yaml's
// plate, built through the scene loader and FemSceneRun, presses the block
// (its top comes down with the plate; no vertex ends up inside it beyond the
// tolerance of FemToolWorld) and the plate feels the block push back.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "engine/fem/fem_tool_contact.hpp"
#include "engine/scene/fem_loader.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::scene {
namespace {

TEST(FemToolScene, ScenePlatePressesTheBlockAndFeelsIt) {
  const SceneDesc scene = load_scene(std::string(PLIANT_SOURCE_DIR) + "/scenes/tool_press_soft_3d.yaml");
  FemSceneRun<double> run(scene);
  const auto& world = run.world();
  ASSERT_EQ(world.tools().size(), 1u);
  EXPECT_EQ(world.tools()[0]->name(), "plate");
  // Not mode soft would mean the FEM defaults; this scene sets its own.
  EXPECT_DOUBLE_EQ(world.tools()[0]->tool().spec().stiffness, 1e6);
  // The vertex at the middle of the block's top face.
  int middle = 0;
  auto distance2 = [&](int v) {
    const double d[3] = {world.positions()[std::size_t(3 * v)] - 0.2, world.positions()[std::size_t(3 * v + 1)] - 0.08,
                         world.positions()[std::size_t(3 * v + 2)] - 0.2};
    return d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
  };
  for (int v = 0; v < world.num_vertices(); ++v)
    if (distance2(v) < distance2(middle)) middle = v;
  ASSERT_LT(distance2(middle), 1e-12);
  for (int frame = 0; frame < 6; ++frame) run.step_frame();  // 0.15 s: the plate went 7.5 mm down
  const auto pose = world.tools()[0]->tool().pose(world.step_count());  // a copy: pose() may replan
  EXPECT_NEAR(pose.position[1], 0.092 - 0.0075, 1e-9);
  // The top's middle went down with the plate (its bottom face is at 0.0745 m) ...
  EXPECT_LT(world.positions()[std::size_t(3 * middle + 1)], 0.08 - 0.004);
  // ... and no vertex is inside the plate by more than FemToolWorld's 1 mm.
  const ToolGeometry<double, 3> g = world.tools()[0]->tool().state<double>(0, nullptr).geometry;
  for (int v = 0; v < world.num_vertices(); ++v) {
    const Vec<double, 3> x{{world.positions()[std::size_t(3 * v)], world.positions()[std::size_t(3 * v + 1)],
                            world.positions()[std::size_t(3 * v + 2)]}};
    Vec<double, 3> grad;
    EXPECT_GT(tool_sdf(g, transpose(pose.rotation) * (x - pose.position), grad), -1e-3) << "vertex " << v;
  }
  const ToolReaction& r = world.tools()[0]->reactions()[std::size_t(world.step_count() - 1)];
  EXPECT_GT(r.force[1], 1.0);                  // the block pushes the plate up [N]
}

}  // namespace
}  // namespace pl::scene
