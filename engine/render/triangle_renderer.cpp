#include "engine/render/triangle_renderer.hpp"

#include <algorithm>
#include <cmath>

namespace pl::render {

namespace {

double dot(const Vec3d& a, const Vec3d& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3d sub(const Vec3d& a, const Vec3d& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec3d cross(const Vec3d& a, const Vec3d& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

}  // namespace

void draw_triangles(Canvas& canvas, const std::vector<Triangle>& triangles, const Camera& camera,
                    const ShadingSettings& shading) {
  const int w = camera.width(), h = camera.height();
  Vec3d light = shading.light;
  const double ll = std::sqrt(dot(light, light));
  for (double& c : light) c /= ll > 0 ? ll : 1;
  const bool perspective = camera.is_perspective();

  for (const Triangle& t : triangles) {
    Projection p[3];
    if (!camera.project(t.a, p[0]) || !camera.project(t.b, p[1]) || !camera.project(t.c, p[2])) continue;
    bool finite = true;
    for (const Projection& q : p) finite = finite && std::isfinite(q.px) && std::isfinite(q.py) && std::isfinite(q.depth);
    if (!finite) continue;

    // Twice the signed image-space area; ~0 means seen edge-on (nothing to fill).
    const double area = (p[1].px - p[0].px) * (p[2].py - p[0].py) - (p[2].px - p[0].px) * (p[1].py - p[0].py);
    if (!(std::abs(area) > 1e-12)) continue;

    // Flat shade: the world normal in the camera frame (x right, y up, z towards
    // the viewer), flipped towards the viewer (two-sided).
    Vec3d n = cross(sub(t.b, t.a), sub(t.c, t.a));
    const double nn = std::sqrt(dot(n, n));
    if (!(nn > 0)) continue;
    for (double& c : n) c /= nn;
    Vec3d nc{0, 0, 1};  // planar cameras look straight down -z: head-on
    if (perspective) {
      nc = {dot(n, camera.right()), dot(n, camera.up()), -dot(n, camera.forward())};
      // Facing test along the viewing ray to the first vertex (exact for a
      // pinhole camera, unlike the sign of the normal's view-axis component).
      const Vec3d to_vertex = sub(t.a, camera.position());
      if (dot(n, to_vertex) > 0) nc = {-nc[0], -nc[1], -nc[2]};
    }
    const float k = shading.ambient + shading.diffuse * float(std::max(0.0, dot(nc, light)));
    const Rgb color{t.color[0] * k, t.color[1] * k, t.color[2] * k};

    // Pixels whose centres may lie inside.
    const double xmin = std::min({p[0].px, p[1].px, p[2].px}), xmax = std::max({p[0].px, p[1].px, p[2].px});
    const double ymin = std::min({p[0].py, p[1].py, p[2].py}), ymax = std::max({p[0].py, p[1].py, p[2].py});
    if (xmax < 0 || ymax < 0 || xmin >= w || ymin >= h) continue;
    const int xa = int(std::max(0.0, std::floor(xmin))), xb = int(std::min(double(w - 1), std::floor(xmax)));
    const int ya = int(std::max(0.0, std::floor(ymin))), yb = int(std::min(double(h - 1), std::floor(ymax)));
    const double inv_depth[3] = {perspective ? 1.0 / p[0].depth : 0.0, perspective ? 1.0 / p[1].depth : 0.0,
                                 perspective ? 1.0 / p[2].depth : 0.0};
    for (int y = ya; y <= yb; ++y)
      for (int x = xa; x <= xb; ++x) {
        const double cx = x + 0.5, cy = y + 0.5;
        // Barycentric weights from the edge functions, normalized by the area so
        // that either winding gives weights in [0, 1] inside.
        const double w0 = ((p[1].px - cx) * (p[2].py - cy) - (p[2].px - cx) * (p[1].py - cy)) / area;
        const double w1 = ((p[2].px - cx) * (p[0].py - cy) - (p[0].px - cx) * (p[2].py - cy)) / area;
        const double w2 = 1.0 - w0 - w1;
        if (w0 < 0 || w1 < 0 || w2 < 0) continue;
        const double depth = perspective ? 1.0 / (w0 * inv_depth[0] + w1 * inv_depth[1] + w2 * inv_depth[2]) : 0.0;
        canvas.plot(x, y, float(depth), color);
      }
  }
}

}  // namespace pl::render
