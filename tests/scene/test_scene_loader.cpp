// Scene files: loading, strict validation messages and --set overrides
// (engine/scene/scene_loader.hpp).
#include "engine/scene/scene_loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "engine/core/error.hpp"
#include "engine/scene/sha256.hpp"

namespace {

namespace fs = std::filesystem;
using pl::InputError;
using pl::scene::parse_scene;
using pl::scene::SceneDesc;

const std::string kSourceDir = PLIANT_SOURCE_DIR;

// A small valid 2D scene; line numbers below refer to this text.
const char* kBase2d = R"(version: 1
simulation:
  dim: 2
  dt: 1.0e-4
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

/// The message of the InputError that parsing `text` throws ("" if none).
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {},
                     const std::string& base_dir = ".") {
  try {
    parse_scene(text, "test.yaml", base_dir, overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "fixture does not contain '" << from << "'";
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

TEST(SceneLoader, ParsesTheBaseScene) {
  const SceneDesc s = parse_scene(kBase2d, "test.yaml");
  EXPECT_EQ(s.version, 1);
  EXPECT_EQ(s.simulation.dim, 2);
  EXPECT_EQ(s.simulation.precision, pl::scene::Precision::Float);
  EXPECT_EQ(s.simulation.backend, "auto");
  EXPECT_DOUBLE_EQ(s.simulation.dt, 1e-4);
  EXPECT_EQ(s.simulation.cells[0], 50);
  EXPECT_EQ(s.simulation.cells[1], 50);
  EXPECT_DOUBLE_EQ(s.simulation.gravity[1], -9.81);
  EXPECT_EQ(s.simulation.bound_cells, 3);
  EXPECT_EQ(s.simulation.walls[1][0].type, pl::WallType::Separate);
  ASSERT_EQ(s.materials.size(), 1u);
  EXPECT_EQ(s.materials[0].label, "jelly");
  EXPECT_EQ(s.materials[0].desc.model_name, "fixed_corotated");
  EXPECT_DOUBLE_EQ(s.materials[0].desc.params[0], 1.0e4);
  ASSERT_EQ(s.bodies.size(), 1u);
  EXPECT_EQ(s.bodies[0].name, "block");
  EXPECT_EQ(s.bodies[0].material_index, 0);
  EXPECT_EQ(s.bodies[0].particles_per_cell, 4);  // 2^dim by default
  EXPECT_EQ(s.bodies[0].shape.type, pl::scene::ShapeType::Box);
  EXPECT_EQ(s.bodies[0].loc.line, 14);
  EXPECT_EQ(s.output.dir, "out/test");
  EXPECT_EQ(s.output.every_n_frames, 1);
  EXPECT_EQ(s.source_sha256, pl::scene::sha256_hex(kBase2d));
}

TEST(SceneLoader, UnknownKeyNamesFileLineColumnAndSuggests) {
  const std::string msg = error_of(replace(kBase2d, "  gravity: [0, -9.81]", "  gravty: [0, -9.81]"));
  EXPECT_NE(msg.find("test.yaml:9:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("simulation.gravty"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'gravity'?"), std::string::npos) << msg;
}

TEST(SceneLoader, UnknownTopLevelSectionSuggests) {
  const std::string msg = error_of(replace(kBase2d, "materials:\n", "material:\n"));
  EXPECT_NE(msg.find("test.yaml:10:1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'materials'?"), std::string::npos) << msg;
}

TEST(SceneLoader, UnknownMaterialParameterSuggests) {
  const std::string msg = error_of(replace(kBase2d, "E: 1.0e4", "EE: 1.0e4"));
  EXPECT_NE(msg.find("test.yaml:11:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("materials.jelly.EE"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'E'?"), std::string::npos) << msg;
}

TEST(SceneLoader, UnknownModelSuggests) {
  const std::string msg = error_of(replace(kBase2d, "fixed_corotated", "fixed_corotatd"));
  EXPECT_NE(msg.find("materials.jelly.model"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'fixed_corotated'?"), std::string::npos) << msg;
}

TEST(SceneLoader, InvalidParameterValuePointsAtIt) {
  const std::string msg = error_of(replace(kBase2d, "nu: 0.3", "nu: 0.7"));
  EXPECT_NE(msg.find("test.yaml:11:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("materials.jelly.nu"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'nu'"), std::string::npos) << msg;
}

TEST(SceneLoader, WrongTypeSaysWhatWasExpected) {
  std::string msg = error_of(replace(kBase2d, "frames: 2", "frames: many"));
  EXPECT_NE(msg.find("test.yaml:6:11:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("simulation.frames"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected the number of frames"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "frames: 2", "frames: 2.5"));
  EXPECT_NE(msg.find("integer"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "gravity: [0, -9.81]", "gravity: [0, -9.81, 0]"));
  EXPECT_NE(msg.find("simulation.gravity"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 numbers"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "dt: 1.0e-4", "dt: \"1.0e-4\""));
  EXPECT_NE(msg.find("simulation.dt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("quoted string"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "    material: jelly", "    material: [jelly]"));
  EXPECT_NE(msg.find("bodies.block.material"), std::string::npos) << msg;
}

TEST(SceneLoader, NegativeDxIsRejected) {
  const std::string msg = error_of(replace(kBase2d, "dx: 0.02", "dx: -0.02"));
  EXPECT_NE(msg.find("test.yaml:7:7:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("simulation.dx"), std::string::npos) << msg;
  EXPECT_NE(msg.find("> 0"), std::string::npos) << msg;
}

TEST(SceneLoader, MissingRequiredKeys) {
  std::string msg = error_of(replace(kBase2d, "  dt: 1.0e-4\n", ""));
  EXPECT_NE(msg.find("simulation"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing required key 'dt'"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "version: 1\n", ""));
  EXPECT_NE(msg.find("missing required key 'version'"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "version: 1", "version: 2"));
  EXPECT_NE(msg.find("version 2 is not supported"), std::string::npos) << msg;

  msg = error_of("");
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

// The sections once reserved (tools, controls, objective, optimizer) are read
// now; an optimization section on its own is refused with a message that says
// which companions it needs.
TEST(SceneLoader, OptimizationSectionAloneNamesTheMissingCompanions) {
  for (const char* section : {"controls", "objective", "optimizer"}) {
    const std::string msg = error_of(std::string(kBase2d) + section + ":\n  x: 1\n");
    EXPECT_NE(msg.find(std::string("the scene has ") + section + " but no '"), std::string::npos) << msg;
    EXPECT_NE(msg.find("an optimization needs controls, objective and optimizer"), std::string::npos) << msg;
  }
}

TEST(SceneLoader, DuplicateKeysAreRejected) {
  const std::string msg = error_of(replace(kBase2d, "  frames: 2\n", "  frames: 2\n  frames: 3\n"));
  EXPECT_NE(msg.find("duplicate key 'frames'"), std::string::npos) << msg;
}

TEST(SceneLoader, YamlSyntaxErrorHasLine) {
  const std::string msg = error_of(replace(kBase2d, "[0, -9.81]", "[0, -9.81"));
  EXPECT_NE(msg.find("test.yaml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("YAML syntax error"), std::string::npos) << msg;
}

TEST(SceneLoader, BodyChecks) {
  std::string msg = error_of(replace(kBase2d, "    material: jelly", "    material: jely"));
  EXPECT_NE(msg.find("bodies.block.material"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'jelly'?"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "upper: [0.5, 0.5]", "upper: [0.5, 0.2]"));
  EXPECT_NE(msg.find("bodies.block.shape.upper"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "upper: [0.5, 0.5]", "upper: [0.5, 0.99]"));
  EXPECT_NE(msg.find("outside the domain interior"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "{type: box, lower: [0.3, 0.3], upper: [0.5, 0.5]}",
                         "{type: cylinder, center: [0.4, 0.4], radius: 0.1, height: 0.1}"));
  EXPECT_NE(msg.find("needs simulation.dim: 3"), std::string::npos) << msg;

  msg = error_of(replace(kBase2d, "{type: box, lower: [0.3, 0.3], upper: [0.5, 0.5]}",
                         "{type: sphere, center: [0.4, 0.4], radius: 0.1, upper: [1, 1]}"));
  EXPECT_NE(msg.find("bodies.block.shape.upper"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key"), std::string::npos) << msg;
}

TEST(SceneLoader, DomainAndWalls) {
  std::string msg = error_of(replace(kBase2d, "size: [1, 1]", "size: [1, 1], resolution: [50, 50]"));
  EXPECT_NE(msg.find("not both"), std::string::npos) << msg;

  SceneDesc s = parse_scene(replace(kBase2d, "size: [1, 1]", "resolution: [40, 30]"), "test.yaml");
  EXPECT_EQ(s.simulation.cells[0], 40);
  EXPECT_EQ(s.simulation.cells[1], 30);
  EXPECT_NEAR(s.simulation.domain_upper()[1], 0.6, 1e-12);

  s = parse_scene(std::string(kBase2d) + "", "test.yaml", ".",
                  {"simulation.walls={all: {type: sticky}, y_low: {type: separate, friction: 0.4}}"});
  EXPECT_EQ(s.simulation.walls[0][0].type, pl::WallType::Sticky);
  EXPECT_EQ(s.simulation.walls[1][1].type, pl::WallType::Sticky);
  EXPECT_EQ(s.simulation.walls[1][0].type, pl::WallType::Separate);
  EXPECT_DOUBLE_EQ(s.simulation.walls[1][0].friction, 0.4);

  s = parse_scene(kBase2d, "test.yaml", ".",
                  {"simulation.walls={all: {type: separate, friction: 0.5}, x_low: {type: sticky}}"});
  EXPECT_EQ(s.simulation.walls[0][0].type, pl::WallType::Sticky);
  EXPECT_DOUBLE_EQ(s.simulation.walls[0][0].friction, 0.0);
  EXPECT_DOUBLE_EQ(s.simulation.walls[1][0].friction, 0.5);

  msg = error_of(kBase2d, {"simulation.walls.z_low={type: slip}"});
  EXPECT_NE(msg.find("no z walls"), std::string::npos) << msg;
  msg = error_of(kBase2d, {"simulation.walls.x_low={type: sticky, friction: 0.2}"});
  EXPECT_NE(msg.find("friction applies only"), std::string::npos) << msg;
  msg = error_of(kBase2d, {"simulation.walls={all: {type: slip}, y_low: {friction: 0.2}}"});
  EXPECT_NE(msg.find("simulation.walls.y_low"), std::string::npos) << msg;
  EXPECT_NE(msg.find("friction applies only"), std::string::npos) << msg;
}

TEST(SceneLoader, MissingMeshFileIsReportedWithItsLine) {
  const std::string text = R"(version: 1
simulation:
  dim: 3
  dt: 1.0e-4
  substeps_per_frame: 1
  frames: 1
  dx: 0.05
  domain: {size: 1}
materials:
  rubber: {model: stable_neo_hookean}
bodies:
  thing:
    material: rubber
    shape:
      type: mesh
      file: no_such_mesh.obj
)";
  const std::string msg = error_of(text, {}, kSourceDir + "/scenes");
  EXPECT_NE(msg.find("test.yaml:16:13:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bodies.thing.shape.file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;

  const SceneDesc s = parse_scene(replace(text, "no_such_mesh.obj", "../assets/meshes/cube.obj"), "test.yaml",
                                  kSourceDir + "/scenes");
  EXPECT_TRUE(fs::exists(s.bodies[0].shape.resolved_file));
}

TEST(SceneOverride, SetsAndCreatesValues) {
  const SceneDesc s = parse_scene(kBase2d, "test.yaml", ".",
                                  {"simulation.frames=7", "bodies.block.velocity=[1, -2]", "output.dir=/tmp/x",
                                   "simulation.gravity.0=3", "materials.jelly.E=2e4"});
  EXPECT_EQ(s.simulation.frames, 7);
  EXPECT_DOUBLE_EQ(s.bodies[0].velocity[0], 1.0);
  EXPECT_DOUBLE_EQ(s.bodies[0].velocity[1], -2.0);
  EXPECT_EQ(s.output.dir, "/tmp/x");
  EXPECT_DOUBLE_EQ(s.simulation.gravity[0], 3.0);
  EXPECT_DOUBLE_EQ(s.simulation.gravity[1], -9.81);
  EXPECT_DOUBLE_EQ(s.materials[0].desc.params[0], 2e4);
  ASSERT_EQ(s.overrides.size(), 5u);
  EXPECT_EQ(s.overrides[3].key_path, "simulation.gravity[0]");
}

TEST(SceneOverride, OverriddenValuesAreValidatedAndNamed) {
  std::string msg = error_of(kBase2d, {"simulation.dt=-1"});
  EXPECT_EQ(msg.find("--set simulation.dt=-1: simulation.dt: "), 0u) << msg;
  EXPECT_NE(msg.find("> 0"), std::string::npos) << msg;

  msg = error_of(kBase2d, {"simulation.gravty=[0, 1]"});
  EXPECT_NE(msg.find("--set simulation.gravty=[0, 1]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'gravity'?"), std::string::npos) << msg;

  msg = error_of(kBase2d, {"simulation.frames"});
  EXPECT_NE(msg.find("expected key.path=value"), std::string::npos) << msg;
  msg = error_of(kBase2d, {"simulation.dt.x=1"});
  EXPECT_NE(msg.find("is a value, not a section"), std::string::npos) << msg;
  msg = error_of(kBase2d, {"simulation.gravity.5=1"});
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
  msg = error_of(kBase2d, {"simulation.gravity=[0, "});
  EXPECT_NE(msg.find("not valid YAML"), std::string::npos) << msg;

  // A later, valid override of the same key wins.
  EXPECT_EQ(error_of(kBase2d, {"simulation.dt=-1", "simulation.dt=2e-4"}), "");
}

TEST(SceneDocument, CopiesAreIndependent) {
  auto doc = pl::scene::SceneDocument::from_string(kBase2d, "test.yaml");
  auto copy = doc;
  copy.apply_override("simulation.frames=9");
  EXPECT_EQ(doc.parse().simulation.frames, 2);
  EXPECT_EQ(copy.parse().simulation.frames, 9);
}

TEST(SceneLoader, LoadsFromFileAndReportsMissingFile) {
  try {
    pl::scene::load_scene(kSourceDir + "/scenes/no_such_scene.yaml");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(pl::scene::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(pl::scene::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(pl::scene::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

}  // namespace
