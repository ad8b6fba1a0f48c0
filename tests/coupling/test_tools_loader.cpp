// The scene `tools:` section: parsing, defaults, segment expansion into
// per-substep actions, mesh tools, and the bundled tool scenes' worlds.
#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::scene {
namespace {

const char* kBase = R"(version: 1
simulation:
  dim: 2
  dt: 1.0e-3
  substeps_per_frame: 10
  frames: 2
  dx: 0.02
  domain: {origin: [0, 0], size: [1, 1]}
  gravity: [0, -9.81]
materials:
  jelly: {model: fixed_corotated, density: 1000, E: 1.0e4, nu: 0.3}
bodies:
  block:
    material: jelly
    shape: {type: box, lower: [0.3, 0.3], upper: [0.5, 0.5]}
)";

TEST(CouplingToolsLoader, ReadsEveryFieldAndExpandsSegments) {
  const std::string text = std::string(kBase) + R"(tools:
  pusher:
    shape: {type: rounded_box, half_extents: [0.05, 0.1], radius: 0.01}
    position: [0.2, 0.4]
    rotation_deg: 30
    contact: {mode: soft, friction: 0.2, stiffness: 5.0e4, softness: 0.004}
    motion:
      type: velocity
      segments:
        - {until: 0.0105, linear: [1, 0], angular: 2}
        - {until: 0.02, linear: [0, -1]}
  floor:
    shape: {type: plane}
    position: [0.5, 0.1]
)";
  const SceneDesc s = parse_scene(text, "tools.yaml");
  ASSERT_EQ(s.tools.size(), 2u);
  const ToolDesc& t = s.tools[0];
  EXPECT_EQ(t.shape, ToolShape::RoundedBox);
  EXPECT_DOUBLE_EQ(t.rotation_deg[0], 30);
  EXPECT_EQ(t.mode, ContactMode::Soft);
  EXPECT_DOUBLE_EQ(t.stiffness, 5e4);
  EXPECT_DOUBLE_EQ(t.softness, 0.004);
  ASSERT_EQ(t.segments.size(), 2u);
  EXPECT_EQ(s.tools[1].motion, ToolMotionType::Static);
  EXPECT_EQ(s.tools[1].mode, ContactMode::Friction);  // the default contact
  EXPECT_DOUBLE_EQ(s.tools[1].friction, 0.5);

  auto world = build_world<double, 2>(s, Backend::Cpu);
  ASSERT_EQ(world->tools().size(), 2u);
  const Tool<2>& pusher = world->tools()[0];
  // Substeps 0..10 (t < 0.0105) move along +x at 1 m/s and spin; 11..19 move down.
  EXPECT_EQ(pusher.spec().actions.size(), 20u);
  EXPECT_DOUBLE_EQ(pusher.pose(10).velocity[0], 1.0);
  EXPECT_DOUBLE_EQ(pusher.pose(10).angular[0], 2.0);
  EXPECT_DOUBLE_EQ(pusher.pose(11).velocity[1], -1.0);
  EXPECT_DOUBLE_EQ(pusher.pose(11).angular[0], 0.0);
  EXPECT_NEAR(pusher.pose(11).position[0], 0.2 + 11 * 1e-3, 1e-12);
  EXPECT_NEAR(pusher.pose(25).position[1], 0.4 - 9 * 1e-3, 1e-12);  // at rest after the last segment
  world->step(3);  // runs with both tools
  EXPECT_EQ(world->tool_reactions()[0].size(), 3u);
}

TEST(CouplingToolsLoader, ErrorsNameTheKey) {
  auto error = [](const std::string& tools) {
    try {
      parse_scene(std::string(kBase) + tools, "bad.yaml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("tools:\n  t: {shape: {type: box, half_extents: [0.1, 0]}, position: [0.5, 0.5]}\n")
                .find("tools.t.shape.half_extents"),
            std::string::npos);
  EXPECT_NE(error("tools:\n  t: {shape: {type: sphere, radius: 0.1}}\n").find("tools.t: missing required key 'position'"),
            std::string::npos);
  EXPECT_NE(error("tools:\n  t: {shape: {type: sphere, radius: 0.1}, position: [0.5, 0.5], contact: {mode: glue}}\n")
                .find("tools.t.contact.mode"),
            std::string::npos);
  EXPECT_NE(error("tools:\n  t: {shape: {type: sphere, radius: 0.1}, position: [0.5, 0.5], motion: {type: velocity, "
                  "segments: [{until: 1, linear: [2, 0]}]}}\n")
                .find("tools.t.motion.segments[0]: the tool is outside the domain"),
            std::string::npos);
}

TEST(CouplingToolsLoader, MeshToolBecomesADistanceField) {
  // The closed cube mesh as a tool: its field is negative at the centre and
  // positive outside, and a grid node inside it moves with it.
  const std::string text = std::string(R"(version: 1
simulation:
  dim: 3
  dt: 1.0e-3
  substeps_per_frame: 1
  frames: 1
  dx: 0.05
  domain: {origin: [0, 0, 0], size: [1, 1, 1]}
materials:
  jelly: {model: fixed_corotated, density: 1000, E: 1.0e4, nu: 0.3}
bodies:
  block:
    material: jelly
    shape: {type: box, lower: [0.3, 0.3, 0.3], upper: [0.5, 0.5, 0.5]}
tools:
  cube:
    shape: {type: mesh, file: )") + PLIANT_SOURCE_DIR + R"(/assets/meshes/cube.obj, scale: 0.2}
    position: [0.7, 0.7, 0.7]
)";
  const SceneDesc s = parse_scene(text, "mesh.yaml");
  auto world = build_world<double, 3>(s, Backend::Cpu);
  const ToolState<double, 3> t = world->tools()[0].state<double>(0, world->tools()[0].spec().mesh->values.data());
  Vec<double, 3> grad;
  EXPECT_NEAR(tool_sdf(t.geometry, Vec<double, 3>{{0, 0, 0}}, grad), -0.1, 0.01);  // the cube is 0.2 m wide
  EXPECT_NEAR(tool_sdf(t.geometry, Vec<double, 3>{{0.15, 0, 0}}, grad), 0.05, 0.01);
  EXPECT_NEAR(grad[0], 1.0, 0.05);
}

TEST(CouplingToolsLoader, BundledToolScenesBuild) {
  for (const char* name : {"rolling_pin_3d", "spatula_sand_3d", "cup_pour_3d"}) {
    const SceneDesc s = load_scene(std::string(PLIANT_SOURCE_DIR) + "/scenes/" + name + ".yaml");
    EXPECT_FALSE(s.tools.empty()) << name;
    auto world = build_world<float, 3>(s, Backend::Cpu);
    EXPECT_EQ(world->tools().size(), s.tools.size()) << name;
  }
}

}  // namespace
}  // namespace pl::scene
