// `pliant optimize` on FEM-only scenes (issue 7, task "Fold"):
//  - the waypoint spline interpolates its knots, starts and stops at rest and
//    has a continuous slope;
//  - dL/du of evaluate() for fem_drive (angles and translations, across a
//    release) and fem_material (E, bending stiffness in log space, yield
//    angle, nu) with fem_vertices (a position and a .npy target) and fem_crease
//    terms on a shell, and for a tet body (E, nu, a translated drive), against
//    central finite differences of evaluate() itself, in double;
//  - the replay scene (best_scene.yaml) of FEM controls reproduces their loss;
//  - bad FEM controls and terms are InputErrors naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/optim/evaluate.hpp"
#include "engine/optim/fem_drive_motion.hpp"
#include "engine/optim/replay_scene.hpp"
#include "engine/scene/npz_writer.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::optim {
namespace {

namespace fs = std::filesystem;

TEST(FemOptimize, WaypointSplineInterpolatesStartsAndStopsAtRest) {
  const int K = 3;
  const std::vector<double> q = {0, 0.7, -0.2, 1.1};  // q_0 = 0 is the rest pose
  const auto at = [&](double s) {
    const auto w = waypoint_weights(K, s);
    double v = 0;
    for (int j = 0; j <= K; ++j) v += w[std::size_t(j)] * q[std::size_t(j)];
    return v;
  };
  for (int j = 1; j <= K; ++j) EXPECT_NEAR(at(j), q[std::size_t(j)], 1e-14) << "knot " << j;
  EXPECT_EQ(at(-0.5), 0.0);
  EXPECT_EQ(at(K + 0.5), q[K]);
  const double h = 1e-6;
  EXPECT_NEAR((at(h) - at(0)) / h, 0.0, 1e-5) << "starts at rest";
  EXPECT_NEAR((at(K) - at(K - h)) / h, 0.0, 1e-5) << "stops at rest";
  for (int j = 1; j < K; ++j) {
    const double left = (at(j) - at(j - h)) / h, right = (at(j + h) - at(j)) / h;
    EXPECT_NEAR(left, right, 1e-5) << "slope jumps at knot " << j;
    EXPECT_NEAR(left, 0.5 * (q[std::size_t(j) + 1] - q[std::size_t(j) - 1]), 1e-5) << "Catmull-Rom tangent at " << j;
  }
}

// A 8 x 4 cm sheet (4 x 2 cells): the left columns are held, the right two
// driven about the crease line x = 7 cm for 6 steps, then released for 6.
const char* kScene = R"(version: 1
simulation: {dim: 3, precision: double, dt: 1.0e-3, substeps_per_frame: 10, frames: 6, dx: 0.02, domain: {size: 0.3}, gravity: [0, -9.81, 0]}
fem:
  integrator: implicit
  steps_per_frame: 2
  newton: {max_iterations: 100, tolerance: 1.0e-13}
  damping: {mass: 1.0}
  bodies:
    card:
      kind: shell
      sheet: {origin: [0.05, 0.05, 0.09], edge_u: [0.08, 0, 0], edge_v: [0, 0, -0.04], cells: [4, 2]}
      shell: {E: 1.0e7, nu: 0.3, density: 500, thickness: 5.0e-4, yield_angle: 0.1}
      pin: {axis: 0, below: 0.0701}
      drive:
        region: {lower: [0.1099, -1, -1], upper: [1, 1, 1]}
        rotation: {point: [0.07, 0.05, 0], axis: [0, 0, 1], rate: 0}
        start: 0
        end: 0.03
        release: true
controls:
  grasp: {kind: fem_drive, body: card, waypoints: 2, init: [0.3, 0.002, 0.003, -0.001, 0.8, -0.001, 0.004, 0.002],
          lower: [-1, -0.01, -0.01, -0.01, -1, -0.01, -0.01, -0.01], upper: [2, 0.01, 0.01, 0.01, 2, 0.01, 0.01, 0.01]}
  stretch: {kind: fem_material, body: card, parameter: youngs_modulus, init: 1.2e7, lower: 5.0e6, upper: 5.0e7, log: true}
  bend: {kind: fem_material, body: card, parameter: bending_stiffness, init: 1.5e-4, lower: 5.0e-5, upper: 5.0e-4, log: true}
  yield: {kind: fem_material, body: card, parameter: yield_angle, init: 0.12, lower: 0.05, upper: 0.5}
  poisson: {kind: fem_material, body: card, parameter: poisson_ratio, init: 0.3, lower: 0.1, upper: 0.45}
objective:
  corner: {type: fem_vertices, body: card, region: {lower: [0.129, -1, 0.089], upper: [0.131, 1, 0.091]},
           target: [0.08, 0.1, 0.09], frames: [3, last], weight: 100}
  crease: {type: fem_crease, body: card, region: {lower: [0.069, -1, -1], upper: [0.071, 1, 1]}, angle_deg: 60,
           frames: [4, last]}
  free: {type: fem_vertices, body: card, region: {lower: [0.089, -1, -1], upper: [0.091, 1, 1]}, file: FILE,
         frames: last, weight: 100}
optimizer: {method: adam, iterations: 3}
output: {dir: out/test_fem}
)";

/// The scene with `free`'s targets (the 3 vertices of the column x = 9 cm) in
/// a .npy, written as a file (the replay scene re-reads it).
scene::SceneDesc test_scene(const std::vector<std::string>& sets = {}) {
  const fs::path dir = fs::temp_directory_path() / "pliant_test_fem_optimize";
  fs::create_directories(dir);
  std::ofstream(dir / "free_targets.npy", std::ios::binary)
      << scene::encode_npy(scene::npy_float64("t", {3, 3}, {0.08, 0.07, 0.09, 0.08, 0.07, 0.07, 0.08, 0.07, 0.05}));
  std::string text = kScene;
  text.replace(text.find("FILE"), 4, "free_targets.npy");
  const std::string path = (dir / "fem_optimize_test.yaml").string();
  std::ofstream(path) << text;
  return scene::load_scene(path, sets);
}

TEST(FemOptimize, GradientMatchesFiniteDifferencesForDriveAndMaterialControls) {
  const auto scene = test_scene();
  const int before = cpu_threads();
  set_cpu_threads(1);
  const Problem problem(scene);
  ASSERT_EQ(problem.dimension(), 8 + 4);
  std::vector<double> u = problem.layout().initial_unit();
  const Evaluation e = problem.evaluate(u, 0, true);
  ASSERT_TRUE(e.ok) << e.error;
  EXPECT_NEAR(e.metrics.at("loss.corner") + e.metrics.at("loss.crease") + e.metrics.at("loss.free"), e.loss, 1e-12);
  EXPECT_GT(e.metrics.at("crease.angle_deg"), 5.0) << "the sheet was not folded: the check would be weak";
  for (std::size_t i = 0; i < u.size(); ++i) {
    // h = 1e-5: at 1e-6 the Newton tolerance shows as ~2e-7 of noise in the FD.
    const double h = 1e-5;
    auto up = u, down = u;
    up[i] += h, down[i] -= h;
    const Evaluation eu = problem.evaluate(up, 0, false), ed = problem.evaluate(down, 0, false);
    ASSERT_TRUE(eu.ok && ed.ok) << eu.error << ed.error;
    const double fd = (eu.loss - ed.loss) / (2 * h);
    EXPECT_NEAR(e.gradient[i], fd, 2e-5 * std::max(1e-2, std::fabs(fd)))
        << problem.layout().entry_name(int(i)) << ": adjoint " << e.gradient[i] << ", FD " << fd;
    EXPECT_NE(fd, 0.0) << problem.layout().entry_name(int(i)) << " does not affect the loss: the check is empty";
  }
  set_cpu_threads(before);
}

// A tet block (stable Neo-Hookean) whose top is carried sideways by a drive
// with a translation waypoint: the same evaluation path with tet parameters.
TEST(FemOptimize, GradientMatchesFiniteDifferencesForATetBody) {
  const auto scene = scene::parse_scene(R"(version: 1
simulation: {dim: 3, precision: double, dt: 1.0e-3, substeps_per_frame: 10, frames: 4, dx: 0.02, domain: {size: 0.3}, gravity: [0, -9.81, 0]}
materials:
  rubber: {model: stable_neo_hookean, density: 1100, E: 2.0e4, nu: 0.4}
fem:
  integrator: implicit
  steps_per_frame: 2
  newton: {max_iterations: 100, tolerance: 1.0e-13}
  bodies:
    block:
      material: rubber
      box: {lower: [0.1, 0.0, 0.1], upper: [0.14, 0.04, 0.12], cells: [2, 2, 1]}
      pin: {axis: 1, below: 0.0001}
      drive: {region: {lower: [-1, 0.0399, -1], upper: [1, 1, 1]}, start: 0, end: 0.04}
controls:
  carry: {kind: fem_drive, body: block, waypoints: 1, init: [0, 0.004, -0.002, 0.001], lower: [-0.1, -0.01, -0.01, -0.01],
          upper: [0.1, 0.01, 0.01, 0.01]}
  stiffness: {kind: fem_material, body: block, parameter: E, init: 3.0e4, lower: 1.0e4, upper: 1.0e5, log: true}
  poisson: {kind: fem_material, body: block, parameter: nu, init: 0.35, lower: 0.2, upper: 0.45}
objective:
  middle: {type: fem_vertices, body: block, region: {lower: [-1, 0.019, -1], upper: [1, 0.021, 1]},
           target: [0.125, 0.025, 0.11], frames: [2, last], weight: 100}
optimizer: {method: adam, iterations: 3}
output: {dir: out/test_fem_tet}
)",
                                        "fem_tet_test.yaml");
  const int before = cpu_threads();
  set_cpu_threads(1);
  const Problem problem(scene);
  ASSERT_EQ(problem.dimension(), 4 + 2);
  const std::vector<double> u = problem.layout().initial_unit();
  const Evaluation e = problem.evaluate(u, 0, true);
  ASSERT_TRUE(e.ok) << e.error;
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double h = 1e-5;
    auto up = u, down = u;
    up[i] += h, down[i] -= h;
    const double fd = (problem.evaluate(up, 0, false).loss - problem.evaluate(down, 0, false).loss) / (2 * h);
    EXPECT_NEAR(e.gradient[i], fd, 2e-5 * std::max(1e-2, std::fabs(fd)))
        << problem.layout().entry_name(int(i)) << ": adjoint " << e.gradient[i] << ", FD " << fd;
    EXPECT_NE(fd, 0.0) << problem.layout().entry_name(int(i)) << " does not affect the loss: the check is empty";
  }
  set_cpu_threads(before);
}

TEST(FemOptimize, ReplaySceneReproducesTheLossOfItsControls) {
  const auto scene = test_scene();
  const Problem problem(scene);
  std::vector<double> u = problem.layout().initial_unit();
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = 0.3 + 0.4 * double(i % 3) / 2;  // not the scene's init
  const Evaluation e = problem.evaluate(u, 0, false);
  ASSERT_TRUE(e.ok) << e.error;
  const fs::path dir = fs::temp_directory_path() / "pliant_test_fem_optimize" / "replay";
  fs::create_directories(dir);
  const std::string path = (dir / "best_scene.yaml").string();
  std::ofstream(path) << replay_scene_yaml(scene, {}, problem.layout().to_physical(u), "test");
  const auto replay = scene::load_scene(path);
  const Problem again(replay);
  const Evaluation r = again.evaluate(again.layout().initial_unit(), 0, false);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NEAR(r.loss, e.loss, 1e-12 * std::fabs(e.loss)) << "the replay scene does not replay the FEM controls";
  EXPECT_NE(r.loss, problem.evaluate(problem.layout().initial_unit(), 0, false).loss);
}

TEST(FemOptimize, BadFemControlsAndTermsNameTheKey) {
  const auto fails = [](const std::vector<std::string>& sets, const std::string& expected) {
    try {
      const auto scene = test_scene(sets);
      const Problem problem(scene);
      ADD_FAILURE() << "no error; expected one naming " << expected;
    } catch (const InputError& err) {
      EXPECT_NE(std::string(err.what()).find(expected), std::string::npos) << err.what();
    }
  };
  fails({"controls.grasp.body=paper"}, "controls.grasp.body: unknown FEM body 'paper'");
  fails({"controls.bend.parameter=stiffness"}, "controls.bend.parameter");
  fails({"objective.corner.region.lower=[0.5, 0.5, 0.5]", "objective.corner.region.upper=[0.6, 0.6, 0.6]"},
        "objective.corner.region");
  fails({"objective.crease.region.upper=[0.069, 1, 1]", "objective.crease.region.lower=[0.0, -1, -1]"},
        "objective.crease.region");
  fails({"objective.free.region.lower=[0.05, -1, -1]"}, "objective.free.file");
  fails({"objective.corner.type=com"}, "objective.corner");
  // A drive without an end has no time for its last waypoint.
  std::string text = kScene;
  const std::string end_lines = "        end: 0.03\n        release: true\n";
  text.erase(text.find(end_lines), end_lines.size());
  text.replace(text.find("FILE"), 4, "x.npy");
  try {
    scene::parse_scene(text, "no_end.yaml");
    ADD_FAILURE() << "a fem_drive on a drive without end was accepted";
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("drive.end"), std::string::npos) << err.what();
  }
}

}  // namespace
}  // namespace pl::optim
