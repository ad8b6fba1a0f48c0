// Scenes whose only bodies are FEM bodies (issue 5): they validate without an
// MPM `bodies:` section, run (the empty MPM world is never stepped) and write
// FEM surfaces and previews that show them; a scene with no bodies at all is
// still an error naming what to add.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/core/error.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/fem_loader.hpp"
#include "engine/scene/preview_renderer.hpp"
#include "engine/scene/scene_loader.hpp"
#include "engine/scene/scene_runner.hpp"

namespace {

namespace fs = std::filesystem;
namespace sc = pl::scene;

// A 4 cm rubber cube (2^3 cells, 48 tets) dropping onto the FEM ground,
// looked at head-on from +z; 3 frames.
const char* kHead = R"(version: 1
simulation:
  dim: 3
  dt: 1.0e-3
  substeps_per_frame: 10
  frames: 3
  dx: 0.02
  domain: {origin: [0, 0, 0], size: [0.2, 0.2, 0.2]}
  gravity: [0, -9.81, 0]
materials:
  rubber: {model: stable_neo_hookean, density: 1000, E: 1.0e5, nu: 0.4}
preview:
  enabled: true
  every_n_frames: 1
  width: 64
  height: 48
  background: [1, 1, 1]
  camera: {position: [0.1, 0.1, 0.6], look_at: [0.1, 0.1, 0.1], fov_deg: 30}
)";
const char* kFem = R"(fem:
  integrator: implicit
  steps_per_frame: 1
  bodies:
    cube:
      material: rubber
      box: {lower: [0.08, 0.08, 0.08], upper: [0.12, 0.12, 0.12], cells: [2, 2, 2]}
)";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(FemOnlyScene, ValidatesWithoutMpmBodies) {
  const sc::SceneDesc s = sc::parse_scene(std::string(kHead) + kFem, "fem_only.yaml");
  EXPECT_TRUE(s.bodies.empty());
  ASSERT_EQ(s.fem.bodies.size(), 1u);
  EXPECT_NO_THROW(sc::check_scene(s));
}

TEST(FemOnlyScene, SceneWithNoBodiesAtAllIsAnError) {
  try {
    sc::parse_scene(kHead, "empty.yaml");
    FAIL() << "a scene with neither bodies nor fem must be refused";
  } catch (const pl::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("empty.yaml"), std::string::npos) << m;
    EXPECT_NE(m.find("bodies"), std::string::npos) << m;
    EXPECT_NE(m.find("fem.bodies"), std::string::npos) << m;
  }
}

TEST(FemOnlyScene, PreviewShowsTheFemSurface) {
  const sc::SceneDesc s = sc::parse_scene(std::string(kHead) + kFem, "fem_only.yaml");
  auto world = sc::build_world<double, 3>(s);
  ASSERT_EQ(world->num_particles(), 0u);
  sc::FemSceneRun<double> fem(s);
  sc::PreviewRenderer preview(s);
  // The cube's centre projects to the image centre (the camera looks at it).
  const auto blank = preview.render(*world);
  EXPECT_EQ(blank.at(32, 24), (std::array<std::uint8_t, 3>{255, 255, 255}));
  preview.set_fem_surfaces(fem.surface_meshes());
  const auto shown = preview.render(*world);
  EXPECT_NE(shown.at(32, 24), (std::array<std::uint8_t, 3>{255, 255, 255}));
  EXPECT_EQ(shown.at(2, 2), (std::array<std::uint8_t, 3>{255, 255, 255})) << "a 4 cm cube does not fill the image";
}

TEST(FemOnlyScene, RunsAndWritesFemFramesAndPreviewsOnly) {
  const sc::SceneDesc s = sc::parse_scene(std::string(kHead) + kFem, "fem_only.yaml");
  const fs::path dir = fs::temp_directory_path() / ("pliant_test_fem_only_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  sc::RunOptions opt;
  opt.out_dir = dir.string();
  const sc::RunResult r = sc::run_scene(s, opt);
  EXPECT_EQ(r.frames_simulated, 3);
  EXPECT_EQ(r.previews_written, 4);
  for (int f = 0; f <= 3; ++f) EXPECT_TRUE(fs::exists(dir / sc::fem_frame_file_name(f))) << f;
  EXPECT_FALSE(fs::exists(dir / "frame_00000.ply")) << "no particle frames for an empty MPM world";
  // Gravity moved the cube: the surfaces differ between the first and last frame.
  EXPECT_NE(read_text(dir / sc::fem_frame_file_name(0)), read_text(dir / sc::fem_frame_file_name(3)));
  fs::remove_all(dir);
}

}  // namespace
