// Shell bodies and sphere colliders in scene files (engine/scene/fem_loader.*):
// the bundled paper-fold scene keeps its crease through the scene path
// (plastic rest angles along the crease only), the cloth drape ends resting on
// the sphere without penetrating beyond the penalty's tolerance, and bad shell
// input gets errors naming the key.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/core/error.hpp"
#include "engine/fem/sdf_contact_term.hpp"
#include "engine/fem/shell_terms.hpp"
#include "engine/scene/fem_loader.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::scene {
namespace {

const std::string kDir = std::string(PLIANT_SOURCE_DIR) + "/scenes/";

// Angle [deg] of the flap of the (coarsened, 10 x 5 cells) paper: far-edge
// vertex relative to the crease vertex of row j, in the x-y plane.
double flap_angle(const fem::FemWorld<double>& w, int row) {
  const auto& x = w.positions();
  const std::size_t far = std::size_t(10 + 11 * row), crease = std::size_t(5 + 11 * row);
  return std::atan2(x[3 * far + 1] - x[3 * crease + 1], x[3 * far] - x[3 * crease]) * 180 / M_PI;
}

TEST(FemSceneShells, PaperFoldKeepsItsCreaseThroughPlasticBending) {
  const SceneDesc scene = load_scene(kDir + "paper_fold_3d.yaml", {"fem.bodies.paper.sheet.cells=[10,5]"});
  ASSERT_EQ(scene.fem.bodies.size(), 1u);
  ASSERT_TRUE(scene.fem.bodies[0].shell && scene.fem.bodies[0].drive && scene.fem.bodies[0].drive_release);
  FemSceneRun<double> run(scene);
  const fem::HingeTerm<double>* hinges = nullptr;
  for (const auto& t : run.world().terms())
    if (auto* h = dynamic_cast<const fem::HingeTerm<double>*>(t.get())) hinges = h;
  ASSERT_NE(hinges, nullptr);
  for (int f = 0; f < 20; ++f) run.step_frame();
  EXPECT_NEAR(flap_angle(run.world(), 2), 90.0, 0.5);  // the drive reached 90 degrees at t = 0.5 s
  for (int f = 20; f < 40; ++f) run.step_frame();      // released for 0.5 s
  // The flap stays standing (an elastic sheet springs back flat: the elastic
  // springback per hinge is at most the yield angle, 0.3 rad, here 2 x 17 deg).
  EXPECT_GT(flap_angle(run.world(), 2), 45.0);
  // ...because the crease hinges' rest angles moved (plastic), and only those.
  const std::vector<double> rest = hinges->internal_state();
  double crease = 0, elsewhere = 0;
  const auto& x0 = run.world().rest_positions();
  for (std::size_t k = 0; k < rest.size(); ++k) {
    const auto& h = hinges->hinges()[k];
    const double xm = 0.5 * (x0[3 * std::size_t(h[0])] + x0[3 * std::size_t(h[1])]);
    if (std::abs(xm - 0.15) < 0.015) crease = std::max(crease, std::abs(rest[k]));
    else elsewhere = std::max(elsewhere, std::abs(rest[k]));
  }
  EXPECT_GT(crease, 0.4);
  EXPECT_LT(elsewhere, 0.05);
}

TEST(FemSceneShells, ClothDrapeRestsOnTheSphereWithoutPenetrating) {
  const SceneDesc scene = load_scene(kDir + "cloth_drape_3d.yaml", {"fem.bodies.cloth.sheet.cells=[8,8]"});
  ASSERT_EQ(scene.fem.spheres.size(), 1u);
  FemSceneRun<double> run(scene);
  const fem::SphereContactTerm<double>* ball = nullptr;
  for (const auto& t : run.world().terms())
    if (auto* s = dynamic_cast<const fem::SphereContactTerm<double>*>(t.get())) ball = s;
  ASSERT_NE(ball, nullptr);
  for (int f = 0; f < 24; ++f) run.step_frame();
  const auto& x = run.world().positions();
  double min_dist = 1e9;
  for (int v = 0; v < run.world().num_vertices(); ++v) min_dist = std::min(min_dist, ball->signed_distance(x.data(), v));
  const double centre_y = x[3 * (4 + 9 * 4) + 1];  // middle vertex of the 9 x 9 sheet, above the sphere's top (y 0.22)
  // The cubic penalty lets the coarse (8 x 8) sheet sink a few delta (1 mm)
  // where the hanging cloth pulls on the few vertices on top (full
  // resolution: 2 mm); without the collider it would reach the ground (y 0).
  EXPECT_GT(min_dist, -6e-3);
  EXPECT_NEAR(centre_y, 0.22, 1e-2);  // fell 5 cm and rests on the top
}

void expect_error(const std::string& yaml, const std::string& key, const std::string& what) {
  const auto path = std::filesystem::temp_directory_path() / ("pliant_shell_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << yaml;
  try {
    load_scene(path.string(), {});
    ADD_FAILURE() << "no error for " << key;
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path.string()), std::string::npos) << m;
    EXPECT_NE(m.find(key), std::string::npos) << m;
    EXPECT_NE(m.find(what), std::string::npos) << m;
  }
  std::filesystem::remove(path);
}

std::string scene_with(const std::string& body) {
  return "version: 1\nsimulation: {dim: 3, dt: 1.0e-3, substeps_per_frame: 10, frames: 2, dx: 0.02, domain: {origin: [0,0,0], size: [0.3,0.3,0.3]}}\n"
         "materials:\n  jelly: {model: fixed_corotated, density: 1000, E: 1.0e4, nu: 0.3}\n"
         "bodies:\n  b: {material: jelly, shape: {type: box, lower: [0.1,0.1,0.1], upper: [0.12,0.12,0.12]}}\n"
         "fem:\n  bodies:\n    paper:\n      kind: shell\n      sheet: {origin: [0.1,0.1,0.1], edge_u: [0.1,0,0], edge_v: [0,0,0.1], cells: [4,4]}\n" +
         body;
}

TEST(FemSceneShells, BadShellInputNamesTheKey) {
  expect_error(scene_with("      shell: {E: 1.0e6, density: 300, thickness: 1.0e-3, membrane: linear}\n"),
               "fem.bodies.paper.shell.membrane", "stvk");
  expect_error(scene_with("      shell: {E: 1.0e6, density: 300}\n"), "fem.bodies.paper.shell", "thickness");
  expect_error(scene_with("      shell: {E: 1.0e6, density: 300, thickness: 1.0e-3}\n"
                          "      drive: {region: {lower: [1,1,1], upper: [2,2,2]}, velocity: [0,1,0]}\n"),
               "fem.bodies.paper.drive.region", "selects no vertex");
  expect_error(scene_with("      shell: {E: 1.0e6, density: 300, thickness: 1.0e-3}\n"
                          "      drive: {region: {lower: [0,0,0], upper: [1,1,1]}, release: true}\n"),
               "fem.bodies.paper.drive.release", "end time");
}

}  // namespace
}  // namespace pl::scene
