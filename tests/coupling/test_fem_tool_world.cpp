// FEM bodies against moving rigid tools through FemWorld (issue 6):
//   - the tool's recorded reaction is minus the momentum (and angular
//     momentum) the body receives, in an isolated system;
//   - a box pressing a soft block on the ground leaves no vertex deeper inside
//     it than the stated tolerance;
//   - rollout gradients (FemRollout, implicit Euler) with respect to velocity
//     actions, the initial tool position, friction and stiffness (tet block,
//     box tool) and waypoint positions (shell sheet, sphere tool) match central
//     finite differences in double;
//   - bad tool input is a clear InputError naming the tool.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>

#include "engine/core/error.hpp"
#include "engine/fem/fem_rollout.hpp"
#include "engine/fem/fem_tool_contact.hpp"
#include "engine/fem/sheet_mesh.hpp"
#include "engine/fem/shell_terms.hpp"
#include "engine/fem/tet_mesh.hpp"

namespace pl::fem {
namespace {

materials::MaterialDesc soft(double E) {
  return materials::make_material("soft", "stable_neo_hookean", {{"E", E}, {"nu", 0.3}}, 500, "test");
}

ToolSpec<3> box_tool(const std::array<double, 3>& position, const std::array<double, 3>& half) {
  ToolSpec<3> s;
  s.name = "pusher";
  s.shape = ToolShape::Box;
  s.half_extents = half;
  s.position = position;
  s.stiffness = 1e5;
  s.softness = 1e-3;
  s.smoothing = 1e-2;
  s.friction = 0.4;
  return s;
}

// Signed distance of vertex v to tool 0 at its current (end of the last step) pose.
double vertex_distance(const FemWorld<double>& w, int v) {
  const auto& tool = w.tools()[0]->tool();
  const auto pose = tool.pose(w.step_count());  // a copy: pose() may replan
  ToolGeometry<double, 3> g = tool.state<double>(0, nullptr).geometry;
  const Vec<double, 3> x{{w.positions()[3 * v], w.positions()[3 * v + 1], w.positions()[3 * v + 2]}};
  Vec<double, 3> grad;
  return tool_sdf(g, transpose(pose.rotation) * (x - pose.position), grad);
}

TEST(FemToolWorld, ReactionIsMinusTheMomentumTheBodyReceives) {
  FemSettings s;
  s.dt = 5e-3;
  s.gravity = {0, 0, 0};
  s.newton_tolerance = 1e-13;
  FemWorld<double> w(s);
  w.add_tet_body("block", make_box_mesh({0, 0, 0}, {0.1, 0.05, 0.05}, {2, 1, 1}), soft(2e4));
  ToolSpec<3> tool;
  tool.name = "ball";
  tool.shape = ToolShape::Sphere;
  tool.radius = 0.03;
  tool.position = {0.04, 0.02, 0.05 + 0.03 + 5e-4};
  tool.stiffness = 1e5;
  tool.softness = 1e-3;
  tool.friction = 0.5;
  tool.motion = ToolMotion::Velocity;
  tool.actions.assign(12, ToolAction<3>{{0.3, 0.1, -0.6}, {0, 0, 4}});  // pushes down and drags with spin
  w.add_tool(tool, "test");
  const std::size_t n = std::size_t(w.num_vertices());
  double largest = 0;
  for (int step = 0; step < 12; ++step) {
    const std::vector<double> v0 = w.velocities();
    w.step();
    const ToolReaction& r = w.tools()[0]->reactions()[std::size_t(step)];
    const Vec<double, 3> c1 = w.tools()[0]->tool().pose(step + 1).position;
    Vec<double, 3> dP = Vec<double, 3>::zero(), dL = Vec<double, 3>::zero();
    for (std::size_t v = 0; v < n; ++v) {
      const Vec<double, 3> y{{w.positions()[3 * v], w.positions()[3 * v + 1], w.positions()[3 * v + 2]}};
      Vec<double, 3> dp;
      for (int a = 0; a < 3; ++a) dp[a] = w.masses()[v] * (w.velocities()[3 * v + a] - v0[3 * v + a]);
      dP += dp;
      dL += cross(y, dp);
    }
    const Vec<double, 3> F{{r.force[0], r.force[1], r.force[2]}}, tau{{r.torque[0], r.torque[1], r.torque[2]}};
    // m dv = -h (grad E + dE_tool/dy); internal forces carry no net force or
    // torque, so dP = -h F and sum y x m dv = -h (tau + c1 x F).
    const Vec<double, 3> impulse = s.dt * F, angular = s.dt * (tau + cross(c1, F));
    largest = std::max(largest, norm(impulse));
    for (int a = 0; a < 3; ++a) {
      EXPECT_NEAR(dP[a], -impulse[a], 1e-8 * norm(impulse) + 1e-12) << "step " << step << " axis " << a;
      EXPECT_NEAR(dL[a], -angular[a], 1e-8 * norm(angular) + 1e-12) << "step " << step << " axis " << a;
    }
  }
  EXPECT_GT(largest, 1e-4);  // the tool did push (0.5 kg body, N s)
}

TEST(FemToolWorld, PressedBlockStaysOutsideTheToolWithinTolerance) {
  // A 10 cm soft block (E = 20 kPa) on the ground, a plate pressing 1.5 cm into
  // it at 0.1 m/s and holding, at the FEM contact defaults (k = 1e6 1/s^2,
  // softness 1 mm).  Tolerance: 1 mm (1% of the block).
  FemSettings s;
  s.dt = 1e-2;
  s.ground.enabled = true;
  s.damping_mass = 2;
  FemWorld<double> w(s);
  w.add_tet_body("block", make_box_mesh({0, 0, 0}, {0.1, 0.1, 0.1}, {3, 3, 3}), soft(2e4));
  ToolSpec<3> plate = box_tool({0.05, 0.05, 0.1 + 0.01 + 1e-3}, {0.08, 0.08, 0.01});
  plate.stiffness = kFemToolDefaultStiffness;
  plate.softness = kFemToolDefaultSoftness;
  plate.motion = ToolMotion::Velocity;
  plate.actions.assign(16, ToolAction<3>{{0, 0, -0.1}, {0, 0, 0}});
  w.add_tool(plate, "test");
  double deepest = 0;
  for (int step = 0; step < 30; ++step) {
    w.step();
    for (int v = 0; v < w.num_vertices(); ++v) deepest = std::min(deepest, vertex_distance(w, v));
  }
  EXPECT_GT(deepest, -1e-3) << "deepest vertex " << -deepest << " m inside the plate";
  // The plate did compress the block: its top moved down by about the stroke.
  double top = 0;
  for (int v = 0; v < w.num_vertices(); ++v) top = std::max(top, w.positions()[3 * v + 2]);
  EXPECT_LT(top, 0.1 - 0.01);
  EXPECT_GT(w.tools()[0]->reactions().back().force[2], 0);  // the block pushes the plate up
}

// The static solve (no inertia, no friction) sees a tool too: a static plate
// placed 2 mm into the top of a block with a pinned bottom (a static solve has
// no friction, so a block only on the ground could slide freely) presses it.
TEST(FemToolWorld, StaticSolveSettlesAgainstAStaticTool) {
  FemSettings s;
  FemWorld<double> w(s);
  w.add_tet_body("block", make_box_mesh({0, 0, 0}, {0.1, 0.1, 0.1}, {2, 2, 2}), soft(2e4));
  std::vector<int> bottom;
  for (int v = 0; v < w.num_vertices(); ++v)
    if (w.positions()[std::size_t(3 * v + 2)] < 1e-9) bottom.push_back(v);
  w.pin(bottom);
  ToolSpec<3> plate = box_tool({0.05, 0.05, 0.1 + 0.01 - 2e-3}, {0.08, 0.08, 0.01});
  plate.stiffness = kFemToolDefaultStiffness;
  plate.softness = kFemToolDefaultSoftness;
  w.add_tool(plate, "test");
  EXPECT_GT(w.solve_static(), 0);
  double deepest = 0, top = 0;
  for (int v = 0; v < w.num_vertices(); ++v) {
    deepest = std::min(deepest, vertex_distance(w, v));
    top = std::max(top, w.positions()[std::size_t(3 * v + 2)]);
  }
  EXPECT_GT(deepest, -1e-3);
  EXPECT_LT(top, 0.1 - 1e-3);  // the top face was pushed down (most of the 2 mm)
}

// ---- gradient checks -------------------------------------------------------------

struct Loss {
  std::vector<double> c, d;
  explicit Loss(std::size_t n) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> U(-1, 1);
    for (std::size_t i = 0; i < n; ++i) c.push_back(U(rng)), d.push_back(0.05 * U(rng));
  }
  double value(const FemWorld<double>& w) const {
    double l = 0;
    for (std::size_t i = 0; i < c.size(); ++i) l += c[i] * w.positions()[i] + d[i] * w.velocities()[i];
    return l;
  }
};

// Relative error <= 1e-6, with an absolute floor of 1e-8 for gradients far
// below the loss's scale (O(1)): central FD of an O(1) loss solved to a 1e-14
// Newton tolerance with steps of 1e-6 carries round-off of that size.
void check(const std::string& what, double adjoint, double fd) {
  EXPECT_LE(std::abs(adjoint - fd), 1e-6 * std::max(std::abs(fd), 1e-2)) << what << ": adjoint " << adjoint << " vs FD " << fd;
  EXPECT_GT(std::abs(fd), 1e-8) << what << " (a gradient that is zero checks nothing)";
}

using Build = std::function<std::unique_ptr<FemWorld<double>>(const ToolSpec<3>&)>;

struct Checker {
  Build build;
  ToolSpec<3> spec;
  int steps;
  double run(const ToolSpec<3>& s, const Loss& loss, int x0_index = -1, double dx0 = 0) const {
    auto w = build(s);
    if (x0_index >= 0) w->positions()[std::size_t(x0_index)] += dx0;
    for (int n = 0; n < steps; ++n) w->step();
    return loss.value(*w);
  }
  double fd(const Loss& loss, const std::function<void(ToolSpec<3>&, double)>& set, double h) const {
    ToolSpec<3> p = spec, m = spec;
    set(p, h);
    set(m, -h);
    return (run(p, loss) - run(m, loss)) / (2 * h);
  }
  double fd_x0(const Loss& loss, int i, double h) const {
    return (run(spec, loss, i, h) - run(spec, loss, i, -h)) / (2 * h);
  }
  FemRolloutGradients<double> gradients(const Loss& loss) const {
    auto w = build(spec);
    FemRolloutOptions<double> opt;
    opt.steps = steps;
    opt.checkpoints = 2;  // forces recomputation during the backward pass
    opt.loss_gradient = [&](int, const FemWorld<double>&, std::vector<double>& ax, std::vector<double>& av) {
      for (std::size_t i = 0; i < ax.size(); ++i) ax[i] += loss.c[i], av[i] += loss.d[i];
    };
    FemRollout<double> rollout(*w, opt);
    rollout.forward();
    return rollout.backward();
  }
};

TEST(FemToolWorld, BoxDraggingABlockGradientsMatchFiniteDifferences) {
  Checker c;
  c.steps = 5;
  // The box overhangs the block, so every touching vertex is under its bottom
  // face: a box's distance is only C1 next to its edges (curvature 1/r), where
  // central differences of 1e-6 are not accurate to 1e-6.
  c.spec = box_tool({0.05, 0.025, 0.05 + 0.02 + 2e-4}, {0.08, 0.06, 0.02});
  c.spec.rotation_deg = {3, -2, 10};
  c.spec.motion = ToolMotion::Velocity;
  for (int n = 0; n < c.steps; ++n)
    c.spec.actions.push_back(ToolAction<3>{{0.3, 0.05 * n, -0.2}, {0.4, -0.3, 1.0 + 0.2 * n}});
  c.build = [](const ToolSpec<3>& spec) {
    FemSettings s;
    s.dt = 1e-2;
    s.ground.enabled = true;
    s.ground.friction = 0.3;
    s.ground.slip_speed = 1e-2;
    s.newton_tolerance = 1e-14;
    auto w = std::make_unique<FemWorld<double>>(s);
    w->add_tet_body("block", make_box_mesh({0, 0, 0}, {0.1, 0.05, 0.05}, {2, 1, 1}), soft(2e4));
    w->add_tool(spec, "test");
    return w;
  };
  const Loss loss(std::size_t(3 * c.build(c.spec)->num_vertices()));
  const FemRolloutGradients<double> g = c.gradients(loss);
  ASSERT_EQ(g.tools.size(), 1u);
  const ToolGradients<3>& tg = g.tools[0];
  for (int n : {0, 2, 4})
    for (int a = 0; a < 3; ++a) {
      check("action " + std::to_string(n) + " linear " + std::to_string(a), tg.actions[std::size_t(n)].linear[a],
            c.fd(loss, [n, a](ToolSpec<3>& s, double h) { s.actions[std::size_t(n)].linear[a] += h; }, 1e-6));
      check("action " + std::to_string(n) + " angular " + std::to_string(a), tg.actions[std::size_t(n)].angular[a],
            c.fd(loss, [n, a](ToolSpec<3>& s, double h) { s.actions[std::size_t(n)].angular[a] += h; }, 1e-6));
    }
  for (int a = 0; a < 3; ++a)
    check("initial position " + std::to_string(a), tg.initial_position[a],
          c.fd(loss, [a](ToolSpec<3>& s, double h) { s.position[a] += h; }, 1e-6));
  check("friction", tg.friction, c.fd(loss, [](ToolSpec<3>& s, double h) { s.friction += h; }, 1e-6));
  check("stiffness", tg.stiffness, c.fd(loss, [](ToolSpec<3>& s, double h) { s.stiffness += h; }, 1e-1));
  // The initial state of a top vertex (under the box): through the contact's
  // dependence on the previous positions (friction's frozen normal force).
  const auto w = c.build(c.spec);
  int top = 0;
  for (int v = 0; v < w->num_vertices(); ++v)
    if (w->positions()[std::size_t(3 * v + 2)] > w->positions()[std::size_t(3 * top + 2)]) top = v;
  for (int i : {3 * top, 3 * top + 2}) check("x0[" + std::to_string(i) + "]", g.x0[std::size_t(i)], c.fd_x0(loss, i, 1e-6));
}

TEST(FemToolWorld, SphereLiftingASheetWaypointGradientsMatchFiniteDifferences) {
  Checker c;
  c.steps = 4;
  ToolSpec<3>& t = c.spec;
  t.name = "finger";
  t.shape = ToolShape::Sphere;
  t.radius = 0.02;
  t.stiffness = 1e5;
  t.softness = 1e-3;
  t.smoothing = 1e-2;
  t.friction = 0.5;
  t.position = {0.05, 0.05, -0.02 - 1e-3};
  t.motion = ToolMotion::Waypoints;
  t.waypoints = {ToolWaypoint<3>{0.0, {0.05, 0.05, -0.021}, {}}, ToolWaypoint<3>{0.02, {0.052, 0.05, -0.015}, {}},
                 ToolWaypoint<3>{0.05, {0.06, 0.048, -0.005}, {}}};
  c.build = [](const ToolSpec<3>& spec) {
    FemSettings s;
    s.dt = 1e-2;
    s.newton_tolerance = 1e-14;
    auto w = std::make_unique<FemWorld<double>>(s);
    const TriangleMesh sheet = make_rectangular_sheet({0, 0, 0}, {0.1, 0, 0}, {0, 0.1, 0}, 4, 4);
    const int first = w->add_vertices(sheet.vertices, lumped_sheet_masses(sheet, 0.2));
    ShellMaterial mat;
    mat.youngs_modulus = 1e5;
    mat.thickness = 1e-3;
    w->add_energy_term(std::make_shared<MembraneTerm<double>>("sheet", sheet, first, mat));
    w->add_energy_term(std::make_shared<HingeTerm<double>>("sheet", sheet, first, 1e-3, std::numeric_limits<double>::infinity()));
    w->pin({0, 4});
    w->add_tool(spec, "test");
    return w;
  };
  const Loss loss(std::size_t(3 * c.build(c.spec)->num_vertices()));
  const FemRolloutGradients<double> g = c.gradients(loss);
  const ToolGradients<3>& tg = g.tools[0];
  const std::pair<int, int> checked[] = {{0, 2}, {1, 0}, {1, 1}, {1, 2}, {2, 0}, {2, 2}};  // (waypoint, axis)
  for (const auto& [k, a] : checked)
    check("waypoint " + std::to_string(k) + " axis " + std::to_string(a), tg.waypoint_positions[std::size_t(k)][a],
          c.fd(loss, [k = k, a = a](ToolSpec<3>& s, double h) { s.waypoints[std::size_t(k)].position[a] += h; }, 1e-7));
  check("friction", tg.friction, c.fd(loss, [](ToolSpec<3>& s, double h) { s.friction += h; }, 1e-6));
}

// ---- bad input -------------------------------------------------------------------

void expect_input_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no InputError (expected one mentioning '" << needle << "')";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pusher"), std::string::npos) << e.what();
  }
}

TEST(FemToolWorld, BadToolInputIsAClearError) {
  FemSettings s;
  FemWorld<double> w(s);
  w.add_tet_body("block", make_box_mesh({0, 0, 0}, {0.1, 0.1, 0.1}, {1, 1, 1}), soft(2e4));
  const ToolSpec<3> good = box_tool({0, 0, 0.3}, {0.05, 0.05, 0.05});
  ToolSpec<3> flat = good;
  flat.half_extents = {0.05, 0, 0.05};
  expect_input_error([&] { w.add_tool(flat, "scene.yaml: tools.pusher"); }, "scene.yaml: tools.pusher");
  ToolSpec<3> nan_pose = good;
  nan_pose.position[1] = std::numeric_limits<double>::quiet_NaN();
  expect_input_error([&] { w.add_tool(nan_pose, "test"); }, "position");
  ToolSpec<3> hard = good;
  hard.softness = 0;
  expect_input_error([&] { w.add_tool(hard, "test"); }, "softness");
  FemSettings explicit_settings;
  explicit_settings.integrator = FemIntegrator::kSymplecticEuler;
  FemWorld<double> ex(explicit_settings);
  expect_input_error([&] { ex.add_tool(good, "test"); }, "implicit");
  EXPECT_TRUE(w.tools().empty());
}

}  // namespace
}  // namespace pl::fem
