// What the renderers draw into: an RgbImage plus a depth buffer, so that
// splats and lines drawn in any order hide each other correctly.
#pragma once

#include <limits>
#include <vector>

#include "engine/render/image.hpp"

namespace pl::render {

struct Canvas {
  RgbImage image;
  std::vector<float> depth;  // per pixel, +inf where nothing was drawn

  Canvas(int width, int height, const Rgb& background)
      : image(width, height, background),
        depth(std::size_t(width) * std::size_t(height), std::numeric_limits<float>::infinity()) {}

  /// Colours pixel (x, y) if `z` is nearer than what it shows (strictly: of two
  /// equal depths the first drawn stays).  (x, y) must lie in the image.
  void plot(int x, int y, float z, const Rgb& color) {
    float& zb = depth[std::size_t(y) * std::size_t(image.width) + std::size_t(x)];
    if (z < zb) {
      zb = z;
      image.set(x, y, color);
    }
  }
};

}  // namespace pl::render
