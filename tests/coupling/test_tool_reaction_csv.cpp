// tools.csv (issue 6): per-frame means and peaks of the tool reactions, and the
// file a `pliant run` of a tool scene writes (one row per frame and tool,
// rewritten atomically, replaced, not mixed, by a later run in the same directory).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/scene/scene_loader.hpp"
#include "engine/scene/scene_runner.hpp"
#include "engine/scene/tool_reaction_csv.hpp"

namespace pl {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string l; std::getline(is, l);) out.push_back(l);
  return out;
}

TEST(ToolReactionCsv, FrameMeansPeaksAndQuotedNames) {
  // Two tools, 2 substeps per frame, 2 frames simulated of 3 asked for.
  std::vector<std::vector<ToolReaction>> r(2, std::vector<ToolReaction>(4));
  for (int n = 0; n < 4; ++n) {
    r[0][std::size_t(n)].force = {double(n), 0, 0};
    r[0][std::size_t(n)].torque = {0, 0, -2.0 * n};
    r[1][std::size_t(n)].force = {0, 3.0 + n, 4.0};
  }
  const std::string csv = scene::encode_tool_reaction_csv({"pin", "cup, big"}, r, 3, 2, 0.01);
  const auto rows = lines_of(csv);
  ASSERT_EQ(rows.size(), 1u + 2 * 2) << csv;  // header, then frames 1-2 (frame 3 has no substeps yet)
  EXPECT_EQ(rows[0], "frame,time_s,tool,force_x_N,force_y_N,force_z_N,torque_x_Nm,torque_y_Nm,torque_z_Nm,peak_force_N");
  EXPECT_EQ(rows[1], "1,0.02,pin,0.5,0,0,0,0,-1,1");          // mean of substeps 0, 1; peak |F| = 1
  EXPECT_EQ(rows[2], "1,0.02,\"cup, big\",0,3.5,4,0,0,0,5.65685425");  // peak: |(0, 4, 4)|
  EXPECT_EQ(rows[3], "2,0.04,pin,2.5,0,0,0,0,-5,3");
}

const char* kScene = R"(version: 1
simulation:
  dim: 2
  dt: 1.0e-3
  substeps_per_frame: 5
  frames: 4
  dx: 0.03125
  domain: {size: 1}
  gravity: [0, -9.81]
materials:
  jelly: {model: fixed_corotated, density: 1000, E: 3000, nu: 0.3}
bodies:
  block: {material: jelly, shape: {type: box, lower: [0.35, 0.1], upper: [0.65, 0.3]}}
tools:
  pusher:
    shape: {type: box, half_extents: [0.04, 0.08]}
    position: [0.3, 0.2]
    contact: {mode: friction, friction: 0.3}
    motion: {type: velocity, segments: [{until: 0.02, linear: [0.8, 0]}]}
  bowl:
    shape: {type: sphere, radius: 0.05}
    position: [0.9, 0.8]
output: {dir: out/unused}
)";

TEST(ToolReactionCsv, RunWritesOneRowPerFrameAndTool) {
  const fs::path dir = fs::temp_directory_path() / ("pliant_tools_csv_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  scene::RunOptions opt;
  opt.out_dir = dir.string();
  scene::run_scene(scene::parse_scene(kScene, "tools_csv.yaml"), opt);
  std::ifstream in(dir / "tools.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto rows = lines_of(ss.str());
  ASSERT_EQ(rows.size(), 1u + 4 * 2) << ss.str();
  EXPECT_EQ(rows[1].rfind("1,0.005,pusher,", 0), 0u) << rows[1];
  EXPECT_EQ(rows[2].rfind("1,0.005,bowl,0,0,0,0,0,0,0", 0), 0u) << "the bowl touches nothing: " << rows[2];
  // The pusher moves into the block along +x: the block pushes back (force_x < 0) by the last frame.
  const std::string last = rows[7];
  const std::string fx = last.substr(last.find("pusher,") + 7, last.find(',', last.find("pusher,") + 7) - last.find("pusher,") - 7);
  EXPECT_LT(std::stod(fx), 0.0) << last;
  std::ifstream json(dir / "run.json");
  std::stringstream js;
  js << json.rdbuf();
  EXPECT_NE(js.str().find("\"tools_file\""), std::string::npos);
  // A shorter run in the same directory replaces the file (no rows of the old run).
  auto shorter = scene::parse_scene(kScene, "tools_csv.yaml", ".", {"simulation.frames=2"});
  scene::run_scene(shorter, opt);
  std::ifstream in2(dir / "tools.csv");
  std::stringstream ss2;
  ss2 << in2.rdbuf();
  EXPECT_EQ(lines_of(ss2.str()).size(), 1u + 2 * 2);
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pl
