// Software splatting: particles drawn as shaded spheres ("impostors") with a
// depth buffer, into an RgbImage.  No OpenGL, no GPU: previews work on any
// headless server.
//
// Each splat covers the pixels whose centres lie within its projected radius.
// Inside the disc, at normalized offset (dx, dy) from the centre, the visible
// hemisphere has the camera-space normal n = (dx, -dy, sqrt(1 - dx^2 - dy^2))
// (image y points down); the pixel's colour is the splat's colour times a
// Lambert term, ambient + diffuse * max(0, n . light), and its depth is the
// sphere's front surface, depth_centre - radius * n_z.  With that depth two
// overlapping particles intersect like spheres instead of one covering the
// other as a flat disc would.  (The surface depth uses the orthographic
// approximation of the sphere, exact at the image centre and good to
// radius^2 / depth elsewhere, far below a particle's size.)
//
// Splats under 2 pixels in radius are shaded flat (lit head-on), and one
// smaller than a pixel still marks the one pixel that contains its projected
// centre, so a thin spray does not vanish.
//
// Usage:
//   RgbImage img = render_splats(splats, Camera::planar(lo, hi, 640, 480));
// or, to add lines (line_renderer.hpp) that particles may hide:
//   Canvas canvas(w, h, background);
//   draw_splats(canvas, splats, camera);
//   draw_segment(canvas, camera, a, b, grey);
#pragma once

#include <vector>

#include "engine/render/camera.hpp"
#include "engine/render/canvas.hpp"
#include "engine/render/image.hpp"

namespace pl::render {

struct Splat {
  Vec3d position{};  // [m]
  double radius = 0; // [m]
  Rgb color{};
};

struct ShadingSettings {
  Rgb background{1.0f, 1.0f, 1.0f};
  Vec3d light{-0.4, 0.6, 0.7};  // towards the light, camera frame (x right, y up, z towards the viewer); normalized
  float ambient = 0.35f;
  float diffuse = 0.65f;
};

/// Draws `splats` (in any order: the depth test sorts them) into `canvas`,
/// which must have the camera's size.  shading.background is not used here.
void draw_splats(Canvas& canvas, const std::vector<Splat>& splats, const Camera& camera,
                 const ShadingSettings& shading = {});

/// draw_splats into a new canvas of the camera's size filled with shading.background.
RgbImage render_splats(const std::vector<Splat>& splats, const Camera& camera, const ShadingSettings& shading = {});

}  // namespace pl::render
