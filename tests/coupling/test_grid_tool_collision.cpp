// Grid-node tool collision: forward behaviour of each contact mode, and the
// adjoint (dL/dv, pose, tool velocity, friction, stiffness) against central
// finite differences in double precision.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "kernels/coupling/grid_tool_collision.hpp"
#include "kernels/mpm/atomic.hpp"
#include "tests/coupling/coupling_test_util.hpp"

namespace pl {
namespace {

template <int D>
ToolState<double, D> make_tool(ToolShape shape, ContactMode mode) {
  ToolState<double, D> t{};
  t.geometry = test::test_geometry<D>(shape);
  t.mode = mode;
  t.friction = 0.4;
  t.stiffness = 3e3;
  t.softness = 0.02;
  t.smoothing = 0.05;
  for (int a = 0; a < D; ++a) t.position[a] = 0.5 + 0.01 * a;
  t.rotation = test::test_rotation<D>(0.3, -0.2, 0.5);
  for (int a = 0; a < D; ++a) t.velocity[a] = 0.3 - 0.2 * a;
  for (int a = 0; a < kAngularDim<D>; ++a) t.angular[a] = 0.7 - 0.5 * a;
  return t;
}

/// Flattens every differentiable input of collide_tool into one vector and back.
template <int D>
struct Inputs {
  static constexpr int K = kToolAdjointSize<D>;
  using Index = ToolAdjointIndex<D>;
  static void write(ToolState<double, D>& t, Vec<double, D>& v, int i, double value) {
    if (i < D) {
      v[i] = value;
      return;
    }
    i -= D;
    if (i < Index::rotation) t.position[i] = value;
    else if (i < Index::velocity) t.rotation((i - Index::rotation) / D, (i - Index::rotation) % D) = value;
    else if (i < Index::angular) t.velocity[i - Index::velocity] = value;
    else if (i < Index::friction) t.angular[i - Index::angular] = value;
    else if (i == Index::friction) t.friction = value;
    else t.stiffness = value;
  }
  static double read(const ToolState<double, D>& t, const Vec<double, D>& v, int i) {
    if (i < D) return v[i];
    i -= D;
    if (i < Index::rotation) return t.position[i];
    if (i < Index::velocity) return t.rotation((i - Index::rotation) / D, (i - Index::rotation) % D);
    if (i < Index::angular) return t.velocity[i - Index::velocity];
    if (i < Index::friction) return t.angular[i - Index::angular];
    if (i == Index::friction) return t.friction;
    return t.stiffness;
  }
};

/// Checks the adjoint at (t, x, v) against central differences of L = a . v'.
/// Returns the largest relative error.
template <int D>
double adjoint_error(const ToolState<double, D>& t, const Vec<double, D>& x, const Vec<double, D>& v, double dt,
                     const Vec<double, D>& a) {
  constexpr int K = kToolAdjointSize<D>;
  Vec<double, D> adj_v = Vec<double, D>::zero();
  double adj_tool[K] = {};
  adj_collide_tool(t, x, v, dt, a, adj_v, adj_tool);
  double worst = 0;
  const double h = 1e-6;
  for (int i = 0; i < D + K; ++i) {
    auto loss = [&](double delta) {
      ToolState<double, D> tt = t;
      Vec<double, D> vv = v;
      Inputs<D>::write(tt, vv, i, Inputs<D>::read(t, v, i) + delta);
      return dot(a, collide_tool(tt, x, vv, dt));
    };
    const double fd = (loss(h) - loss(-h)) / (2 * h);
    const double ad = i < D ? adj_v[i] : adj_tool[i - D];
    const double err = std::abs(ad - fd) / std::max(1.0, std::abs(fd));
    EXPECT_LT(err, 1e-6) << "input " << i << " adjoint " << ad << " fd " << fd;
    worst = std::max(worst, err);
  }
  return worst;
}

template <int D>
void check_all_modes() {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1, 1);
  const double dt = 1e-3;
  const ToolShape shapes[] = {ToolShape::Box, ToolShape::Sphere, ToolShape::Capsule, ToolShape::Cylinder,
                              ToolShape::Plane, ToolShape::RoundedBox};
  const ContactMode modes[] = {ContactMode::Sticky, ContactMode::Slip, ContactMode::Friction, ContactMode::Soft};
  for (ToolShape shape : shapes)
    for (ContactMode mode : modes) {
      const ToolState<double, D> t = make_tool<D>(shape, mode);
      int checked = 0;
      for (int trial = 0; trial < 400 && checked < 4; ++trial) {
        Vec<double, D> x_local, v, a;
        for (int k = 0; k < D; ++k) x_local[k] = 0.3 * u(rng), v[k] = u(rng), a[k] = u(rng);
        const Vec<double, D> x = t.position + t.rotation * x_local;
        Vec<double, D> grad;
        const double phi = tool_sdf(t.geometry, x_local, grad);
        // In contact (or near it for soft), away from the SDF's kinks.
        if (mode == ContactMode::Soft ? std::abs(phi) > 0.05 : !(phi < -1e-3)) continue;
        bool smooth = true;
        for (int k = 0; k < D; ++k) {
          Vec<double, D> q = x_local, gq;
          q[k] += 1e-3;
          tool_sdf(t.geometry, q, gq);
          if (norm(gq - grad) > 0.05 || (mode != ContactMode::Soft && !(tool_sdf(t.geometry, q, gq) < 0))) smooth = false;
        }
        if (!smooth) continue;
        // The hard modes: material approaching the tool (v_n < 0), and for
        // friction sliding rather than stuck, so the branch is the same
        // under the perturbation.
        const auto c = tool_detail::contact_geometry(t, x);
        const Vec<double, D> v_rel = v - c.v_tool;
        const double vn = dot(v_rel, c.n);
        if (mode == ContactMode::Slip || mode == ContactMode::Friction) {
          if (vn > -0.05) continue;
          const double tan = norm(v_rel - vn * c.n);
          if (mode == ContactMode::Friction && !(1 + t.friction * vn / tan > 0.05)) continue;
        }
        adjoint_error(t, x, v, dt, a);
        ++checked;
      }
      EXPECT_EQ(checked, 4) << "shape " << int(shape) << " mode " << int(mode);
    }
}

TEST(CouplingGridToolCollision, AdjointMatchesFiniteDifferences2D) { check_all_modes<2>(); }
TEST(CouplingGridToolCollision, AdjointMatchesFiniteDifferences3D) { check_all_modes<3>(); }

TEST(CouplingGridToolCollision, SoftContactGradientSurvivesSeparation) {
  // A node 3 softness lengths outside the tool still feels a (small) penalty,
  // and its gradient with respect to the stiffness is non-zero and exact.
  auto t = make_tool<3>(ToolShape::Sphere, ContactMode::Soft);
  const Vec<double, 3> x = t.position + Vec<double, 3>{{0, t.geometry.radius + 3 * t.softness, 0}};
  const Vec<double, 3> v{{0, -0.2, 0}}, a{{0.1, 1.0, -0.3}};
  Vec<double, 3> adj_v = Vec<double, 3>::zero();
  double adj_tool[kToolAdjointSize<3>] = {};
  adj_collide_tool(t, x, v, 1e-3, a, adj_v, adj_tool);
  EXPECT_GT(std::abs(adj_tool[ToolAdjointIndex<3>::stiffness]), 1e-8);
  adjoint_error(t, x, v, 1e-3, a);
}

TEST(CouplingGridToolCollision, ModesDoWhatTheySay) {
  // A resting box tool; a node 1 cm inside its top face moving down and sideways.
  auto t = make_tool<3>(ToolShape::Box, ContactMode::Sticky);
  t.rotation = Mat<double, 3>::identity();
  t.velocity = Vec<double, 3>::zero();
  t.angular = Vec<double, 3>::zero();
  const Vec<double, 3> x = t.position + Vec<double, 3>{{0, t.geometry.half[1] - 0.01, 0}};
  const Vec<double, 3> v{{1.0, -2.0, 0}};
  auto run = [&](ContactMode mode, double mu) {
    auto tt = t;
    tt.mode = mode;
    tt.friction = mu;
    return collide_tool(tt, x, v, 1e-3);
  };
  const auto sticky = run(ContactMode::Sticky, 0);
  EXPECT_EQ(norm(sticky), 0.0);
  const auto slip = run(ContactMode::Slip, 0);
  EXPECT_DOUBLE_EQ(slip[0], 1.0);
  EXPECT_DOUBLE_EQ(slip[1], 0.0);
  const auto friction = run(ContactMode::Friction, 0.25);  // |v_t| = 1 - 0.25 * 2
  EXPECT_NEAR(friction[0], 0.5, 1e-15);
  EXPECT_NEAR(friction[1], 0.0, 1e-15);
  EXPECT_EQ(norm(run(ContactMode::Friction, 1.0)), 0.0);  // stuck
  // Leaving the tool: slip and friction let it go.
  auto leaving = t;
  leaving.mode = ContactMode::Friction;
  const Vec<double, 3> up{{1.0, 2.0, 0}};
  EXPECT_EQ(norm(collide_tool(leaving, x, up, 1e-3) - up), 0.0);
  // Outside: untouched by the hard modes.
  const Vec<double, 3> outside = t.position + Vec<double, 3>{{0, t.geometry.half[1] + 0.01, 0}};
  EXPECT_EQ(norm(collide_tool(t, outside, v, 1e-3) - v), 0.0);
  // Soft: the penalty pushes a deep node out along +y.
  auto soft = t;
  soft.mode = ContactMode::Soft;
  soft.friction = 0;
  const auto pushed = collide_tool(soft, x, v, 1e-3);
  EXPECT_GT(pushed[1], v[1]);
  EXPECT_NEAR(pushed[0], v[0], 1e-15);
}

TEST(CouplingGridToolCollision, MultiToolAdjointMatchesFiniteDifferences) {
  ToolSet<double, 2> set;
  set.count = 2;
  set.tool[0] = make_tool<2>(ToolShape::Sphere, ContactMode::Soft);
  set.tool[1] = make_tool<2>(ToolShape::Box, ContactMode::Friction);
  set.tool[1].friction = 0.1;
  const Vec<double, 2> x = set.tool[0].position + Vec<double, 2>{{0.02, 0.05}};
  const Vec<double, 2> v{{0.2, -1.5}}, a{{0.7, -0.4}};
  constexpr int K = kToolAdjointSize<2>;
  Vec<double, 2> adj_v = Vec<double, 2>::zero();
  double adj[2 * K] = {};
  adj_apply_tools<double, 2, PlainAccumulate>(set, x, v, 1e-3, a, adj_v, adj);
  const double h = 1e-6;
  for (int tool = 0; tool < 2; ++tool)
    for (int i = 0; i < K; ++i) {
      auto loss = [&](double delta) {
        auto s = set;
        Vec<double, 2> vv = v;
        Inputs<2>::write(s.tool[tool], vv, 2 + i, Inputs<2>::read(set.tool[tool], v, 2 + i) + delta);
        return dot(a, apply_tools(s, x, 1.0, v, 1e-3, static_cast<Vec<double, 2>*>(nullptr)));
      };
      const double fd = (loss(h) - loss(-h)) / (2 * h);
      EXPECT_NEAR(adj[tool * K + i], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "tool " << tool << " entry " << i;
    }
  for (int k = 0; k < 2; ++k) {
    auto loss = [&](double delta) {
      Vec<double, 2> vv = v;
      vv[k] += delta;
      return dot(a, apply_tools(set, x, 1.0, vv, 1e-3, static_cast<Vec<double, 2>*>(nullptr)));
    };
    EXPECT_NEAR(adj_v[k], (loss(h) - loss(-h)) / (2 * h), 1e-7);
  }
}

}  // namespace
}  // namespace pl
