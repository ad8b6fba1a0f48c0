// An 8-bit RGB image held in memory: what the software renderer draws into and
// the PNG encoder reads.  Row 0 is the top of the picture (the order PNG and
// every viewer use); pixel (x, y) covers [x, x+1) x [y, y+1) in the continuous
// image coordinates that camera.hpp projects to.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pl::render {

/// A colour with channels in [0, 1]; converted to 8 bits only when stored.
using Rgb = std::array<float, 3>;

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // row-major, 3 bytes per pixel (r, g, b)

  RgbImage() = default;
  RgbImage(int w, int h, const Rgb& fill) : width(w), height(h), pixels(std::size_t(w) * std::size_t(h) * 3) {
    for (std::size_t i = 0; i < std::size_t(w) * std::size_t(h); ++i) set(i, fill);
  }

  std::array<std::uint8_t, 3> at(int x, int y) const {
    const std::size_t i = (std::size_t(y) * std::size_t(width) + std::size_t(x)) * 3;
    return {pixels[i], pixels[i + 1], pixels[i + 2]};
  }
  void set(int x, int y, const Rgb& c) { set(std::size_t(y) * std::size_t(width) + std::size_t(x), c); }

 private:
  static std::uint8_t to_byte(float v) {
    const float c = v < 0.f ? 0.f : v > 1.f ? 1.f : v;
    return std::uint8_t(c * 255.f + 0.5f);
  }
  void set(std::size_t index, const Rgb& c) {
    for (int k = 0; k < 3; ++k) pixels[index * 3 + std::size_t(k)] = to_byte(c[std::size_t(k)]);
  }
};

}  // namespace pl::render
