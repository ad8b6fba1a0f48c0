// Tool controls of `pliant optimize` (issue 7): tool_velocity (piecewise
// linear + angular velocity), tool_waypoints (a rigid group's key positions
// and rotations), tool_contact (friction, soft stiffness).  The gradient of
// every control entry is checked against central differences of the loss in
// double precision; a group stays rigid at its keys; the replay scene
// reproduces the loss; bad tool controls are InputErrors naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/optim/evaluate.hpp"
#include "engine/optim/replay_scene.hpp"
#include "engine/optim/tool_controls.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::optim {
namespace {

// A jelly block between four tools: a pusher (friction contact, moved by
// velocity pieces), a soft sphere pressing from above, and a two-box paddle
// moved as one rigid group by waypoints.
std::string tool_scene(int dim) {
  if (dim == 2)
    return R"(version: 1
simulation:
  dim: 2
  precision: double
  dt: 2.0e-3
  substeps_per_frame: 5
  frames: 6
  dx: 0.0625
  domain: {size: 1}
  gravity: [0, -9.81]
materials:
  jelly: {model: fixed_corotated, density: 1000, E: 2000, nu: 0.3}
bodies:
  block: {material: jelly, shape: {type: box, lower: [0.35, 0.35], upper: [0.55, 0.55]}, particles_per_cell: 4}
tools:
  pusher: {shape: {type: box, half_extents: [0.05, 0.1]}, position: [0.32, 0.45], contact: {mode: friction, friction: 0.4}}
  presser: {shape: {type: sphere, radius: 0.06}, position: [0.45, 0.6], contact: {mode: soft}}
  paddle: {shape: {type: box, half_extents: [0.04, 0.08]}, position: [0.58, 0.42], rotation_deg: 10, contact: {mode: slip}}
  blade: {shape: {type: box, half_extents: [0.08, 0.03]}, position: [0.62, 0.52], contact: {mode: slip}}
controls:
  push: {kind: tool_velocity, tool: pusher, segments: 2, angular: true, init: [0.5, 0.1, 0.3, 0.4, -0.2, 0.1], lower: -1, upper: 1}
  sweep:
    kind: tool_waypoints
    tools: [paddle, blade]
    times: [0.02, 0.05]
    rotation: true
    init: [0.57, 0.43, 14, 0.55, 0.41, 20]
    lower: [0.4, 0.3, -30, 0.4, 0.3, -30]
    upper: [0.7, 0.6, 60, 0.7, 0.6, 60]
  grip: {kind: tool_contact, tool: pusher, parameter: friction, init: 0.4, lower: 0, upper: 1}
  press: {kind: tool_contact, tool: presser, parameter: stiffness, init: 2.5e4, lower: 1.0e4, upper: 1.0e5, log: true}
objective:
  reach: {type: com, body: block, target: [0.6, 0.5], frames: [3, last]}
optimizer: {method: adam, iterations: 2}
)";
  return R"(version: 1
simulation:
  dim: 3
  precision: double
  dt: 2.0e-3
  substeps_per_frame: 4
  frames: 4
  dx: 0.1
  domain: {size: 1}
  gravity: [0, -9.81, 0]
materials:
  jelly: {model: fixed_corotated, density: 1000, E: 2000, nu: 0.3}
bodies:
  block: {material: jelly, shape: {type: box, lower: [0.35, 0.35, 0.35], upper: [0.6, 0.6, 0.6]}, particles_per_cell: 1}
tools:
  paddle: {shape: {type: box, half_extents: [0.05, 0.12, 0.12]}, position: [0.62, 0.47, 0.47], rotation_deg: [5, 0, 10], contact: {mode: slip}}
  blade: {shape: {type: box, half_extents: [0.12, 0.04, 0.12]}, position: [0.5, 0.64, 0.45], contact: {mode: slip}}
controls:
  sweep:
    kind: tool_waypoints
    tools: [paddle, blade]
    times: [0.02]
    rotation: true
    init: [0.6, 0.46, 0.48, 8, 6, 20]
    lower: [0.4, 0.3, 0.3, -30, -30, -30]
    upper: [0.8, 0.7, 0.7, 60, 60, 60]
objective:
  reach: {type: com, body: block, target: [0.4, 0.5, 0.5]}
optimizer: {method: adam, iterations: 2}
)";
}

void expect_gradient_matches_fd(const scene::SceneDesc& scene, double h, double tolerance) {
  const int before = cpu_threads();
  set_cpu_threads(1);
  const Problem problem(scene);
  std::vector<double> u = problem.layout().initial_unit();
  const Evaluation e = problem.evaluate(u, 0, true);
  ASSERT_TRUE(e.ok) << e.error;
  for (std::size_t i = 0; i < u.size(); ++i) {
    auto up = u, down = u;
    up[i] += h, down[i] -= h;
    const double fd = (problem.evaluate(up, 0, false).loss - problem.evaluate(down, 0, false).loss) / (2 * h);
    EXPECT_NEAR(e.gradient[i], fd, tolerance * std::max(1e-3, std::fabs(fd)))
        << problem.layout().entry_name(int(i)) << ": adjoint " << e.gradient[i] << ", FD " << fd;
    EXPECT_NE(fd, 0.0) << problem.layout().entry_name(int(i)) << " does not affect the loss: the check is empty";
  }
  set_cpu_threads(before);
}

TEST(ToolControls, GradientMatchesFiniteDifferencesForEveryToolControl2D) {
  const auto scene = scene::parse_scene(tool_scene(2), "tool_controls_2d.yaml");
  ASSERT_EQ(Problem(scene).dimension(), 6 + 6 + 1 + 1);
  expect_gradient_matches_fd(scene, 1e-6, 1e-4);
}

TEST(ToolControls, WaypointGroupGradientMatchesFiniteDifferences3D) {
  // Euler-angle keys of a rotated group: the rotation chain rule of add_waypoint_gradients.
  expect_gradient_matches_fd(scene::parse_scene(tool_scene(3), "tool_controls_3d.yaml"), 1e-6, 1e-4);
}

TEST(ToolControls, AGroupIsRigidAtItsKeys) {
  auto scene = scene::parse_scene(tool_scene(2), "tool_controls_2d.yaml");
  const Problem problem(scene);
  const auto p = problem.layout().to_physical(problem.layout().initial_unit());
  apply_tool_controls(problem.layout(), p, scene);
  const auto& paddle = scene.tools[2];
  const auto& blade = scene.tools[3];
  ASSERT_EQ(paddle.waypoints.size(), 3u);  // the initial pose + 2 keys
  ASSERT_EQ(blade.waypoints.size(), 3u);
  const double d0 = std::hypot(blade.position[0] - paddle.position[0], blade.position[1] - paddle.position[1]);
  const double angle0 = std::atan2(blade.position[1] - paddle.position[1], blade.position[0] - paddle.position[0]);
  for (std::size_t k = 1; k < 3; ++k) {
    const auto& a = paddle.waypoints[k];
    const auto& b = blade.waypoints[k];
    EXPECT_NEAR(a.position[0], p[6 + 3 * (k - 1)], 1e-12);  // the pivot goes where the key says
    EXPECT_NEAR(a.rotation_deg[0], p[6 + 3 * (k - 1) + 2], 1e-12);
    const double turn = (a.rotation_deg[0] - 10) * M_PI / 180;  // the paddle starts at 10 deg
    EXPECT_NEAR(std::hypot(b.position[0] - a.position[0], b.position[1] - a.position[1]), d0, 1e-12);
    EXPECT_NEAR(std::atan2(b.position[1] - a.position[1], b.position[0] - a.position[0]), angle0 + turn, 1e-12);
    EXPECT_NEAR(b.rotation_deg[0], turn * 180 / M_PI, 1e-12);  // the blade starts at 0 deg
  }
}

TEST(ToolControls, TheReplaySceneReproducesTheLoss) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "pliant_tool_controls_replay";
  fs::create_directories(dir);
  const fs::path file = dir / "scene.yaml";
  std::ofstream(file) << tool_scene(2);
  const int before = cpu_threads();
  set_cpu_threads(1);  // small rollouts: one thread is fastest and unaffected by a loaded machine
  const auto scene = scene::load_scene(file.string());
  const Problem problem(scene);
  std::vector<double> u(std::size_t(problem.dimension()));
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = 0.3 + 0.4 * double(i % 3) / 2;  // not the initial guess
  const auto p = problem.layout().to_physical(u);
  const fs::path replay = dir / "best_scene.yaml";
  std::ofstream(replay) << replay_scene_yaml(scene, {}, p, "replay");
  const auto again = scene::load_scene(replay.string());
  const Problem replayed(again);
  EXPECT_NEAR(replayed.evaluate(replayed.layout().initial_unit(), 0, false).loss, problem.evaluate(u, 0, false).loss,
              1e-12);
  set_cpu_threads(before);
  fs::remove_all(dir);
}

void expect_input_error(const std::vector<std::string>& sets, const std::string& needle) {
  try {
    scene::parse_scene(tool_scene(2), "bad.yaml", ".", sets);
    ADD_FAILURE() << "no error for " << sets.back();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ToolControls, BadToolControlsNameTheKey) {
  expect_input_error({"controls.push.tool=pushr"}, "controls.push.tool");  // unknown tool (suggests 'pusher')
  expect_input_error({"controls.press.tool=paddle"}, "controls.press.parameter");  // stiffness needs soft contact
  expect_input_error({"tools.pusher.motion={type: velocity, segments: [{until: 0.1, linear: [1, 0]}]}"},
                     "must be static");  // a controlled tool has no motion of its own
  expect_input_error({"controls.sweep.times=[0.05, 0.02]"}, "controls.sweep.times[1]");
  expect_input_error({"controls.sweep.tools=[paddle, paddle]"}, "listed twice");
  expect_input_error({"controls.grip.lower=-0.5"}, "controls.grip.lower");
  expect_input_error({"controls.push.tools=[pusher]"}, "controls.push.tools");  // groups: waypoints only
}

}  // namespace
}  // namespace pl::optim
