// FEM bodies in scene files (engine/scene/fem_loader.*): the fem section is
// parsed and validated with file:line errors, the bundled soft-cube scene runs
// through run_scene and writes fem_NNNNN.ply surfaces, and the moving plate
// compresses the cube while the pinned face stays put.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/scene/fem_loader.hpp"
#include "engine/scene/scene_loader.hpp"
#include "engine/scene/scene_runner.hpp"

namespace pl::scene {
namespace {

const std::string kScene = std::string(PLIANT_SOURCE_DIR) + "/scenes/soft_cube_press_3d.yaml";

TEST(FemWorldScene, BundledSceneRunsAndCompressesTheCube) {
  SceneDesc scene = load_scene(kScene, {"simulation.frames=8", "simulation.substeps_per_frame=5"});
  ASSERT_TRUE(scene.fem.enabled);
  ASSERT_EQ(scene.fem.bodies.size(), 1u);
  const auto dir = std::filesystem::temp_directory_path() / ("pliant_fem_scene_" + std::to_string(::getpid()));
  RunOptions opt;
  opt.out_dir = dir.string();
  const RunResult r = run_scene(scene, opt);
  EXPECT_EQ(r.frames_simulated, 8);
  // Frame 8 of the FEM world: read the PLY back and check the top moved down by
  // v t = 0.04 m/s * 8 frames * (5 ms * ... ) and the bottom stayed at y = 0.
  const double t = 8 * scene.simulation.frame_duration();
  std::ifstream in(dir / fem_frame_file_name(8));
  ASSERT_TRUE(in.good());
  std::string line;
  std::size_t nv = 0;
  while (std::getline(in, line) && line != "end_header")
    if (line.rfind("element vertex ", 0) == 0) nv = std::stoul(line.substr(15));
  ASSERT_GT(nv, 0u);
  double ymin = 1e9, ymax = -1e9;
  for (std::size_t i = 0; i < nv; ++i) {
    double x, y, z;
    in >> x >> y >> z;
    ymin = std::min(ymin, y);
    ymax = std::max(ymax, y);
  }
  EXPECT_NEAR(ymin, 0.0, 1e-12);
  EXPECT_NEAR(ymax, 0.1 - 0.04 * t, 1e-6);
  EXPECT_TRUE(std::filesystem::exists(dir / fem_frame_file_name(0)));
  std::filesystem::remove_all(dir);
}

void expect_error(const std::string& fem_section, const std::vector<std::string>& fragments, int dim = 3) {
  std::ostringstream os;
  os << "version: 1\nsimulation:\n  dim: " << dim << "\n  dt: 1.0e-3\n  substeps_per_frame: 1\n  frames: 1\n  dx: 0.02\n"
     << "  domain: {origin: [0, 0" << (dim == 3 ? ", 0" : "") << "], size: [0.2, 0.2" << (dim == 3 ? ", 0.2" : "") << "]}\n"
     << "materials:\n  sand: {model: drucker_prager}\n  rubber: {model: stable_neo_hookean, E: 1.0e5}\n"
     << "bodies:\n  sand: {material: sand, shape: {type: box, lower: [0.08, 0.08" << (dim == 3 ? ", 0.08" : "")
     << "], upper: [0.12, 0.12" << (dim == 3 ? ", 0.12" : "") << "]}}\n"
     << fem_section;
  try {
    parse_scene(os.str(), "fem.yaml", std::string(PLIANT_SOURCE_DIR) + "/scenes");
    ADD_FAILURE() << "expected an InputError for:\n" << fem_section;
  } catch (const InputError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << "'" << e.what() << "' lacks '" << f << "'";
  }
}

TEST(FemWorldScene, MalformedFemSectionsNameFileLineAndKey) {
  const std::string box = "      box: {lower: [0, 0, 0], upper: [0.1, 0.1, 0.1]}\n";
  expect_error("fem:\n  bodies:\n    cube:\n      material: sand\n" + box,
               {"fem.yaml:", "fem.bodies.cube.material", "drucker_prager", "tets cannot use"});
  expect_error("fem:\n  bodies:\n    cube:\n      material: jelly\n" + box, {"fem.bodies.cube.material", "'jelly'"});
  expect_error("fem:\n  integrater: implicit\n  bodies:\n    cube:\n      material: rubber\n" + box,
               {"fem.yaml:", "integrater"});
  expect_error("fem:\n  bodies:\n    cube:\n      material: rubber\n", {"fem.bodies.cube", "exactly one of mesh, box or cylinder"});
  expect_error("fem:\n  bodies:\n    cube:\n      material: rubber\n      mesh: nowhere.msh\n",
               {"fem.bodies.cube.mesh", "nowhere.msh", "not a file"});
  expect_error("fem:\n  bodies:\n    cube:\n      material: rubber\n      mesh: ../tests/fem/data/bad_number.node\n",
               {"fem.bodies.cube", "bad_number.node:3:", "'zero'"});
  expect_error("fem:\n  bodies:\n    cube:\n      material: rubber\n" + box + "      pin: {axis: 1, below: -1}\n",
               {"fem.bodies.cube.pin", "selects no vertex"});
  expect_error("fem:\n  steps_per_frame: 0\n  bodies:\n    cube:\n      material: rubber\n" + box,
               {"fem.steps_per_frame", ">= 1"});
  expect_error("fem:\n  bodies:\n    cube:\n      material: rubber\n      box: {lower: [0, 0], upper: [0.1, 0.1]}\n",
               {"fem.yaml:", "3D scene"}, 2);
}

}  // namespace
}  // namespace pl::scene
