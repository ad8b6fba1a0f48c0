#include "engine/render/line_renderer.hpp"

#include <algorithm>
#include <cmath>

namespace pl::render {

void draw_segment(Canvas& canvas, const Camera& camera, const Vec3d& a, const Vec3d& b, const Rgb& color) {
  const int w = canvas.image.width, h = canvas.image.height;
  Projection pa, pb;
  // Samples: two per pixel of projected length; a segment that crosses behind
  // the camera has no finite projected length, so it gets the cap.
  constexpr double kMaxSamples = 20000;
  double samples = kMaxSamples;
  if (camera.project(a, pa) && camera.project(b, pb))
    samples = std::min(kMaxSamples, 2 * std::hypot(pb.px - pa.px, pb.py - pa.py) + 2);
  const int n = int(samples);
  for (int i = 0; i <= n; ++i) {
    const double t = double(i) / n;
    const Vec3d p{a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2])};
    Projection q;
    if (!camera.project(p, q)) continue;
    const double x = std::floor(q.px), y = std::floor(q.py);
    if (x < 0 || y < 0 || x >= w || y >= h) continue;
    canvas.plot(int(x), int(y), float(q.depth), color);
  }
}

void draw_box_edges(Canvas& canvas, const Camera& camera, const Vec3d& lo, const Vec3d& hi, const Rgb& color) {
  const auto corner = [&](int c) { return Vec3d{c & 1 ? hi[0] : lo[0], c & 2 ? hi[1] : lo[1], c & 4 ? hi[2] : lo[2]}; };
  // Corners c and c | bit differ along one axis: those pairs are the 12 edges.
  for (int c = 0; c < 8; ++c)
    for (int bit = 1; bit < 8; bit <<= 1)
      if (!(c & bit)) draw_segment(canvas, camera, corner(c), corner(c | bit), color);
}

}  // namespace pl::render
