// Unit tests of the wall conditions applied to one grid velocity.
#include <gtest/gtest.h>

#include "kernels/mpm/boundary.hpp"

namespace pl {
namespace {

const Vec<double, 3> kUp{{0, 1, 0}};  // inward normal of a floor

TEST(WallConditions, StickyStopsEverything) {
  const auto v = apply_wall(WallType::Sticky, 0.0, kUp, Vec<double, 3>{{1, 2, 3}});
  EXPECT_EQ(norm(v), 0.0);
}

TEST(WallConditions, SlipRemovesTheNormalComponentInBothDirections) {
  for (double vn : {-2.0, 2.0}) {
    const auto v = apply_wall(WallType::Slip, 0.0, kUp, Vec<double, 3>{{1, vn, 3}});
    EXPECT_DOUBLE_EQ(v[0], 1);
    EXPECT_DOUBLE_EQ(v[1], 0);
    EXPECT_DOUBLE_EQ(v[2], 3);
  }
}

TEST(WallConditions, SeparateLetsMaterialLeaveUntouched) {
  const auto v = apply_wall(WallType::Separate, 0.5, kUp, Vec<double, 3>{{1, 2, 3}});
  EXPECT_DOUBLE_EQ(v[0], 1);
  EXPECT_DOUBLE_EQ(v[1], 2);
  EXPECT_DOUBLE_EQ(v[2], 3);
}

TEST(WallConditions, SeparateAppliesCoulombFrictionWhenPressing) {
  // |v_t| = 5, v_n = -2, mu = 0.5: tangential speed drops by mu |v_n| = 1.
  const auto v = apply_wall(WallType::Separate, 0.5, kUp, Vec<double, 3>{{3, -2, 4}});
  EXPECT_DOUBLE_EQ(v[1], 0);
  EXPECT_NEAR(norm(v), 4.0, 1e-12);
  EXPECT_NEAR(v[0] / v[2], 3.0 / 4.0, 1e-12);  // direction kept
  // Enough friction stops the tangential motion entirely (no reversal).
  const auto stuck = apply_wall(WallType::Separate, 10.0, kUp, Vec<double, 3>{{3, -2, 4}});
  EXPECT_EQ(norm(stuck), 0.0);
}

TEST(WallConditions, OnlyNodesInsideTheLayerAreAffected) {
  WallConditions<double, 2> walls;
  walls.bound = 3;
  for (int a = 0; a < 2; ++a)
    for (int s = 0; s < 2; ++s) {
      walls.type[a][s] = WallType::Sticky;
      walls.friction[a][s] = 0;
    }
  const int res[2] = {32, 32};
  const Vec<double, 2> v{{1, -1}};
  const int inside[2] = {3, 28}, layer_low[2] = {2, 10}, layer_high[2] = {10, 29};
  EXPECT_EQ(norm(apply_walls(walls, inside, res, v)), norm(v));
  EXPECT_EQ(norm(apply_walls(walls, layer_low, res, v)), 0.0);
  EXPECT_EQ(norm(apply_walls(walls, layer_high, res, v)), 0.0);
}

}  // namespace
}  // namespace pl
