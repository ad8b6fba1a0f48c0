// Filled triangles of the preview renderer (engine/render/triangle_renderer):
// coverage, perspective-correct depth, depth ordering against particle splats,
// and two-sided shading of back-facing (shell) triangles.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/render/camera.hpp"
#include "engine/render/canvas.hpp"
#include "engine/render/splat_renderer.hpp"
#include "engine/render/triangle_renderer.hpp"

namespace {

namespace rd = pl::render;

const rd::Rgb kWhite{1, 1, 1}, kRed{1, 0, 0}, kBlue{0, 0, 1};

// Camera on +z looking at the origin: 90 degree fov, 64 x 64, focal 32 px; the
// image centre (32, 32) is the corner of four pixels, pixel (32, 32)'s centre
// lies 0.5 px right and down of it.
rd::Camera front_camera() { return rd::Camera::perspective({0, 0, 10}, {0, 0, 0}, {0, 1, 0}, 90, 64, 64); }

bool is_white(const rd::RgbImage& img, int x, int y) {
  const auto p = img.at(x, y);
  return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

TEST(RenderTriangle, CoversTheCentreAndNothingOutsideItsProjection) {
  const auto cam = front_camera();
  rd::Canvas canvas(64, 64, kWhite);
  // In the z = 0 plane: projects to x in [32 - 3.2, 32 + 6.4], y (down) in [32 - 6.4, 32 + 3.2].
  rd::draw_triangles(canvas, {{{-1, -1, 0}, {2, -1, 0}, {-1, 2, 0}, kRed}}, cam);
  const auto c = canvas.image.at(32, 32);
  EXPECT_GT(c[0], 0);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[2], 0);
  EXPECT_NEAR(canvas.depth[32 * 64 + 32], 10.0, 1e-5);
  EXPECT_TRUE(is_white(canvas.image, 5, 5));      // far outside
  EXPECT_TRUE(is_white(canvas.image, 37, 27));    // beyond the hypotenuse x + y' = 1 m
  EXPECT_FALSE(is_white(canvas.image, 29, 34));   // inside, near the right-angle corner
  EXPECT_TRUE(std::isinf(canvas.depth[5 * 64 + 5]));
}

TEST(RenderTriangle, DepthOfATiltedTriangleIsPerspectiveCorrect) {
  // The plane z = 0.5 x (tilted about y), spanning x in [-12, 12]: along the ray
  // through pixel centre (px, py) the hit point's depth is 10 - z with
  // x = (px - 32) / 32 * depth, so depth = 10 / (1 + 0.5 (px - 32) / 32).
  // Interpolating depth itself linearly in the image would miss this by metres
  // (the vertices' depths are 4 m and 16 m).
  const auto cam = front_camera();
  rd::Canvas canvas(64, 64, kWhite);
  rd::draw_triangles(canvas, {{{-12, -12, -6}, {12, -12, 6}, {12, 12, 6}, kRed}, {{-12, -12, -6}, {12, 12, 6}, {-12, 12, -6}, kRed}},
                     cam);
  int checked = 0;
  for (int x = 10; x < 60; x += 7) {
    const double px = x + 0.5;
    const double expected = 10.0 / (1.0 + 0.5 * (px - 32) / 32);
    const float z = canvas.depth[32 * 64 + std::size_t(x)];
    if (std::isinf(z)) continue;
    EXPECT_NEAR(z, expected, 1e-4 * expected) << "pixel x " << x;
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

TEST(RenderTriangle, NearerOfSplatAndTriangleWinsWhateverTheDrawOrder) {
  const auto cam = front_camera();
  const rd::Triangle tri{{-2, -2, 0}, {2, -2, 0}, {0, 2, 0}, kRed};
  for (const double splat_z : {1.0, -1.0}) {  // in front of the triangle, then behind it
    const std::vector<rd::Splat> splats = {{{0, 0, splat_z}, 0.3, kBlue}};
    for (const bool splats_first : {true, false}) {
      rd::Canvas canvas(64, 64, kWhite);
      if (splats_first) rd::draw_splats(canvas, splats, cam);
      rd::draw_triangles(canvas, {tri}, cam);
      if (!splats_first) rd::draw_splats(canvas, splats, cam);
      const auto c = canvas.image.at(32, 32);
      if (splat_z > 0) {
        EXPECT_GT(c[2], 0) << "splat in front, splats first " << splats_first;
        EXPECT_EQ(c[0], 0);
      } else {
        EXPECT_GT(c[0], 0) << "splat behind, splats first " << splats_first;
        EXPECT_EQ(c[2], 0);
      }
    }
  }
}

TEST(RenderTriangle, BackFacingTriangleShowsLitLikeItsFront) {
  const auto cam = front_camera();
  // The same triangle in both windings: counter-clockwise seen from the camera
  // (normal towards it), and clockwise (normal away, a shell seen from behind).
  const rd::Vec3d a{-2, -2, 0}, b{2, -2, 0}, c{0, 2, 0};
  rd::Canvas front(64, 64, kWhite), back(64, 64, kWhite);
  rd::draw_triangles(front, {{a, b, c, kRed}}, cam);
  rd::draw_triangles(back, {{a, c, b, kRed}}, cam);
  ASSERT_FALSE(is_white(back.image, 32, 32)) << "a back-facing triangle must still be drawn";
  EXPECT_EQ(front.image.at(32, 32), back.image.at(32, 32));
  // Head-on, the default light (normalized (-0.4, 0.6, 0.7)) gives
  // 0.35 + 0.65 * 0.7 / |(-0.4, 0.6, 0.7)| of the colour: lit, brighter than ambient alone.
  const double k = 0.35 + 0.65 * 0.7 / std::sqrt(0.16 + 0.36 + 0.49);
  EXPECT_NEAR(back.image.at(32, 32)[0], 255 * k, 1.5);
  // A triangle facing away from the light is darker than one facing it.
  rd::Canvas lit(64, 64, kWhite), dark(64, 64, kWhite);
  rd::draw_triangles(lit, {{{-2, -2, 1}, {2, -2, 1}, {0, 2, -1}, kRed}}, cam);   // z = -y/2: normal towards +y (the light's side)
  rd::draw_triangles(dark, {{{-2, -2, -1}, {2, -2, -1}, {0, 2, 1}, kRed}}, cam);  // z = y/2: normal towards -y
  EXPECT_GT(lit.image.at(32, 32)[0], dark.image.at(32, 32)[0]);
}

}  // namespace
