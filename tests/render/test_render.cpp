// The software preview renderer (engine/render/): projection, splatting with a
// depth test, colours, and the PNG encoder checked by an independent decoder.
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/render/camera.hpp"
#include "engine/render/colormap.hpp"
#include "engine/render/line_renderer.hpp"
#include "engine/render/png_writer.hpp"
#include "engine/render/splat_renderer.hpp"

namespace {

namespace rd = pl::render;

const rd::Rgb kWhite{1, 1, 1}, kRed{1, 0, 0}, kBlue{0, 0, 1};

bool is_background(const rd::RgbImage& img, int x, int y) {
  const auto p = img.at(x, y);
  return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

int count_non_background(const rd::RgbImage& img) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += !is_background(img, x, y);
  return n;
}

// --- camera ------------------------------------------------------------------

TEST(RenderCamera, PerspectiveProjectsByThePinholeFormula) {
  // Camera on +z looking at the origin, 90 degree vertical fov, 200 x 100 image:
  // focal = (100 / 2) / tan(45 deg) = 50 px, principal point (100, 50).
  const auto cam = rd::Camera::perspective({0, 0, 10}, {0, 0, 0}, {0, 1, 0}, 90, 200, 100);
  rd::Projection p;
  ASSERT_TRUE(cam.project({0, 0, 0}, p));
  EXPECT_NEAR(p.px, 100, 1e-9);
  EXPECT_NEAR(p.py, 50, 1e-9);
  EXPECT_NEAR(p.depth, 10, 1e-12);
  ASSERT_TRUE(cam.project({4, 2, 0}, p));
  EXPECT_NEAR(p.px, 100 + 50 * 4.0 / 10, 1e-9);  // +x is to the right
  EXPECT_NEAR(p.py, 50 - 50 * 2.0 / 10, 1e-9);   // +y (up) is towards row 0
  EXPECT_NEAR(p.pixels_per_meter, 5, 1e-12);
  ASSERT_TRUE(cam.project({0, 0, 5}, p));  // nearer: same ray, larger scale
  EXPECT_NEAR(p.depth, 5, 1e-12);
  EXPECT_NEAR(p.pixels_per_meter, 10, 1e-12);
  EXPECT_FALSE(cam.project({0, 0, 11}, p)) << "behind the camera";
}

TEST(RenderCamera, InvalidPosesAreInputErrors) {
  EXPECT_THROW(rd::Camera::perspective({1, 1, 1}, {1, 1, 1}, {0, 1, 0}, 40, 64, 64), pl::InputError);
  EXPECT_THROW(rd::Camera::perspective({0, 5, 0}, {0, 0, 0}, {0, 1, 0}, 40, 64, 64), pl::InputError);  // up || view
  EXPECT_THROW(rd::Camera::perspective({0, 0, 5}, {0, 0, 0}, {0, 1, 0}, 180, 64, 64), pl::InputError);
  try {
    rd::Camera::perspective({0, 0, 5}, {0, 0, 0}, {0, 0, 0}, 40, 64, 64, "scene.yaml:3:5: preview.camera");
    FAIL();
  } catch (const pl::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("preview.camera: up"), std::string::npos) << e.what();
  }
}

TEST(RenderCamera, DefaultPoseSeesTheWholeDomainFromAbove) {
  const rd::Vec3d lo{0, 0, 0}, hi{1, 0.5, 0.8};
  const auto pose = rd::default_pose(lo, hi, {0, 1, 0}, 40, 640, 480);
  const auto cam = rd::Camera::perspective(pose.position, pose.look_at, pose.up, pose.fov_deg, 640, 480);
  rd::Projection p;
  ASSERT_TRUE(cam.project({0.5, 0.25, 0.4}, p));
  EXPECT_NEAR(p.px, 320, 1e-6);
  EXPECT_NEAR(p.py, 240, 1e-6);
  EXPECT_GT(pose.position[1], hi[1]) << "the default view is from above";
  EXPECT_GT(pose.position[2], hi[2]) << "and from the front (+z) when y is up";
  for (int c = 0; c < 8; ++c) {
    const rd::Vec3d corner{c & 1 ? hi[0] : lo[0], c & 2 ? hi[1] : lo[1], c & 4 ? hi[2] : lo[2]};
    ASSERT_TRUE(cam.project(corner, p));
    EXPECT_GE(p.px, 0);
    EXPECT_LT(p.px, 640);
    EXPECT_GE(p.py, 0);
    EXPECT_LT(p.py, 480);
  }
  // With z up the viewer stands above in +z.
  const auto zup = rd::default_pose(lo, hi, {0, 0, 1}, 40, 640, 480);
  EXPECT_GT(zup.position[2], hi[2]);
}

TEST(RenderCamera, PlanarFitsTheDomainWithYUp) {
  // A 2 x 1 domain in a 200 x 100 image: 100 px per meter, no letterbox.
  const auto cam = rd::Camera::planar({0, 0, 0}, {2, 1, 0}, 200, 100);
  rd::Projection p;
  ASSERT_TRUE(cam.project({0.5, 0.25, 0}, p));
  EXPECT_NEAR(p.px, 50, 1e-9);
  EXPECT_NEAR(p.py, 75, 1e-9);
  // A square domain in the same image is centred: 100 px per meter, 50 px bars left and right.
  const auto square = rd::Camera::planar({-1, -1, 0}, {0, 0, 0}, 200, 100);
  ASSERT_TRUE(square.project({-1, 0, 0}, p));
  EXPECT_NEAR(p.px, 50, 1e-9);
  EXPECT_NEAR(p.py, 0, 1e-9);
  EXPECT_NEAR(p.pixels_per_meter, 100, 1e-9);
}

// --- splatting ---------------------------------------------------------------

TEST(RenderSplat, ParticleLandsOnThePixelTheCameraProjectsItTo) {
  const auto cam = rd::Camera::perspective({0, 0, 10}, {0, 0, 0}, {0, 1, 0}, 90, 200, 100);
  // (4.1, 2.1, 0) projects to (120.5, 39.5) by the formula above: pixel (120, 39).
  const rd::RgbImage img = rd::render_splats({{{4.1, 2.1, 0}, 0.001, kRed}}, cam);
  ASSERT_EQ(img.width, 200);
  ASSERT_EQ(img.height, 100);
  const auto hit = img.at(120, 39);
  EXPECT_GT(hit[0], 100);
  EXPECT_LT(hit[1], 50);
  EXPECT_EQ(count_non_background(img), 1) << "a sub-pixel particle marks exactly one pixel";

  // A larger one covers a disc of radius r * focal / depth = 0.5 * 5 = 2.5 px around it.
  const rd::RgbImage disc = rd::render_splats({{{4.1, 2.1, 0}, 0.5, kRed}}, cam);
  EXPECT_FALSE(is_background(disc, 122, 39));
  EXPECT_FALSE(is_background(disc, 120, 37));
  EXPECT_TRUE(is_background(disc, 124, 39));
  EXPECT_TRUE(is_background(disc, 123, 42));
  const int n = count_non_background(disc);
  EXPECT_NEAR(n, 3.14159 * 2.5 * 2.5, 6);
}

TEST(RenderSplat, NearerParticleWinsWhateverTheDrawOrder) {
  const auto cam = rd::Camera::perspective({0, 0, 10}, {0, 0, 0}, {0, 1, 0}, 60, 64, 64);
  const rd::Splat near{{0, 0, 1}, 0.3, kRed}, far{{0, 0, -1}, 0.3, kBlue};
  for (const auto& order : {std::vector<rd::Splat>{near, far}, std::vector<rd::Splat>{far, near}}) {
    const rd::RgbImage img = rd::render_splats(order, cam);
    const auto c = img.at(32, 32);
    EXPECT_GT(c[0], 50);
    EXPECT_EQ(c[2], 0) << "the far (blue) particle must be hidden";
  }
  // Side by side at different depths both show.
  const rd::RgbImage both = rd::render_splats({{{-2, 0, 1}, 0.3, kRed}, {{2, 0, -1}, 0.3, kBlue}}, cam);
  rd::Projection pr, pb;
  ASSERT_TRUE(cam.project({-2, 0, 1}, pr));
  ASSERT_TRUE(cam.project({2, 0, -1}, pb));
  EXPECT_GT(both.at(int(pr.px), int(pr.py))[0], 50);
  EXPECT_GT(both.at(int(pb.px), int(pb.py))[2], 50);
}

TEST(RenderSplat, ShadingIsBrightestTowardsTheLight) {
  const auto cam = rd::Camera::planar({0, 0, 0}, {1, 1, 0}, 101, 101);
  const rd::RgbImage img = rd::render_splats({{{0.5, 0.5, 0}, 0.4, kWhite}}, cam, rd::ShadingSettings{{0, 0, 0}});
  // Default light comes from the upper left, in front: the upper-left part of the disc is brighter.
  EXPECT_GT(img.at(38, 38)[0], img.at(62, 62)[0]);
  EXPECT_EQ(img.at(1, 1)[0], 0) << "background stays";
}

TEST(RenderSplat, ParticlesOutsideTheImageAreClipped) {
  const auto cam = rd::Camera::planar({0, 0, 0}, {1, 1, 0}, 32, 32);
  const rd::RgbImage img =
      rd::render_splats({{{-5, 0.5, 0}, 0.1, kRed}, {{0.5, 7, 0}, 0.1, kRed}, {{1.0, 0.5, 0}, 0.1, kRed}}, cam);
  // Only the one on the right edge shows, and only its left half.
  EXPECT_FALSE(is_background(img, 31, 16));
  EXPECT_TRUE(is_background(img, 0, 16));
  EXPECT_LT(count_non_background(img), 60);
}

TEST(RenderLine, SegmentsAreDepthTestedAgainstParticles) {
  const auto cam = rd::Camera::perspective({0, 0, 10}, {0, 0, 0}, {0, 1, 0}, 90, 100, 100);
  rd::Canvas canvas(100, 100, kWhite);
  rd::draw_splats(canvas, {{{0, 0, 2}, 0.5, kRed}}, cam);  // in front of the line
  rd::draw_segment(canvas, cam, {-5, 0, 0}, {5, 0, 0}, kBlue);
  // The line y = 0, z = 0 runs along row 50 from x = 25 to 75 (focal 50 px, depth 10).
  EXPECT_EQ(canvas.image.at(30, 50), (std::array<std::uint8_t, 3>{0, 0, 255}));
  EXPECT_EQ(canvas.image.at(70, 50), (std::array<std::uint8_t, 3>{0, 0, 255}));
  EXPECT_EQ(canvas.image.at(50, 50)[2], 0) << "the particle in front hides the line";
  EXPECT_TRUE(is_background(canvas.image, 20, 50)) << "the segment ends at x = -5";
  // A box outline touches all four image quadrants when the camera looks at its centre.
  rd::Canvas box(100, 100, kWhite);
  rd::draw_box_edges(box, cam, {-1, -1, -1}, {1, 1, 1}, kBlue);
  EXPECT_FALSE(is_background(box.image, int(50 + 50 * 1.0 / 9), int(50 - 50 * 1.0 / 9)));  // front corner (1, 1, 1)
  EXPECT_FALSE(is_background(box.image, int(50 - 50 * 1.0 / 11), int(50 + 50 * 0.5 / 11)));  // back edge x = -1, z = -1
}

TEST(RenderColor, PalettesAndColormaps) {
  const auto viridis0 = rd::colormap("viridis", 0), viridis1 = rd::colormap("viridis", 1);
  EXPECT_NEAR(viridis0[0] * 255, 0x44, 0.01);  // #440154
  EXPECT_NEAR(viridis0[2] * 255, 0x54, 0.01);
  EXPECT_NEAR(viridis1[1] * 255, 0xe7, 0.01);  // #fde725
  EXPECT_EQ(rd::colormap("viridis", -3), viridis0) << "clamped";
  EXPECT_EQ(rd::colormap("viridis", NAN), viridis0);
  const auto mid = rd::colormap("viridis", 0.5);  // #21908c
  EXPECT_NEAR(mid[1] * 255, 0x90, 0.01);
  EXPECT_EQ(rd::category_color(0), rd::category_color(10));
  EXPECT_NE(rd::category_color(0), rd::category_color(1));
  for (const auto& name : rd::colormap_names()) EXPECT_NE(rd::colormap(name, 0), rd::colormap(name, 1)) << name;
}

// --- PNG -----------------------------------------------------------------------

// An independent PNG reader for the test: chunk walk, CRC-32 computed bit by
// bit (polynomial 0xEDB88320, PNG spec annex D), zlib inflate, and all five
// scanline filters (PNG spec sec. 9.2), so it also reads files the encoder
// could have written differently.
std::uint32_t crc32_bitwise(const std::string& bytes) {
  std::uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) | (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}

rd::RgbImage decode_png(const std::string& png) {
  rd::RgbImage img;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::string idat;
  std::vector<std::string> types;
  for (std::size_t at = 8; at + 12 <= png.size();) {
    const std::uint32_t len = be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    const std::string data = png.substr(at + 8, len);
    EXPECT_EQ(be32(png, at + 8 + len), crc32_bitwise(png.substr(at + 4, 4 + len))) << "CRC of " << type;
    types.push_back(type);
    if (type == "IHDR") {
      img.width = int(be32(data, 0));
      img.height = int(be32(data, 4));
      EXPECT_EQ(data.substr(8), std::string("\x08\x02\x00\x00\x00", 5)) << "8-bit RGB, no interlace";
    } else if (type == "IDAT") {
      idat += data;
    }
    at += 12 + len;
  }
  EXPECT_EQ(types.front(), "IHDR");
  EXPECT_EQ(types.back(), "IEND");
  const std::size_t row = std::size_t(img.width) * 3;
  std::vector<std::uint8_t> raw((row + 1) * std::size_t(img.height));
  uLongf raw_size = uLongf(raw.size());
  EXPECT_EQ(uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), uLong(idat.size())), Z_OK);
  EXPECT_EQ(raw_size, raw.size());
  img.pixels.assign(row * std::size_t(img.height), 0);
  for (std::size_t y = 0; y < std::size_t(img.height); ++y) {
    const std::uint8_t filter = raw[y * (row + 1)];
    const std::uint8_t* in = raw.data() + y * (row + 1) + 1;
    std::uint8_t* out = img.pixels.data() + y * row;
    const std::uint8_t* prev = y ? out - row : nullptr;
    for (std::size_t i = 0; i < row; ++i) {
      const int a = i >= 3 ? out[i - 3] : 0, b = prev ? prev[i] : 0, c = (prev && i >= 3) ? prev[i - 3] : 0;
      int pred = 0;
      switch (filter) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = (pa <= pb && pa <= pc) ? a : pb <= pc ? b : c;
          break;
        }
        default: ADD_FAILURE() << "bad filter type " << int(filter); return img;
      }
      out[i] = std::uint8_t(in[i] + pred);
    }
  }
  return img;
}

TEST(RenderPng, RoundTripsThroughAnIndependentDecoder) {
  std::mt19937 rng(7);
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {7, 5}, {64, 3}}) {
    rd::RgbImage img(w, h, kWhite);
    for (auto& b : img.pixels) b = std::uint8_t(rng() & 0xffu);
    const std::string png = rd::encode_png(img);
    const rd::RgbImage back = decode_png(png);
    EXPECT_EQ(back.width, w);
    EXPECT_EQ(back.height, h);
    EXPECT_EQ(back.pixels, img.pixels) << w << "x" << h;
  }
  // A flat image compresses far below its raw size.
  const std::string flat = rd::encode_png(rd::RgbImage(320, 240, kWhite));
  EXPECT_LT(flat.size(), 320u * 240u * 3u / 50u);
  EXPECT_EQ(decode_png(flat).pixels, rd::RgbImage(320, 240, kWhite).pixels);
}

}  // namespace
