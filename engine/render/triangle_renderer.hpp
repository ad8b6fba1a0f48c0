// Software rasterization of filled, flat-shaded triangles with the depth
// buffer the splats and lines use (canvas.hpp), so FEM surfaces (tet body
// boundaries, shells) and MPM particles hide each other correctly.
//
// Each triangle covers the pixels whose centres lie inside its projection
// (edge functions; pixels on an edge count).  Its depth at a pixel is the
// view-axis distance of the plane through its three vertices: under a
// perspective projection 1/depth, not depth, is affine in image space, so
// 1/depth is interpolated with the image-space barycentric weights
// (perspective-correct interpolation, e.g. Heckbert & Moreton, "Interpolation
// for Polygon Texture Mapping and Shading", 1991).  A planar (2D) camera has
// depth 0 everywhere.
//
// Shading: flat, the triangle's colour times ambient + diffuse * max(0, n .
// light) with the light of ShadingSettings (camera frame).  Triangles are
// two-sided: the normal is flipped towards the viewer, so a shell seen from
// behind is lit like its front (a closed tet surface's back faces lie behind
// its front faces and lose the depth test).
//
// A triangle with a vertex behind (or too close to) the camera is skipped
// rather than clipped: previews keep their bodies in front of the camera.
//
// Usage:
//   Canvas canvas(camera.width(), camera.height(), background);
//   draw_splats(canvas, splats, camera, shading);
//   draw_triangles(canvas, triangles, camera, shading);
#pragma once

#include <vector>

#include "engine/render/camera.hpp"
#include "engine/render/canvas.hpp"
#include "engine/render/splat_renderer.hpp"  // ShadingSettings

namespace pl::render {

struct Triangle {
  Vec3d a{}, b{}, c{};  // vertices [m]
  Rgb color{};
};

/// Draws `triangles` (any order, any winding) into `canvas`, which must have
/// the camera's size.  shading.background is not used here.
void draw_triangles(Canvas& canvas, const std::vector<Triangle>& triangles, const Camera& camera,
                    const ShadingSettings& shading = {});

}  // namespace pl::render
