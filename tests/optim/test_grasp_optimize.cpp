// `pliant optimize` on coupled MPM + FEM scenes (issue 7, task "Grasp";
// engine/optim/evaluate_coupled.*):
//  - dL/du of evaluate() for an fem_drive control (angles and translations of
//    2 waypoints) and fem_coupling controls (friction, stiffness in log space) with a com term on the particles at an intermediate and the
//    last frame and an fem_vertices term on the pad, against central finite
//    differences of evaluate() itself, in double, on a tiny coupled system
//    (144 jelly particles, one 6-tet pad pushed into them, 12 substeps);
//  - the pad's drive really moves it and the jelly really feels it (else the
//    check would be weak);
//  - controls and terms the coupled evaluation cannot run are InputErrors
//    naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/optim/evaluate.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::optim {
namespace {

namespace fs = std::filesystem;

// A 4 x 6 x 6 cm jelly block moving towards a 4 cm rubber pad whose back face
// follows 2 waypoints (0.003 s, 0.006 s); they touch from the first substep.
const char* kScene = R"(version: 1
simulation: {dim: 3, precision: double, backend: cpu, dt: 5.0e-4, substeps_per_frame: 4, frames: 3, dx: 0.02,
             domain: {size: 0.24}, gravity: [0, -9.81, 0]}
materials:
  jelly: {model: fixed_corotated, density: 1000, E: 5.0e3, nu: 0.3}
  rubber: {model: stable_neo_hookean, density: 1000, E: 5.0e4, nu: 0.3}
bodies:
  cube: {material: jelly, shape: {type: box, lower: [0.11, 0.09, 0.09], upper: [0.15, 0.15, 0.15]}, velocity: [-0.2, 0.1, 0]}
fem:
  integrator: explicit
  coupling: {stiffness: 2.0e4, friction: 0.4, slip_speed: 0.05}
  bodies:
    pad:
      material: rubber
      box: {lower: [0.06, 0.10, 0.10], upper: [0.10, 0.14, 0.14], cells: [1, 1, 1]}
      drive:
        region: {lower: [0.059, 0, 0], upper: [0.061, 1, 1]}
        velocity: [0, 0, 0]
        end: 0.006
controls:
  grip: {kind: fem_drive, body: pad, waypoints: 2, init: [0.02, 0.002, 0.001, -0.001, -0.01, 0.004, 0.003, 0.001],
         lower: [-0.1, -0.01, -0.01, -0.01, -0.1, -0.01, -0.01, -0.01], upper: [0.1, 0.01, 0.01, 0.01, 0.1, 0.01, 0.01, 0.01]}
  mu: {kind: fem_coupling, parameter: friction, init: 0.4, lower: 0.1, upper: 1.0}
  k: {kind: fem_coupling, parameter: stiffness, init: 2.0e4, lower: 5.0e3, upper: 1.0e5, log: true}
objective:
  lift: {type: com, body: cube, target: [0.12, 0.14, 0.12], frames: [1, last], weight: 1000}
  pad_tip: {type: fem_vertices, body: pad, region: {lower: [0.099, 0.099, 0.099], upper: [0.101, 0.101, 0.101]},
            target: [0.11, 0.1, 0.1], frames: last, weight: 100}
optimizer: {method: adam, iterations: 2}
output: {dir: out/test_grasp}
)";

scene::SceneDesc test_scene(const std::string& replace_from = "", const std::string& replace_to = "") {
  const fs::path dir = fs::temp_directory_path() / "pliant_test_grasp_optimize";
  fs::create_directories(dir);
  std::string text = kScene;
  if (!replace_from.empty()) {
    const std::size_t at = text.find(replace_from);
    if (at == std::string::npos) throw std::logic_error("test scene has no '" + replace_from + "'");
    text.replace(at, replace_from.size(), replace_to);
  }
  const std::string path = (dir / "grasp_optimize_test.yaml").string();
  std::ofstream(path) << text;
  return scene::load_scene(path);
}

TEST(GraspOptimize, GradientMatchesFiniteDifferencesForDriveAndContactControls) {
  const auto scene = test_scene();
  const int before = cpu_threads();
  set_cpu_threads(1);
  const Problem problem(scene);
  ASSERT_EQ(problem.dimension(), 8 + 2);
  const std::vector<double> u = problem.layout().initial_unit();
  const Evaluation e = problem.evaluate(u, 0, true);
  ASSERT_TRUE(e.ok) << e.error;
  EXPECT_NEAR(e.metrics.at("loss.lift") + e.metrics.at("loss.pad_tip"), e.loss, 1e-12);
  // The pad's translation reaches the particles: the COM loss depends on the drive.
  double com_sensitivity = 0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double h = 1e-5;
    auto up = u, down = u;
    up[i] += h, down[i] -= h;
    const Evaluation a = problem.evaluate(up, 0, false), b = problem.evaluate(down, 0, false);
    ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
    const double fd = (a.loss - b.loss) / (2 * h);
    com_sensitivity += std::fabs(a.metrics.at("loss.lift") - b.metrics.at("loss.lift")) / (2 * h);
    EXPECT_NEAR(e.gradient[i], fd, 1e-5 * std::fabs(fd) + 1e-9) << "u[" << i << "]";  // seen: rel <= 2e-7
    std::printf("u[%zu] adjoint % .10e  FD % .10e\n", i, e.gradient[i], fd);
  }
  EXPECT_GT(com_sensitivity, 1e-4) << "the jelly does not feel the pad's drive: the check would be weak";
  set_cpu_threads(before);
}

TEST(GraspOptimize, RefusesWhatTheCoupledEvaluationCannotRun) {
  const auto expect_error = [](const std::string& from, const std::string& to, const std::string& key) {
    try {
      const Problem problem(test_scene(from, to));
      ADD_FAILURE() << "no error for " << key;
    } catch (const InputError& err) {
      EXPECT_NE(std::string(err.what()).find(key), std::string::npos) << err.what();
    }
  };
  // An MPM control on a coupled scene.
  expect_error("controls:\n", "controls:\n  kick: {kind: initial_velocity, body: cube, init: [0, 0, 0], lower: -1, upper: 1}\n",
               "controls.kick.kind");
  // fem_coupling on a scene without fem.coupling.
  expect_error("  coupling: {stiffness: 2.0e4, friction: 0.4, slip_speed: 0.05}\n", "", "controls.mu.kind");
  // A coupling parameter that does not exist.
  expect_error("parameter: friction, init: 0.4", "parameter: damping, init: 0.4", "controls.mu.parameter");
  // A drive that releases its vertices.
  expect_error("end: 0.006\n", "end: 0.006\n        release: true\n", "controls.grip.body");
}

TEST(GraspOptimize, FramesCountBackFromTheLast) {
  // 'last-N' keeps a hold term valid when the run is shortened (pliant run --frames 2 in CI).
  const auto frames = [](const std::string& spec) {
    return test_scene("frames: [1, last], weight: 1000", "frames: " + spec + ", weight: 1000").optimization.objective[0].frames;
  };
  EXPECT_EQ(frames("[last-2, last-1, last]"), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(frames("last-7"), (std::vector<int>{0})) << "clamped to the initial state";
  for (const char* bad : {"last-", "last-x", "last-1.5", "last+1"}) {
    try {
      frames(bad);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const InputError& err) {
      EXPECT_NE(std::string(err.what()).find("objective.lift.frames"), std::string::npos) << err.what();
    }
  }
}

}  // namespace
}  // namespace pl::optim
