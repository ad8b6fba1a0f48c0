#include "engine/optim/loss_curve.hpp"

#include <algorithm>
#include <cmath>

namespace pl::optim {

namespace {

void line(render::RgbImage& img, double x0, double y0, double x1, double y1, const render::Rgb& c) {
  const int steps = int(std::max(std::fabs(x1 - x0), std::fabs(y1 - y0))) + 1;
  for (int s = 0; s <= steps; ++s) {
    const double t = double(s) / steps;
    const int x = int(std::lround(x0 + t * (x1 - x0))), y = int(std::lround(y0 + t * (y1 - y0)));
    for (int dy = 0; dy <= 1; ++dy)  // 2 px thick
      if (x >= 0 && x < img.width && y + dy >= 0 && y + dy < img.height) img.set(x, y + dy, c);
  }
}

}  // namespace

render::RgbImage plot_loss_curve(const std::vector<double>& loss, const std::vector<double>& best, int width,
                                 int height) {
  render::RgbImage img(width, height, {1, 1, 1});
  const int left = 40, right = width - 20, top = 20, bottom = height - 30;
  std::vector<double> all;
  for (const auto* v : {&loss, &best})
    for (double x : *v)
      if (std::isfinite(x)) all.push_back(x);
  const render::Rgb frame{0.2f, 0.2f, 0.2f}, grid{0.85f, 0.85f, 0.85f};
  if (!all.empty()) {
    double lo = *std::min_element(all.begin(), all.end()), hi = *std::max_element(all.begin(), all.end());
    const bool log_scale = lo > 0 && hi / lo > 20;
    const auto tr = [&](double v) { return log_scale ? std::log10(v) : v; };
    double a = tr(lo), b = tr(hi);
    if (!(b > a)) a -= 0.5, b += 0.5;
    const auto ypix = [&](double v) { return bottom - (tr(v) - a) / (b - a) * (bottom - top); };
    const std::size_t n = std::max(loss.size(), best.size());
    const auto xpix = [&](std::size_t i) { return n <= 1 ? double(left) : left + double(i) / double(n - 1) * (right - left); };
    if (log_scale) {
      for (double d = std::ceil(a); d <= b; d += 1) line(img, left, ypix(std::pow(10.0, d)), right, ypix(std::pow(10.0, d)), grid);
    } else {
      for (int k = 1; k < 10; ++k) {
        const double y = bottom - k / 10.0 * (bottom - top);
        line(img, left, y, right, y, grid);
      }
    }
    const auto curve = [&](const std::vector<double>& v, const render::Rgb& c) {
      for (std::size_t i = 0; i + 1 < v.size(); ++i)
        if (std::isfinite(v[i]) && std::isfinite(v[i + 1])) line(img, xpix(i), ypix(v[i]), xpix(i + 1), ypix(v[i + 1]), c);
      if (v.size() == 1 && std::isfinite(v[0])) line(img, xpix(0) - 2, ypix(v[0]), xpix(0) + 2, ypix(v[0]), c);
    };
    curve(loss, {0.55f, 0.7f, 0.95f});
    curve(best, {0.7f, 0.1f, 0.1f});
  }
  line(img, left, top, left, bottom, frame);
  line(img, left, bottom, right, bottom, frame);
  return img;
}

}  // namespace pl::optim
