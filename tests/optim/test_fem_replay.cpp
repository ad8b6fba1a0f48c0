// `pliant run` of an optimization's replay scene (best_scene.yaml, issue 7)
// moves the FEM bodies as the optimizer's rollout of the same controls did:
// fem_drive waypoints (across a release), fem_material and fem_coupling
// values.  The evaluation writes its rollout's frames (RolloutOutputs), the
// scene runner (run_scene, what `pliant run` calls) writes the replay's; the
// frames must hold the same data (FEM surfaces as text with 9 significant
// digits, particles as float32), and differ from a run of the scene with its
// own initial controls.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/optim/evaluate.hpp"
#include "engine/optim/replay_scene.hpp"
#include "engine/scene/scene_loader.hpp"
#include "engine/scene/scene_runner.hpp"

namespace pl::optim {
namespace {

namespace fs = std::filesystem;

// A 6 x 4 cm sheet: the left column is pinned, the right edge grasped and
// turned/translated by 2 waypoints for 4 steps (FEM dt = 5 ms), then released
// for 4.
const char* kFoldScene = R"(version: 1
simulation: {dim: 3, precision: double, dt: 1.0e-3, substeps_per_frame: 10, frames: 4, dx: 0.02, domain: {size: 0.3}, gravity: [0, -9.81, 0]}
fem:
  integrator: implicit
  steps_per_frame: 2
  newton: {max_iterations: 50, tolerance: 1.0e-8}
  bodies:
    sheet:
      kind: shell
      sheet: {origin: [0.05, 0.05, 0.09], edge_u: [0.06, 0, 0], edge_v: [0, 0, -0.04], cells: [3, 2]}
      shell: {E: 1.0e7, nu: 0.3, density: 500, thickness: 5.0e-4}
      pin: {axis: 0, below: 0.0501}
      drive: {region: {lower: [0.1099, -1, -1], upper: [1, 1, 1]}, rotation: {point: [0.07, 0.05, 0], axis: [0, 0, 1], rate: 0},
              end: 0.02, release: true}
controls:
  lift: {kind: fem_drive, body: sheet, waypoints: 2, init: [0.1, 0.0, 0.001, 0.0, 0.2, 0.0, 0.002, 0.0],
         lower: [-1, -0.01, -0.01, -0.01, -1, -0.01, -0.01, -0.01], upper: [2, 0.01, 0.01, 0.01, 2, 0.01, 0.01, 0.01]}
  stiff: {kind: fem_material, body: sheet, parameter: youngs_modulus, init: 1.0e7, lower: 5.0e6, upper: 5.0e7, log: true}
objective:
  tip: {type: fem_vertices, body: sheet, region: {lower: [0.109, -1, 0.089], upper: [0.111, 1, 0.091]},
        target: [0.08, 0.1, 0.09], frames: last}
optimizer: {method: adam, iterations: 1}
output: {dir: OUT}
)";

// A gel block sliding on a one-cell rubber plate whose bottom face follows 2
// waypoints (pushing the plate up into the block); the contact's friction is a
// control too.
const char* kCoupledScene = R"(version: 1
simulation: {dim: 3, precision: double, backend: cpu, dt: 5.0e-4, substeps_per_frame: 3, frames: 2, dx: 0.02, domain: {size: 0.24}, gravity: [0, -9.81, 0]}
materials: {gel: {model: fixed_corotated, density: 900, E: 4.0e3, nu: 0.3}, plate_rubber: {model: stable_neo_hookean, density: 1100, E: 6.0e4, nu: 0.35}}
bodies:
  blob: {material: gel, shape: {type: box, lower: [0.10, 0.111, 0.10], upper: [0.14, 0.151, 0.14]}, velocity: [0.3, -0.4, 0]}
fem:
  integrator: explicit
  coupling: {stiffness: 3.0e4, friction: 0.3, slip_speed: 0.05}
  bodies:
    plate: {material: plate_rubber, box: {lower: [0.09, 0.07, 0.09], upper: [0.15, 0.11, 0.15], cells: [1, 1, 1]},
            drive: {region: {lower: [0, 0.069, 0], upper: [1, 0.071, 1]}, end: 0.003}}
controls:
  raise: {kind: fem_drive, body: plate, waypoints: 2, init: [0, 0, 0, 0, 0, 0, 0, 0],
          lower: [-0.2, -0.01, -0.01, -0.01, -0.2, -0.01, -0.01, -0.01], upper: [0.2, 0.01, 0.01, 0.01, 0.2, 0.01, 0.01, 0.01]}
  mu: {kind: fem_coupling, parameter: friction, init: 0.3, lower: 0.0, upper: 1.5}
objective:
  rest: {type: com, body: blob, target: [0.13, 0.13, 0.12], frames: last}
optimizer: {method: adam, iterations: 1}
output: {dir: OUT}
)";

/// The data of a PLY file (after its header, whose comments name the writer).
std::string ply_data(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << p;
  std::ostringstream s;
  s << in.rdbuf();
  const std::string text = s.str(), end = "end_header\n";
  const std::size_t at = text.find(end);
  EXPECT_NE(at, std::string::npos) << p << " has no PLY header";
  return at == std::string::npos ? "" : text.substr(at + end.size());
}

/// Writes `text` (OUT = dir/out) as dir/name and loads it.
scene::SceneDesc write_scene(const fs::path& dir, const std::string& name, std::string text) {
  fs::create_directories(dir);
  text.replace(text.find("OUT"), 3, (dir / "out").string());
  std::ofstream(dir / name) << text;
  return scene::load_scene((dir / name).string());
}

/// The scene's optimization rollout at u (not its init) and `pliant run` of its
/// replay scene write the same last frame (each file in `files`); a run of the
/// scene itself (its init controls) writes different ones.
void expect_replay_matches_rollout(const std::string& text, const std::string& tag, const std::vector<double>& u,
                                   const std::vector<std::string>& files) {
  const fs::path dir = fs::temp_directory_path() / "pliant_test_fem_replay" / tag;
  fs::remove_all(dir);
  const scene::SceneDesc scene = write_scene(dir, "scene.yaml", text);
  const Problem problem(scene);
  ASSERT_EQ(problem.dimension(), int(u.size()));
  RolloutOutputs outputs;
  outputs.dir = (dir / "rollout").string();
  outputs.ply = true;
  fs::create_directories(outputs.dir);
  const Evaluation e = problem.evaluate(u, 0, false, &outputs);
  ASSERT_TRUE(e.ok) << e.error;

  std::ofstream(dir / "best_scene.yaml") << replay_scene_yaml(scene, {}, problem.layout().to_physical(u), "test");
  const scene::SceneDesc replay = scene::load_scene((dir / "best_scene.yaml").string());
  scene::RunOptions replay_opt, init_opt;
  replay_opt.out_dir = (dir / "replay").string();
  init_opt.out_dir = (dir / "init").string();
  scene::run_scene(replay, replay_opt);
  scene::run_scene(scene, init_opt);

  for (const auto& f : files) {
    const std::string rollout = ply_data(fs::path(outputs.dir) / f), replayed = ply_data(dir / "replay" / f);
    ASSERT_FALSE(rollout.empty()) << f;
    EXPECT_TRUE(replayed == rollout) << tag << ": `pliant run` of the replay scene does not move as the optimized rollout ("
                                 << f << ")";
    EXPECT_FALSE(ply_data(dir / "init" / f) == rollout) << tag << ": the controls at u change nothing: the check is empty (" << f
                                               << ")";
  }
}

TEST(FemReplay, RunOfTheReplaySceneFollowsTheOptimizedDriveAndMaterial) {
  // Waypoints (angle, translation) and E, all away from the scene's init.
  expect_replay_matches_rollout(kFoldScene, "fold", {0.42, 0.6, 0.4, 0.55, 0.45, 0.4, 0.6, 0.45, 0.8},
                                {"fem_00004.ply", "fem_00002.ply"});
}

TEST(FemReplay, RunOfTheReplaySceneFollowsTheOptimizedCoupledDriveAndFriction) {
  expect_replay_matches_rollout(kCoupledScene, "coupled", {0.8, 0.7, 0.6, 0.4, 0.9, 0.8, 0.3, 0.6, 0.9},
                                {"fem_00002.ply", "frame_00002.ply"});
}

}  // namespace
}  // namespace pl::optim
