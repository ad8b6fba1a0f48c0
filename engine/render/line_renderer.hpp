// Thin lines in 3D (the domain's outline in previews), depth-tested against
// what the canvas already holds, so particles in front hide them.
//
// A segment is sampled in world space about every half pixel of its projected
// length and each sample marks the pixel it projects into.  Sampling in world
// space (not in the image) gives every sample its true perspective depth, and
// clips the part of a segment behind the camera for free.
#pragma once

#include "engine/render/camera.hpp"
#include "engine/render/canvas.hpp"

namespace pl::render {

void draw_segment(Canvas& canvas, const Camera& camera, const Vec3d& a, const Vec3d& b, const Rgb& color);

/// The 12 edges of the box [lower, upper].
void draw_box_edges(Canvas& canvas, const Camera& camera, const Vec3d& lower, const Vec3d& upper, const Rgb& color);

}  // namespace pl::render
