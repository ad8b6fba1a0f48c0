#include "engine/render/colormap.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace pl::render {

namespace {

Rgb hex(std::uint32_t rgb) {
  return {float((rgb >> 16) & 0xffu) / 255.f, float((rgb >> 8) & 0xffu) / 255.f, float(rgb & 0xffu) / 255.f};
}

// matplotlib "tab10" (the Tableau 10 palette), matplotlib/_cm.py `_tab10_data`.
constexpr std::array<std::uint32_t, 10> kTab10 = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                                  0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

// viridis (van der Walt & Smith, matplotlib 2.0, CC0) sampled at t = i/8, as
// R's viridisLite::viridis(9) lists it; interpolated linearly in between, which
// stays within a few 8-bit steps of the full 256-entry table.
constexpr std::array<std::uint32_t, 9> kViridis = {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21908c,
                                                   0x27ad81, 0x5dc863, 0xaadc32, 0xfde725};
// inferno, same source, viridisLite::inferno(9).
constexpr std::array<std::uint32_t, 9> kInferno = {0x000004, 0x1b0c42, 0x4b0c6b, 0x781c6d, 0xa52c60,
                                                   0xcf4446, 0xed6925, 0xfb9a06, 0xfcffa4};

template <std::size_t N>
Rgb interpolate(const std::array<std::uint32_t, N>& table, double t) {
  if (!(t > 0)) t = 0;  // also maps NaN to the low end
  if (t > 1) t = 1;
  const double s = t * double(N - 1);
  const std::size_t i = std::min<std::size_t>(std::size_t(s), N - 2);
  const float w = float(s - double(i));
  const Rgb a = hex(table[i]), b = hex(table[i + 1]);
  return {a[0] + w * (b[0] - a[0]), a[1] + w * (b[1] - a[1]), a[2] + w * (b[2] - a[2])};
}

}  // namespace

Rgb category_color(int index) {
  const int n = int(kTab10.size());
  return hex(kTab10[std::size_t(((index % n) + n) % n)]);
}

const std::vector<std::string>& colormap_names() {
  static const std::vector<std::string> names = {"viridis", "inferno", "grayscale"};
  return names;
}

Rgb colormap(const std::string& name, double t) {
  if (name == "viridis") return interpolate(kViridis, t);
  if (name == "inferno") return interpolate(kInferno, t);
  if (name == "grayscale") {
    const float g = float(std::isfinite(t) ? std::fmin(1.0, std::fmax(0.0, t)) : 0.0);
    return {g, g, g};
  }
  return {0.5f, 0.5f, 0.5f};
}

}  // namespace pl::render
