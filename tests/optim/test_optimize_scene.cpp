// The evaluation function and the whole `pliant optimize` loop on small scenes:
//  - dL/du of evaluate() (initial velocity, material parameter in log space,
//    density, per-step actuation, smoothness) against central finite
//    differences of evaluate() itself, in double;
//  - an Adam run on the throw task lowers the loss by more than 100x;
//  - a CMA-ES run stopped after 3 iterations and resumed equals a run of 6
//    iterations that never stopped (log, best loss, best controls), and
//    best_scene.yaml replays the best loss.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/optim/evaluate.hpp"
#include "engine/optim/optimize_run.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::optim {
namespace {

namespace fs = std::filesystem;

const char* kScene = R"(version: 1
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
  soft: {model: fixed_corotated, density: 800, E: 1500, nu: 0.25}
bodies:
  block: {material: jelly, shape: {type: box, lower: [0.3, 0.4], upper: [0.45, 0.55]}, particles_per_cell: 4}
  other: {material: soft, shape: {type: box, lower: [0.6, 0.4], upper: [0.7, 0.5]}, particles_per_cell: 4}
controls:
  v0: {kind: initial_velocity, body: block, init: [0.4, 0.3], lower: [-1, -1], upper: [1.5, 1.5]}
  stiffness: {kind: material, material: jelly, parameter: E, init: 2500, lower: 1000, upper: 8000, log: true}
  rho: {kind: material, material: soft, parameter: density, init: 900, lower: 500, upper: 1500}
  push: {kind: actuation, body: other, segments: 3, init: [0.5, 1, -0.3, 0.2, 0.1, 0.4], lower: -3, upper: 3}
objective:
  reach: {type: com, body: block, target: [0.6, 0.5], frames: [3, last]}
  spread: {type: com, body: other, target: [0.5, 0.6], weight: 0.5}
  calm: {type: smoothness, control: push, weight: 0.01}
optimizer: {method: adam, iterations: 5}
output: {dir: out/test}
)";

TEST(OptimEvaluate, GradientMatchesFiniteDifferencesForEveryControlKind) {
  const auto scene = scene::parse_scene(kScene, "evaluate_test.yaml");
  const int before = cpu_threads();
  set_cpu_threads(1);
  const Problem problem(scene);
  ASSERT_EQ(problem.dimension(), 2 + 1 + 1 + 6);
  std::vector<double> u = problem.layout().initial_unit();
  u[0] += 0.05;  // not exactly at the scene's values: checks the map too
  const Evaluation e = problem.evaluate(u, 0, true);
  ASSERT_TRUE(e.ok) << e.error;
  ASSERT_EQ(e.gradient.size(), u.size());
  EXPECT_GT(e.metrics.at("loss.reach"), 0);
  EXPECT_GT(e.metrics.at("loss.calm"), 0);
  EXPECT_NEAR(e.metrics.at("loss.reach") + e.metrics.at("loss.spread") + e.metrics.at("loss.calm"), e.loss, 1e-12);
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double h = 1e-6;
    auto up = u, down = u;
    up[i] += h, down[i] -= h;
    const double fd = (problem.evaluate(up, 0, false).loss - problem.evaluate(down, 0, false).loss) / (2 * h);
    EXPECT_NEAR(e.gradient[i], fd, 1e-6 * std::max(1.0, std::fabs(fd)))
        << problem.layout().entry_name(int(i)) << ": adjoint " << e.gradient[i] << ", FD " << fd;
    EXPECT_NE(fd, 0.0) << problem.layout().entry_name(int(i)) << " does not affect the loss: the check is empty";
  }
  // The one-function form gives the same.
  EXPECT_EQ(evaluate(scene, u, 0).loss, e.loss);
  set_cpu_threads(before);
}

TEST(OptimEvaluate, AFailingCandidateIsReportedNotThrown) {
  // E at the top of its range makes dt unstable: the candidate fails cleanly.
  auto scene = scene::parse_scene(kScene, "evaluate_test.yaml", ".",
                                  {"controls.stiffness.upper=1.0e9", "simulation.dt=2.0e-2"});
  const Problem problem(scene);
  std::vector<double> u = problem.layout().initial_unit();
  u[2] = 1.0;
  const Evaluation e = problem.evaluate(u, 0, false);
  EXPECT_FALSE(e.ok);
  EXPECT_TRUE(std::isinf(e.loss));
  EXPECT_NE(e.error.find("dt"), std::string::npos) << e.error;
}

/// A short throw: fit v0 so the block's centre of mass reaches a target.
std::string throw_scene(const std::string& method, int iterations) {
  return std::string(R"(version: 1
simulation: {dim: 2, precision: double, dt: 2.0e-3, substeps_per_frame: 10, frames: 10, dx: 0.0625, domain: {size: 1}, gravity: [0, -9.81]}
materials: {jelly: {model: fixed_corotated, density: 1000, E: 3000, nu: 0.3}}
bodies: {block: {material: jelly, shape: {type: box, lower: [0.25, 0.3], upper: [0.375, 0.425]}, particles_per_cell: 4}}
controls: {v0: {kind: initial_velocity, body: block, init: [0.2, 0.2], lower: [-1, -1], upper: [2, 2]}}
objective: {hit: {type: com, body: block, target: [0.55, 0.4]}}
optimizer: {method: )") + method + ", iterations: " + std::to_string(iterations) +
         R"(, learning_rate: 0.04, schedule: exponential, decay: 0.95, population: 4, sigma: 0.15, seed: 3}
)";
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// The "loss" fields of log.jsonl, in order (timings differ between runs).
std::vector<std::string> logged_losses(const fs::path& dir) {
  std::vector<std::string> out;
  std::istringstream in(read(dir / "log.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find("\"loss\":"), b = line.find(',', a);
    out.push_back(line.substr(a, b - a));
  }
  return out;
}

TEST(OptimRun, AdamLowersTheThrowLossMoreThan100x) {
  const fs::path dir = fs::path(::testing::TempDir()) / "optim_adam_throw";
  const auto scene = scene::parse_scene(throw_scene("adam", 40), "throw.yaml");
  OptimizeOptions o;
  o.out_dir = dir.string();
  o.threads = 1;
  o.previews = false;
  const OptimizeResult r = optimize_scene(scene, o);
  EXPECT_GT(r.initial_loss, 0);
  EXPECT_LT(r.best_loss, r.initial_loss / 100) << r.initial_loss << " -> " << r.best_loss;
  EXPECT_EQ(logged_losses(dir).size(), std::size_t(r.iterations));
  for (const char* f : {"state.json", "log.jsonl", "loss_curve.png", "best_controls.npz", "summary.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
}

TEST(OptimRun, ResumeEqualsUninterruptedAndTheReplaySceneReproducesTheBestLoss) {
  const fs::path a = fs::path(::testing::TempDir()) / "optim_resume_a", b = fs::path(::testing::TempDir()) / "optim_resume_b";
  fs::remove_all(a), fs::remove_all(b);
  fs::create_directories(a), fs::create_directories(b);
  // The scene file lives on disk: best_scene.yaml is made from its text.
  const fs::path file = fs::path(::testing::TempDir()) / "throw_resume.yaml";
  std::ofstream(file) << throw_scene("cmaes", 6);
  OptimizeOptions o;
  o.threads = 2;  // two candidates at once, one thread each
  o.previews = false;
  o.out_dir = a.string();
  const OptimizeResult full = optimize_scene(scene::load_scene(file.string()), o);
  ASSERT_EQ(full.iterations, 6);

  o.out_dir = b.string();
  o.sets = {"optimizer.iterations=3"};
  const OptimizeResult first = optimize_scene(scene::load_scene(file.string(), o.sets), o);
  ASSERT_EQ(first.iterations, 3);
  o.resume = true;
  o.sets = {};
  const OptimizeResult rest = optimize_scene(scene::load_scene(file.string()), o);
  EXPECT_EQ(rest.resumed_from, 3);
  EXPECT_EQ(rest.iterations, 6);
  EXPECT_EQ(logged_losses(a), logged_losses(b));
  EXPECT_EQ(full.best_loss, rest.best_loss);
  EXPECT_EQ(full.best_controls, rest.best_controls);
  EXPECT_EQ(full.initial_loss, rest.initial_loss);

  // best_scene.yaml: its controls' init are the best controls, and evaluating it gives the best loss.
  const auto replay = scene::load_scene((a / "best_scene.yaml").string());
  const ReplayResult rr = replay_scene(replay, (a / "replay").string());
  EXPECT_NEAR(rr.evaluation.loss, full.best_loss, 1e-12 * std::max(1.0, full.best_loss));
  EXPECT_TRUE(fs::exists(a / "replay" / "objective.json"));

  // A resume against a different scene text is refused.
  std::ofstream(file) << throw_scene("cmaes", 6) << "description: changed\n";
  o.out_dir = a.string();
  EXPECT_THROW(optimize_scene(scene::load_scene(file.string()), o), InputError);
}

}  // namespace
}  // namespace pl::optim
