// Bundled scenes, world building and short runs through the library
// (engine/scene/build_world.hpp, scene_runner.hpp, frame_output.hpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "engine/core/error.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/frame_output.hpp"
#include "engine/scene/scene_loader.hpp"
#include "engine/scene/scene_runner.hpp"

namespace {

namespace fs = std::filesystem;
namespace sc = pl::scene;

const std::string kSourceDir = PLIANT_SOURCE_DIR;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("pliant_test_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct PlyInfo {
  std::string format;
  std::size_t vertices = 0;
  std::vector<std::string> properties;  // "float x", ...
  std::size_t header_bytes = 0;
};

PlyInfo parse_ply_header(const std::string& bytes) {
  PlyInfo info;
  const std::size_t end = bytes.find("end_header\n");
  EXPECT_NE(end, std::string::npos);
  if (end == std::string::npos) return info;
  info.header_bytes = end + std::strlen("end_header\n");
  std::istringstream lines(bytes.substr(0, end));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "ply");
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string kw;
    words >> kw;
    if (kw == "format") {
      std::string version;
      words >> info.format >> version;
      EXPECT_EQ(version, "1.0");
    } else if (kw == "element") {
      std::string name;
      words >> name >> info.vertices;
      EXPECT_EQ(name, "vertex");
    } else if (kw == "property") {
      std::string type, name;
      words >> type >> name;
      info.properties.push_back(type + " " + name);
    } else {
      EXPECT_EQ(kw, "comment") << line;
    }
  }
  return info;
}

// The scenes the README and the issue promise: dam breaks in 2D and 3D, a jelly
// cube dropped on the floor, a sand column collapse, 2D multi-material, and
// (checked below) at least one scene per constitutive model.
const std::vector<std::string> kBundledScenes = {"dam_break_2d",  "dam_break_3d",  "jelly_drop_3d",
                                                 "multi_material_2d", "sand_pile_3d", "plasticine_3d",
                                                 "torus_3d",      "hencky_ball_2d", "mud_slump_3d",
                                                 "snowball_3d"};

TEST(BundledScenes, AllArePresent) {
  std::set<std::string> found;
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/scenes"))
    if (entry.path().extension() == ".yaml") found.insert(entry.path().stem().string());
  for (const auto& name : kBundledScenes) EXPECT_TRUE(found.count(name)) << name << ".yaml is missing";
}

TEST(BundledScenes, EveryConstitutiveModelHasAScene) {
  std::set<std::string> used;
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/scenes"))
    if (entry.path().extension() == ".yaml")
      for (const auto& m : sc::load_scene(entry.path().string()).materials) used.insert(m.model);
  for (const auto& model : pl::materials::model_names())
    EXPECT_TRUE(used.count(model)) << "no bundled scene uses the model '" << model << "'";
}

TEST(BundledScenes, EveryOneValidatesAndBuildsAStableWorld) {
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/scenes")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    sc::SceneDesc scene;
    ASSERT_NO_THROW(scene = sc::load_scene(entry.path().string())) << entry.path();
    EXPECT_EQ(scene.version, 1);
    EXPECT_FALSE(scene.description.empty());
    sc::SceneSummary summary;
    try {
      summary = sc::check_scene(scene);
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    // Every scene has bodies: MPM particles, or (FEM-only scenes) FEM bodies.
    if (scene.bodies.empty())
      EXPECT_FALSE(scene.fem.bodies.empty());
    else
      EXPECT_GT(summary.particles, 0u);
    EXPECT_LE(summary.particles, 20000u) << "bundled scenes must stay small (tests and README run them)";
    EXPECT_TRUE(summary.stability.ok()) << summary.stability.message();
    ASSERT_EQ(summary.bodies.size(), scene.bodies.size());
    for (std::size_t b = 0; b < scene.bodies.size(); ++b) {
      EXPECT_EQ(summary.bodies[b].name, scene.bodies[b].name);
      EXPECT_GT(summary.bodies[b].particles, 0u) << scene.bodies[b].name;
    }
  }
}

TEST(BuildWorld, MapsMaterialsAndBodiesInFileOrder) {
  const sc::SceneDesc scene = sc::load_scene(kSourceDir + "/scenes/multi_material_2d.yaml");
  auto world = sc::build_world<float, 2>(scene, pl::Backend::Cpu);
  ASSERT_EQ(world->materials().size(), 3u);
  EXPECT_EQ(world->materials()[0].label, "water");
  EXPECT_EQ(world->materials()[2].model_name, "snow");
  ASSERT_EQ(world->bodies().size(), 3u);
  for (std::size_t b = 0; b < 3; ++b) {
    EXPECT_EQ(world->bodies()[b].name, scene.bodies[b].name);
    EXPECT_EQ(world->bodies()[b].material, scene.bodies[b].material_index);
  }
  const auto& p = world->particles();
  const auto& jelly = world->bodies()[1];
  for (std::size_t i = jelly.first; i < jelly.first + jelly.count; ++i) {
    EXPECT_EQ(p.body[i], 1);
    EXPECT_EQ(p.material[i], 1);
  }
  EXPECT_DOUBLE_EQ(world->settings().gravity[1], -9.81);
  EXPECT_EQ(world->settings().resolution[0], scene.simulation.cells[0] + 1);
  EXPECT_EQ(world->settings().walls[1][0].type, pl::WallType::Separate);
  EXPECT_EQ(world->settings().walls[0][0].type, pl::WallType::Sticky);
}

TEST(BuildWorld, SamplingIsDeterministicAndSeeded) {
  const sc::SceneDesc a = sc::load_scene(kSourceDir + "/scenes/jelly_drop_3d.yaml");
  const sc::SceneDesc b = sc::load_scene(kSourceDir + "/scenes/jelly_drop_3d.yaml", {"bodies.cube.seed=2"});
  const auto xa = sc::sample_body<3>(a, a.bodies[0]);
  const auto xa2 = sc::sample_body<3>(a, a.bodies[0]);
  const auto xb = sc::sample_body<3>(b, b.bodies[0]);
  ASSERT_EQ(xa.size(), xa2.size());
  EXPECT_EQ(xa, xa2);
  EXPECT_NE(xa, xb);
}

TEST(BuildWorld, MeshOutsideTheDomainIsAnInputErrorNamingTheBody) {
  const sc::SceneDesc scene =
      sc::load_scene(kSourceDir + "/scenes/torus_3d.yaml", {"bodies.torus.shape.translation=[0.05, 0.3, 0.35]"});
  try {
    sc::check_scene(scene);
    FAIL() << "expected InputError";
  } catch (const pl::InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("torus_3d.yaml:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bodies.torus.shape"), std::string::npos) << msg;
    EXPECT_NE(msg.find("outside the domain interior"), std::string::npos) << msg;
  }
}

TEST(BuildWorld, UnstableTimeStepIsRefusedUnlessAllowed) {
  const std::string path = kSourceDir + "/scenes/jelly_drop_3d.yaml";
  try {
    sc::check_scene(sc::load_scene(path, {"simulation.dt=0.05"}));
    FAIL() << "expected InputError";
  } catch (const pl::InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find("--set simulation.dt=0.05: simulation.dt: "), 0u) << msg;
    EXPECT_NE(msg.find("exceeds the stability limit"), std::string::npos) << msg;
  }
  const sc::SceneDesc scene = sc::load_scene(path);
  EXPECT_EQ(scene.where("simulation.dt").find(path + ":8:7: simulation.dt"), 0u) << scene.where("simulation.dt");
  const sc::SceneSummary s =
      sc::check_scene(sc::load_scene(path, {"simulation.dt=0.05", "simulation.allow_unstable_dt=true"}));
  EXPECT_FALSE(s.stability.ok());
}

TEST(SceneRun, ShortRunWritesPlyFramesAndRunJson) {
  TempDir out("scene_run");
  const sc::SceneDesc scene = sc::load_scene(kSourceDir + "/scenes/dam_break_2d.yaml",
                                             {"simulation.frames=3", "simulation.substeps_per_frame=5"});
  sc::RunOptions opt;
  opt.out_dir = out.path.string();
  int frames_seen = 0, starts = 0;
  opt.on_start = [&](const sc::SceneSummary&) { ++starts; };
  opt.on_frame = [&](const sc::FrameProgress& f) {
    ++frames_seen;
    EXPECT_EQ(f.frame, frames_seen);
    EXPECT_EQ(f.frames, 3);
    EXPECT_FALSE(f.file.empty());
  };
  const sc::RunResult r = sc::run_scene(scene, opt);
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(frames_seen, 3);
  EXPECT_EQ(r.frames_simulated, 3);
  EXPECT_EQ(r.frames_written, 4);  // the initial state and 3 frames
  ASSERT_EQ(r.files.size(), 4u);

  for (int f = 0; f <= 3; ++f) {
    const fs::path file = out.path / sc::frame_file_name(f);
    ASSERT_TRUE(fs::exists(file)) << file;
    const std::string bytes = read_file(file);
    const PlyInfo info = parse_ply_header(bytes);
    EXPECT_EQ(info.format, "binary_little_endian");
    EXPECT_EQ(info.vertices, r.summary.particles);
    const std::vector<std::string> expected = {"float x",  "float y",  "float z",      "float vx",
                                               "float vy", "float vz", "int material", "int body"};
    EXPECT_EQ(info.properties, expected);
    EXPECT_EQ(bytes.size(), info.header_bytes + 32 * info.vertices);
    // First particle: inside the domain, z = 0 in 2D, material 0, body 0.
    float xyz[3];
    int ids[2];
    std::memcpy(xyz, bytes.data() + info.header_bytes, sizeof xyz);
    std::memcpy(ids, bytes.data() + info.header_bytes + 24, sizeof ids);
    EXPECT_GT(xyz[0], 0.0f);
    EXPECT_LT(xyz[1], 1.0f);
    EXPECT_EQ(xyz[2], 0.0f);
    EXPECT_EQ(ids[0], 0);
    EXPECT_EQ(ids[1], 0);
  }
  // No temporary files are left behind.
  for (const auto& entry : fs::directory_iterator(out.path))
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();

  const auto j = nlohmann::json::parse(read_file(out.path / "run.json"));
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["frames_written"], 4);
  EXPECT_EQ(j["frames_simulated"], 3);
  EXPECT_EQ(j["particles"], r.summary.particles);
  EXPECT_EQ(j["backend"], "cpu");
  EXPECT_EQ(j["scene"]["sha256"], scene.source_sha256);
  EXPECT_EQ(j["scene"]["sha256"].get<std::string>().size(), 64u);
  ASSERT_EQ(j["overrides"].size(), 2u);
  EXPECT_EQ(j["overrides"][0], "--set simulation.frames=3");

  // A second, shorter run into the same directory replaces the first run's frames.
  const sc::SceneDesc shorter =
      sc::load_scene(kSourceDir + "/scenes/dam_break_2d.yaml", {"simulation.frames=1", "simulation.substeps_per_frame=2"});
  sc::RunOptions opt2;
  opt2.out_dir = out.path.string();
  sc::run_scene(shorter, opt2);
  EXPECT_TRUE(fs::exists(out.path / sc::frame_file_name(1)));
  EXPECT_FALSE(fs::exists(out.path / sc::frame_file_name(2)));
}

TEST(SceneRun, EveryNFramesAndThreeDimensions) {
  TempDir out("scene_run_3d");
  const sc::SceneDesc scene =
      sc::load_scene(kSourceDir + "/scenes/jelly_drop_3d.yaml",
                     {"simulation.frames=4", "simulation.substeps_per_frame=2", "output.every_n_frames=2"});
  sc::RunOptions opt;
  opt.out_dir = out.path.string();
  const sc::RunResult r = sc::run_scene(scene, opt);
  EXPECT_EQ(r.frames_written, 3);  // frames 0, 2, 4
  EXPECT_TRUE(fs::exists(out.path / "frame_00002.ply"));
  EXPECT_FALSE(fs::exists(out.path / "frame_00001.ply"));
  const std::string bytes = read_file(out.path / "frame_00004.ply");
  const PlyInfo info = parse_ply_header(bytes);
  EXPECT_EQ(bytes.size(), info.header_bytes + 32 * info.vertices);
  float vy;
  std::memcpy(&vy, bytes.data() + info.header_bytes + 16, sizeof vy);
  EXPECT_LT(vy, -0.9f);  // still falling (started at -1 m/s, gravity pulls down)
}

TEST(SceneRun, FailedRunIsRecordedAndRaisesSimulationError) {
  TempDir out("scene_run_fail");
  // A dt far beyond the stability limit blows up within a few substeps.
  const sc::SceneDesc scene = sc::load_scene(
      kSourceDir + "/scenes/jelly_drop_3d.yaml",
      {"simulation.dt=0.2", "simulation.allow_unstable_dt=true", "simulation.frames=50", "bodies.cube.velocity=[0, -5, 0]"});
  sc::RunOptions opt;
  opt.out_dir = out.path.string();
  EXPECT_THROW(sc::run_scene(scene, opt), pl::SimulationError);
  const auto j = nlohmann::json::parse(read_file(out.path / "run.json"));
  EXPECT_EQ(j["status"], "failed");
  EXPECT_FALSE(j["error"].get<std::string>().empty());
  EXPECT_TRUE(fs::exists(out.path / sc::frame_file_name(0)));
}

}  // namespace
