// The grid speed limit of tools (issue 6, Tool::check_grid_speed): a tool whose
// surface moves more than half a cell per substep (linear speed plus angular
// speed times its reach) is refused when it is added to a world, with an
// InputError naming the tool, the time and the limit; slower tools pass.
#include <gtest/gtest.h>

#include <string>

#include "engine/core/error.hpp"
#include "engine/mpm/mpm_world.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl {
namespace {

MpmWorld<double, 3> small_world() {
  MpmSettings<3> s = MpmSettings<3>::cube(1.0, 10);  // dx = 0.1 m: the limit is 0.05 m per substep
  s.dt = 1e-3;
  return MpmWorld<double, 3>(s, {test::material("fixed_corotated", {{"E", 3e3}, {"nu", 0.3}}, 1000, "jelly")});
}

ToolSpec<3> spinning_capsule(double linear, double angular) {
  ToolSpec<3> spec;
  spec.name = "whisk";
  spec.shape = ToolShape::Capsule;
  spec.radius = 0.05;
  spec.half_height = 0.15;  // reach 0.2 m
  spec.position = {0.5, 0.5, 0.5};
  spec.motion = ToolMotion::Velocity;
  spec.actions.assign(20, ToolAction<3>{});
  spec.actions[7].linear = {linear, 0, 0};
  spec.actions[7].angular = {0, 0, angular};
  return spec;
}

std::string error_of(const ToolSpec<3>& spec) {
  auto world = small_world();
  try {
    world.add_tool(Tool<3>(spec, world.settings().dt, "scene.yaml:12:3: tools.whisk"));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ToolGridSpeed, FastLinearMotionIsRefusedNamingToolTimeAndLimit) {
  const std::string m = error_of(spinning_capsule(60, 0));  // 0.06 m per substep
  EXPECT_NE(m.find("tools.whisk"), std::string::npos) << m;
  EXPECT_NE(m.find("'whisk'"), std::string::npos) << m;
  EXPECT_NE(m.find("t = 0.007 s"), std::string::npos) << m;
  EXPECT_NE(m.find("0.5 dx = 0.05 m"), std::string::npos) << m;
}

TEST(ToolGridSpeed, SpinCountsWithTheToolsReach) {
  // 40 m/s would pass; 40 m/s plus 60 rad/s x 0.2 m = 52 m/s moves 0.052 m per substep.
  EXPECT_EQ(error_of(spinning_capsule(40, 0)), "");
  const std::string m = error_of(spinning_capsule(40, 60));
  EXPECT_NE(m.find("60 rad/s x 0.2 m"), std::string::npos) << m;
}

TEST(ToolGridSpeed, WaypointsAreCheckedAlongTheirPath) {
  ToolSpec<3> spec = spinning_capsule(0, 0);
  spec.motion = ToolMotion::Waypoints;
  spec.actions.clear();
  spec.waypoints = {{0.0, {0.3, 0.5, 0.5}, {}}, {0.01, {0.7, 0.5, 0.5}, {}}};  // 40 m/s average, 60 m/s peak
  const std::string m = error_of(spec);
  EXPECT_NE(m.find("0.5 dx"), std::string::npos) << m;
  spec.waypoints[1].time = 0.02;  // half as fast: 0.03 m per substep at the peak
  EXPECT_EQ(error_of(spec), "");
}

}  // namespace
}  // namespace pl
