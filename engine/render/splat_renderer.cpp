#include "engine/render/splat_renderer.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace pl::render {

namespace {
constexpr double kMinShadedRadius = 2.0;  // [pixels]
}  // namespace

void draw_splats(Canvas& canvas, const std::vector<Splat>& splats, const Camera& camera,
                 const ShadingSettings& shading) {
  const int w = camera.width(), h = camera.height();
  Vec3d light = shading.light;
  const double ll = std::sqrt(light[0] * light[0] + light[1] * light[1] + light[2] * light[2]);
  for (double& c : light) c /= ll > 0 ? ll : 1;

  const auto shade = [&](const Splat& s, double nx, double ny, double nz) {
    const double lambert = std::max(0.0, nx * light[0] + ny * light[1] + nz * light[2]);
    const float k = shading.ambient + shading.diffuse * float(lambert);
    return Rgb{s.color[0] * k, s.color[1] * k, s.color[2] * k};
  };
  const auto write = [&](int x, int y, float z, const Rgb& c) { canvas.plot(x, y, z, c); };

  for (const Splat& s : splats) {
    Projection p;
    if (!camera.project(s.position, p)) continue;
    if (!std::isfinite(p.px) || !std::isfinite(p.py)) continue;
    const double rp = s.radius * p.pixels_per_meter;  // radius in pixels
    // Pixels whose centres (i + 0.5, j + 0.5) may lie within rp of (px, py).
    const double x0 = std::floor(p.px - rp), x1 = std::floor(p.px + rp);
    const double y0 = std::floor(p.py - rp), y1 = std::floor(p.py + rp);
    if (x1 < 0 || y1 < 0 || x0 >= w || y0 >= h) continue;
    const int xa = int(std::max(0.0, x0)), xb = int(std::min(double(w - 1), x1));
    const int ya = int(std::max(0.0, y0)), yb = int(std::min(double(h - 1), y1));
    bool drew = false;
    const Rgb flat = shade(s, 0, 0, 1);
    if (rp > 0)
      for (int y = ya; y <= yb; ++y)
        for (int x = xa; x <= xb; ++x) {
          const double dx = (x + 0.5 - p.px) / rp, dy = (y + 0.5 - p.py) / rp;
          const double r2 = dx * dx + dy * dy;
          if (r2 > 1) continue;
          const double nz = std::sqrt(1 - r2);
          // Discs of a few pixels are shaded flat: a light and a dark side on
          // each of them reads as noise, not as roundness.
          const Rgb c = rp < kMinShadedRadius ? flat : shade(s, dx, -dy, nz);
          write(x, y, float(p.depth - s.radius * nz), c);
          drew = true;
        }
    if (!drew) {
      // Smaller than a pixel (or falling between pixel centres): mark the pixel under its centre, lit head-on.
      const double fx = std::floor(p.px), fy = std::floor(p.py);
      if (fx >= 0 && fy >= 0 && fx < w && fy < h) write(int(fx), int(fy), float(p.depth - s.radius), flat);
    }
  }
}

RgbImage render_splats(const std::vector<Splat>& splats, const Camera& camera, const ShadingSettings& shading) {
  Canvas canvas(camera.width(), camera.height(), shading.background);
  draw_splats(canvas, splats, camera, shading);
  return std::move(canvas.image);
}

}  // namespace pl::render
