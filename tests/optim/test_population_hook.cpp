// OptimizeOptions::evaluate_population (issue 10): an external evaluator
// replaces the thread pool; what it returns is checked; the files a scene
// reads are listed by key (scene_assets) for executors to ship.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/optim/optimize_run.hpp"
#include "engine/optim/population_evaluate.hpp"
#include "engine/optim/scene_assets.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::optim {
namespace {

const std::string kScene = std::string(PLIANT_SOURCE_DIR) + "/scenes/shape_match_opt_2d.yaml";
const std::vector<std::string> kShort = {"simulation.frames=3", "optimizer.method=cmaes", "optimizer.population=4",
                                         "optimizer.iterations=2"};

std::string out_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("pliant_population_hook_" + name);
  std::filesystem::remove_all(d);
  return d.string();
}

TEST(PopulationHook, AnExternalEvaluatorGetsEveryGenerationAndGivesThePoolsResult) {
  const scene::SceneDesc scene = scene::load_scene(kScene, kShort);
  OptimizeOptions pool;
  pool.out_dir = out_dir("pool");
  pool.threads = 1;  // every rollout on one thread, as the hook below
  pool.previews = false;
  const OptimizeResult a = optimize_scene(scene, pool);

  const Problem problem(scene);
  std::vector<std::size_t> batches;
  OptimizeOptions hooked = pool;
  hooked.out_dir = out_dir("hooked");
  hooked.evaluate_population = [&](const std::vector<std::vector<double>>& points, std::uint64_t seed, bool gradient) {
    batches.push_back(points.size());
    EXPECT_EQ(seed, scene.optimization.optimizer.seed);
    EXPECT_FALSE(gradient);
    std::vector<Evaluation> out;
    set_cpu_threads(1);
    for (const auto& u : points) out.push_back(problem.evaluate(u, seed, gradient));
    return out;
  };
  const OptimizeResult b = optimize_scene(scene, hooked);
  EXPECT_EQ(batches, (std::vector<std::size_t>{4, 4}));
  EXPECT_EQ(a.best_loss, b.best_loss);
  EXPECT_EQ(a.best_controls, b.best_controls);
}

TEST(PopulationHook, WhatTheEvaluatorReturnsIsChecked) {
  const std::vector<std::vector<double>> points = {{0.5, 0.5}, {0.2, 0.7}};
  const auto returning = [](std::vector<Evaluation> r) {
    return [r](const std::vector<std::vector<double>>&, std::uint64_t, bool) { return r; };
  };
  Evaluation ok;
  ok.loss = 2;
  ok.gradient = {1, 2};
  EXPECT_THROW(checked_population(returning({ok}), points, 0, true), SimulationError);  // one result for two points
  Evaluation short_gradient = ok;
  short_gradient.gradient = {1};
  EXPECT_THROW(checked_population(returning({ok, short_gradient}), points, 0, true), SimulationError);
  Evaluation nan_loss = ok;
  nan_loss.loss = NAN;
  EXPECT_THROW(checked_population(returning({ok, nan_loss}), points, 0, false), SimulationError);
  Evaluation failed;
  failed.ok = false;
  failed.loss = 0;  // whatever a failed candidate says, it ranks last
  const auto r = checked_population(returning({ok, failed}), points, 0, false);
  EXPECT_EQ(r[0].loss, 2);
  EXPECT_TRUE(std::isinf(r[1].loss));
}

TEST(SceneAssets, ListTheTargetFileWithItsKey) {
  const scene::SceneDesc scene = scene::load_scene(kScene, kShort);
  const std::vector<SceneAsset> assets = scene_assets(scene);
  ASSERT_EQ(assets.size(), 1u);
  EXPECT_EQ(assets[0].key_path, "objective.shape.file");
  EXPECT_EQ(assets[0].written, "../assets/targets/plasticine_squashed.ply");
  EXPECT_TRUE(std::filesystem::is_regular_file(assets[0].resolved));
  EXPECT_FALSE(assets[0].companion);
  EXPECT_TRUE(scene_assets(scene::load_scene(std::string(PLIANT_SOURCE_DIR) + "/scenes/throw_opt_2d.yaml")).empty());
}

}  // namespace
}  // namespace pl::optim
