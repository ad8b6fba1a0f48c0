// Tools in an MPM world: momentum exchange (material + tool reaction is
// conserved), non-penetration at the default settings, and end-to-end
// gradients (double, central differences) of a short rollout with respect to
// tool actions, waypoints, friction and penalty stiffness.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "engine/core/error.hpp"
#include "engine/diff/mpm_rollout.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl {
namespace {

using test::filled;
using test::lattice_box;
using test::material;

/// A jelly block in the middle of a small box without gravity; walls are
/// slip (they never touch the material in these tests).
template <int D>
MpmWorld<double, D> jelly_world(int cells, double dt, double gravity = 0) {
  MpmSettings<D> s = MpmSettings<D>::cube(1.0, cells);
  s.dt = dt;
  s.gravity[1] = gravity;
  for (int a = 0; a < D; ++a) s.walls[a][0] = s.walls[a][1] = {WallType::Slip, 0.0};
  MpmWorld<double, D> world(s, {material("fixed_corotated", {{"E", 3e3}, {"nu", 0.3}}, 1000, "jelly")});
  std::array<double, D> lo = filled<D>(0.4), hi = filled<D>(0.6);
  if (gravity != 0) {
    lo[1] = s.bound_cells * s.dx;
    hi[1] = lo[1] + 0.2;
  }
  world.add_body("block", lattice_box<D>(lo, hi, s.dx, 2), 0, filled<D>(0.0), std::pow(s.dx / 2, D));
  return world;
}

template <int D>
ToolSpec<D> sphere_tool(ContactMode mode, const std::array<double, D>& position, double radius) {
  ToolSpec<D> spec;
  spec.name = "probe";
  spec.shape = ToolShape::Sphere;
  spec.radius = radius;
  spec.mode = mode;
  spec.position = position;
  spec.motion = ToolMotion::Velocity;
  spec.friction = 0.3;
  spec.stiffness = 2e4;
  spec.softness = 0.01;
  spec.smoothing = 0.05;
  return spec;
}

template <int D>
Vec<double, D> material_momentum(const MpmWorld<double, D>& world) {
  const auto& p = world.particles();
  Vec<double, D> m = Vec<double, D>::zero();
  for (std::size_t i = 0; i < p.size(); ++i) m += p.mass[i] * p.v[i];
  return m;
}

template <int D>
void check_momentum(ContactMode mode) {
  auto world = jelly_world<D>(D == 2 ? 32 : 16, 1e-3);
  std::array<double, D> c = filled<D>(0.5);
  c[0] = 0.25;
  ToolSpec<D> spec = sphere_tool<D>(mode, c, 0.1);
  const int steps = 150;
  spec.actions.assign(steps, ToolAction<D>{});
  for (auto& a : spec.actions) a.linear[0] = 1.0;  // into the block
  world.add_tool(Tool<D>(spec, world.settings().dt, "test"));
  const Vec<double, D> p0 = material_momentum(world);
  world.step(steps);
  const Vec<double, D> p1 = material_momentum(world);
  Vec<double, D> tool_impulse = Vec<double, D>::zero();  // impulse the material gave the tool
  for (const ToolReaction& r : world.tool_reactions()[0])
    for (int a = 0; a < D; ++a) tool_impulse[a] += r.force[a] * world.settings().dt;
  // The tool pushed: the material gained momentum along +x.
  const double mass = 1000 * std::pow(0.2, D);
  EXPECT_GT(p1[0], 0.1 * mass * 1.0) << "the tool did not push";
  // Material + tool impulse: conserved to round-off.
  for (int a = 0; a < D; ++a) EXPECT_NEAR(p1[a] + tool_impulse[a], p0[a], 1e-9 * mass) << "axis " << a;
}

TEST(CouplingToolWorld, MomentumIsConservedWithTheToolReaction2D) {
  for (ContactMode mode : {ContactMode::Sticky, ContactMode::Slip, ContactMode::Friction, ContactMode::Soft})
    check_momentum<2>(mode);
}
TEST(CouplingToolWorld, MomentumIsConservedWithTheToolReaction3D) { check_momentum<3>(ContactMode::Friction); }

TEST(CouplingToolWorld, MaterialStaysOutOfThePressingTool) {
  // A box tool presses 6 cm down into a jelly block resting on the floor
  // under gravity, then holds.  Default contact (friction).  Tolerance:
  // no particle deeper than 0.5 dx inside the tool.
  const int cells = 48;
  auto world = jelly_world<2>(cells, 2e-4, -9.8);
  const double dx = world.settings().dx;
  ToolSpec<2> spec;
  spec.name = "press";
  spec.shape = ToolShape::Box;
  spec.half_extents = {0.06, 0.03};
  spec.mode = ContactMode::Friction;
  spec.friction = 0.5;
  const double top = world.settings().bound_cells * dx + 0.2;
  spec.position = {0.5, top + 0.03 + 0.5 * dx};
  spec.motion = ToolMotion::Velocity;
  const int steps = 2500;
  spec.actions.assign(steps, ToolAction<2>{});
  for (int n = 0; n < 1500; ++n) spec.actions[std::size_t(n)].linear[1] = -0.2;  // 6 cm down in 0.3 s
  world.add_tool(Tool<2>(spec, world.settings().dt, "test"));
  world.step(steps);
  const auto& tool = world.tools()[0];
  const auto state = tool.state<double>(steps, nullptr);
  const auto& p = world.particles();
  double deepest = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    Vec<double, 2> grad;
    const double phi = tool_sdf(state.geometry, transpose(state.rotation) * (p.x[i] - state.position), grad);
    deepest = std::min(deepest, phi);
  }
  EXPECT_GT(deepest, -0.5 * dx) << "deepest particle " << -deepest / dx << " dx inside the tool";
  // And the tool did press: while it moved down it felt an upward force.
  double impulse_up = 0;
  for (int n = 0; n < 1500; ++n) impulse_up += world.tool_reactions()[0][std::size_t(n)].force[1] * world.settings().dt;
  EXPECT_GT(impulse_up, 0.0);
  std::printf("pressing tool: deepest particle %.3f dx inside, upward impulse %.4g N s\n", -deepest / dx, impulse_up);
}

// ---- gradients ------------------------------------------------------------------------

template <int D>
struct Loss {
  std::vector<Vec<double, D>> wx, wv;
  explicit Loss(std::size_t n) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-1, 1);
    wx.resize(n), wv.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      for (int a = 0; a < D; ++a) wx[i][a] = u(rng), wv[i][a] = 0.1 * u(rng);
  }
  std::vector<Vec<double, D>> x0;  // L reads displacements: small terms, small round-off in the sum
  double value(const ParticleSet<double, D>& s) const {
    double l = 0;
    for (std::size_t i = 0; i < s.size(); ++i) l += dot(wx[i], s.x[i] - x0[i]) + dot(wv[i], s.v[i]);
    return l;
  }
};

/// Runs `steps` substeps with `spec` and returns L at the end; with `grads`,
/// also the rollout gradients.
template <int D>
double rollout_loss(const ToolSpec<D>& spec, int steps, RolloutGradients<double, D>* grads, double gravity = 0) {
  auto world = jelly_world<D>(D == 2 ? 16 : 10, 2e-3, gravity);
  world.add_tool(Tool<D>(spec, world.settings().dt, "test"));
  Loss<D> loss(world.num_particles());
  loss.x0 = world.particles().x;
  if (!grads) {
    world.step(steps);
    return loss.value(world.particles());
  }
  RolloutOptions<double, D> opt;
  opt.steps = steps;
  opt.checkpoints = 3;  // exercises recomputation
  opt.loss_gradient = [&](int, const ParticleSet<double, D>&, ParticleAdjoint<double, D>& g) {
    for (std::size_t i = 0; i < g.x.size(); ++i) g.x[i] += loss.wx[i], g.v[i] += loss.wv[i];
  };
  double value = 0;
  opt.on_state = [&](int, const ParticleSet<double, D>& s) { value = loss.value(s); };
  MpmRollout<double, D> rollout(world, opt);
  rollout.forward();
  *grads = rollout.backward();
  return value;
}

/// Central difference of rollout_loss under `perturb(spec, h)`.
template <int D, class Perturb>
double fd(const ToolSpec<D>& spec, int steps, double h, Perturb perturb, double gravity = 0) {
  ToolSpec<D> plus = spec, minus = spec;
  perturb(plus, h);
  perturb(minus, -h);
  return (rollout_loss<D>(plus, steps, nullptr, gravity) - rollout_loss<D>(minus, steps, nullptr, gravity)) / (2 * h);
}

// Steps: 1e-6 where the response is large; 1e-4 for the angular actions,
// whose effect (through friction only, for a round tool) is small enough that
// round-off in the loss dominates a smaller step.
void expect_close(double adjoint, double finite_difference, const std::string& what) {
  const double err = std::abs(adjoint - finite_difference) / std::max(1e-6, std::abs(finite_difference));
  EXPECT_LT(err, 1e-6) << what << ": adjoint " << adjoint << ", finite difference " << finite_difference;
}

template <int D>
ToolSpec<D> pushing_sphere(ContactMode mode, int steps) {
  std::array<double, D> c = filled<D>(0.5);
  c[0] = 0.25;
  ToolSpec<D> spec = sphere_tool<D>(mode, c, 0.12);
  spec.actions.assign(std::size_t(steps), ToolAction<D>{});
  for (int n = 0; n < steps; ++n) {
    spec.actions[std::size_t(n)].linear[0] = 1.5 + 0.1 * std::sin(n);
    spec.actions[std::size_t(n)].linear[1] = 0.3 * std::cos(n);
    spec.actions[std::size_t(n)].angular[0] = 2.0;
  }
  return spec;
}

TEST(CouplingToolWorld, SoftContactGradientsMatchFiniteDifferences2D) {
  const int steps = 12;
  const ToolSpec<2> spec = pushing_sphere<2>(ContactMode::Soft, steps);
  RolloutGradients<double, 2> g;
  rollout_loss(spec, steps, &g);
  ASSERT_EQ(g.tools.size(), 1u);
  const auto& tg = g.tools[0];
  const double h = 1e-6;
  for (int n : {0, 5, 11}) {
    for (int a = 0; a < 2; ++a)
      expect_close(tg.actions[n].linear[a],
                   fd(spec, steps, h, [&](ToolSpec<2>& s, double d) { s.actions[n].linear[a] += d; }),
                   "linear action " + std::to_string(n) + "." + std::to_string(a));
    expect_close(tg.actions[n].angular[0],
                 fd(spec, steps, 1e-4, [&](ToolSpec<2>& s, double d) { s.actions[n].angular[0] += d; }),
                 "angular action " + std::to_string(n));
  }
  expect_close(tg.friction, fd(spec, steps, 1e-6, [](ToolSpec<2>& s, double d) { s.friction += d; }), "friction");
  expect_close(tg.stiffness, fd(spec, steps, 1e-2, [](ToolSpec<2>& s, double d) { s.stiffness += d; }), "stiffness");
  expect_close(tg.initial_position[1],
               fd(spec, steps, h, [](ToolSpec<2>& s, double d) { s.position[1] += d; }), "initial position y");
  EXPECT_GT(std::abs(tg.stiffness), 0.0);
}

TEST(CouplingToolWorld, SoftContactGradientsMatchFiniteDifferences3DWithRotation) {
  // A capsule tilted and spinning about all axes, so rotation gradients matter.
  const int steps = 6;
  ToolSpec<3> spec = pushing_sphere<3>(ContactMode::Soft, steps);
  spec.shape = ToolShape::Capsule;
  spec.radius = 0.08;
  spec.half_height = 0.1;
  spec.rotation_deg = {20, 10, 60};
  for (auto& a : spec.actions) a.angular = {3.0, -2.0, 4.0};
  RolloutGradients<double, 3> g;
  rollout_loss(spec, steps, &g);
  const auto& tg = g.tools[0];
  const double h = 1e-6;
  for (int n : {0, 3}) {
    for (int a = 0; a < 3; ++a) {
      expect_close(tg.actions[n].linear[a],
                   fd(spec, steps, h, [&](ToolSpec<3>& s, double d) { s.actions[n].linear[a] += d; }),
                   "linear action " + std::to_string(n) + "." + std::to_string(a));
      expect_close(tg.actions[n].angular[a],
                   fd(spec, steps, 1e-4, [&](ToolSpec<3>& s, double d) { s.actions[n].angular[a] += d; }),
                   "angular action " + std::to_string(n) + "." + std::to_string(a));
    }
  }
  expect_close(tg.friction, fd(spec, steps, 1e-6, [](ToolSpec<3>& s, double d) { s.friction += d; }), "friction");
}

TEST(CouplingToolWorld, HardContactGradientsMatchFiniteDifferences) {
  // Sticky and Coulomb friction: piecewise smooth; with these settings no
  // node crosses a contact switch under the small perturbations.
  const int steps = 10;
  for (ContactMode mode : {ContactMode::Sticky, ContactMode::Friction}) {
    const ToolSpec<2> spec = pushing_sphere<2>(mode, steps);
    RolloutGradients<double, 2> g;
    rollout_loss(spec, steps, &g);
    const auto& tg = g.tools[0];
    for (int n : {2, 8})
      for (int a = 0; a < 2; ++a)
        expect_close(tg.actions[n].linear[a],
                     fd(spec, steps, 1e-5, [&](ToolSpec<2>& s, double d) { s.actions[n].linear[a] += d; }),
                     std::string(contact_mode_name(mode)) + " linear action " + std::to_string(n));
    if (mode == ContactMode::Friction)
      expect_close(tg.friction, fd(spec, steps, 1e-7, [](ToolSpec<2>& s, double d) { s.friction += d; }), "friction");
  }
}

TEST(CouplingToolWorld, WaypointGradientsMatchFiniteDifferences) {
  const int steps = 12;
  ToolSpec<2> spec = sphere_tool<2>(ContactMode::Soft, {0.25, 0.5}, 0.12);
  spec.motion = ToolMotion::Waypoints;
  spec.waypoints = {{0.0, {0.25, 0.5}, {}}, {0.01, {0.28, 0.52}, {10, 0, 0}}, {0.03, {0.33, 0.47}, {30, 0, 0}}};
  RolloutGradients<double, 2> g;
  rollout_loss(spec, steps, &g);
  const auto& tg = g.tools[0];
  ASSERT_EQ(tg.waypoint_positions.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k)
    for (int a = 0; a < 2; ++a)
      expect_close(tg.waypoint_positions[k][a],
                   fd(spec, steps, 1e-6, [&](ToolSpec<2>& s, double d) { s.waypoints[k].position[a] += d; }),
                   "waypoint " + std::to_string(k) + "." + std::to_string(a));
}

TEST(CouplingToolWorld, SpeedLimitClampsActionsAndTheirGradient) {
  const int steps = 8;
  ToolSpec<2> spec = pushing_sphere<2>(ContactMode::Soft, steps);
  spec.max_speed = 1.0;  // the actions ask for ~1.5 m/s
  Tool<2> tool(spec, 2e-3, "test");
  EXPECT_NEAR(norm(tool.pose(3).velocity), 1.0, 1e-12);
  RolloutGradients<double, 2> g;
  rollout_loss(spec, steps, &g);
  for (int a = 0; a < 2; ++a)
    expect_close(g.tools[0].actions[4].linear[a],
                 fd(spec, steps, 1e-6, [&](ToolSpec<2>& s, double d) { s.actions[4].linear[a] += d; }),
                 "clamped action");
}

// ---- bad input ----------------------------------------------------------------------------

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(CouplingToolWorld, BadToolInputGetsAClearError) {
  ToolSpec<3> box;
  box.name = "lid";
  box.shape = ToolShape::Box;
  box.half_extents = {0.1, 0.0, 0.1};
  EXPECT_NE(error_of([&] { Tool<3>(box, 1e-3, "scene.yaml: tools.lid"); }).find("half_extents must be positive"),
            std::string::npos);
  ToolSpec<3> nan = box;
  nan.half_extents = {0.1, 0.1, 0.1};
  nan.position = {0.5, std::nan(""), 0.5};
  EXPECT_NE(error_of([&] { Tool<3>(nan, 1e-3, "ctx"); }).find("position must be finite"), std::string::npos);
  ToolSpec<3> sphere = nan;
  sphere.position = {0.5, 0.5, 0.5};
  sphere.shape = ToolShape::Sphere;
  sphere.radius = 0;
  EXPECT_NE(error_of([&] { Tool<3>(sphere, 1e-3, "ctx"); }).find("radius must be a positive"), std::string::npos);
  ToolSpec<3> rounded = nan;
  rounded.position = {0.5, 0.5, 0.5};
  rounded.shape = ToolShape::RoundedBox;
  rounded.radius = 0.2;
  EXPECT_NE(error_of([&] { Tool<3>(rounded, 1e-3, "ctx"); }).find("smaller than the smallest half extent"),
            std::string::npos);
  ToolSpec<3> fast = rounded;
  fast.shape = ToolShape::Box;
  fast.motion = ToolMotion::Waypoints;
  fast.max_speed = 1.0;
  fast.waypoints = {{0.0, {0.5, 0.5, 0.5}, {}}, {0.1, {0.9, 0.5, 0.5}, {}}};  // 4 m/s average
  EXPECT_NE(error_of([&] { Tool<3>(fast, 1e-3, "ctx"); }).find("above max_speed"), std::string::npos);
  ToolSpec<3> unordered = fast;
  unordered.max_speed = 1e9;
  unordered.waypoints[1].time = 0.0;
  EXPECT_NE(error_of([&] { Tool<3>(unordered, 1e-3, "ctx"); }).find("must increase strictly"), std::string::npos);
}

}  // namespace
}  // namespace pl
