// Particle seeding; the design (grid-aligned cells, stratified jitter,
// determinism) is explained in sampling.hpp.

#include "engine/mpm/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

#include "engine/core/config.hpp"
#include "engine/core/error.hpp"
#include "engine/geometry/winding_number.hpp"

namespace pl {
namespace {

enum class CellClass { kOutside, kInside, kMixed };

std::string fmt(double x) {
  std::ostringstream s;
  s.precision(10);
  s << x;
  return s.str();
}

template <int D>
std::string finite_error(const std::array<double, D>& v, const std::string& name) {
  for (int a = 0; a < D; ++a)
    if (!std::isfinite(v[a]))
      return name + "[" + std::to_string(a) + "] must be a finite number (meters), got " + fmt(v[a]);
  return "";
}

std::string positive_error(double x, const std::string& name) {
  if (!std::isfinite(x) || !(x > 0.0)) return name + " must be a finite number > 0 (meters), got " + fmt(x);
  return "";
}

// 53 random bits -> double in [0, 1).  Exact: every value is k * 2^-53.
inline double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// The common engine.  `lower`/`upper` bound the shape.  `classify(cell_lo,
// cell_hi, previous)` may decide a whole cell at once (kMixed = ask `contains`
// per point); `previous` is the class of the preceding cell in the same row
// (along the last axis) when that one was decided wholesale, else kMixed, so a
// shape can reuse it for neighbouring cells.  Both callables must be
// thread-safe.
template <int D, class Classify, class Contains>
std::vector<std::array<double, D>> sample_region(const std::array<double, D>& lower,
                                                 const std::array<double, D>& upper,
                                                 const SamplingSettings& settings, const std::string& context,
                                                 const Classify& classify, const Contains& contains) {
  const double dx = settings.dx;
  const int ppc = settings.particles_per_cell;

  // Cells overlapping [lower, upper]: lo <= i < hi on every axis.  floor/ceil of
  // lower/dx may be off by one after rounding; the loops fix that against the
  // corners exactly as the points compute them (dx * i).
  std::array<std::int64_t, D> lo{}, count{};
  double total_cells = 1.0;
  for (int a = 0; a < D; ++a) {
    const double l = std::floor(lower[a] / dx), h = std::ceil(upper[a] / dx);
    if (!(std::abs(l) < 0x1.0p52 && std::abs(h) < 0x1.0p52))
      throw_if_invalid(context, "dx = " + fmt(dx) + " is too small for a shape at " + fmt(lower[a]) + ".." +
                                    fmt(upper[a]) + " m on axis " + std::to_string(a) +
                                    " (cell indices overflow); check the units of dx and of the shape");
    std::int64_t il = static_cast<std::int64_t>(l), ih = static_cast<std::int64_t>(h);
    while (dx * static_cast<double>(il) > lower[a]) --il;
    while (dx * static_cast<double>(ih) < upper[a]) ++ih;
    lo[a] = il;
    count[a] = std::max<std::int64_t>(ih - il, 1);
    total_cells *= static_cast<double>(count[a]);
  }
  if (total_cells * ppc > static_cast<double>(kMaxSamplingCandidates))
    throw_if_invalid(context, "sampling would create " + fmt(total_cells * ppc) +
                                  " candidate particles (cells in the shape's bounding box x "
                                  "particles_per_cell), more than the limit " +
                                  std::to_string(kMaxSamplingCandidates) +
                                  "; increase dx or reduce particles_per_cell (dx = " + fmt(dx) + " m)");
  const std::int64_t cells = static_cast<std::int64_t>(total_cells);

  // Sub-cells per axis (n) and their count per cell; random sampling is the
  // n = 1 case repeated ppc times.
  const int strata = stratified_subdivisions(ppc, D);
  const int n = strata > 0 ? strata : 1;

  std::mt19937_64 rng(settings.seed);
  std::vector<std::array<double, D>> result;
  // Batches of whole rows (cells along the last axis), about 2^18 candidates.
  const std::int64_t row_length = count[D - 1];
  const std::int64_t rows = cells / row_length;
  const std::int64_t batch_rows = std::max<std::int64_t>(1, (std::int64_t(1) << 18) / (ppc * row_length));
  std::vector<std::array<double, D>> candidates;
  std::vector<unsigned char> keep;

  auto cell_of = [&](std::int64_t flat) {
    std::array<std::int64_t, D> idx;
    for (int a = D - 1; a >= 0; --a) {  // axis D-1 fastest
      idx[a] = lo[a] + flat % count[a];
      flat /= count[a];
    }
    return idx;
  };

  for (std::int64_t first_row = 0; first_row < rows; first_row += batch_rows) {
    const std::int64_t first = first_row * row_length;
    const std::int64_t batch_row_count = std::min(rows, first_row + batch_rows) - first_row;
    const std::int64_t batch = batch_row_count * row_length;

    // 1. Candidates, serially: the random stream has one fixed order.
    candidates.resize(static_cast<size_t>(batch * ppc));
    for (std::int64_t c = 0; c < batch; ++c) {
      const std::array<std::int64_t, D> idx = cell_of(first + c);
      for (int k = 0; k < ppc; ++k) {
        std::array<double, D>& x = candidates[static_cast<size_t>(c * ppc + k)];
        int sub = strata > 0 ? k : 0;  // sub-cell index, axis D-1 fastest
        std::array<int, D> s{};
        for (int a = D - 1; a >= 0; --a) {
          s[a] = sub % n;
          sub /= n;
        }
        for (int a = 0; a < D; ++a) {
          // x = dx * (i + (s + u) / n), in [dx * i, dx * (i + 1)] after rounding
          // (the corners `classify` sees are computed the same way).  The only
          // product feeding a sum, bits * 2^-53 inside u, is exact, so FMA
          // contraction cannot change the bits.
          const double u = uniform01(rng);
          x[a] = dx * (static_cast<double>(idx[a]) + (static_cast<double>(s[a]) + u) / n);
        }
      }
    }

    // 2. Inside tests, in parallel over rows; only the mask depends on them.
    keep.assign(static_cast<size_t>(batch * ppc), 0);
#pragma omp parallel for schedule(dynamic, 1)
    for (std::int64_t r = 0; r < batch_row_count; ++r) {
      CellClass previous = CellClass::kMixed;
      for (std::int64_t c = r * row_length; c < (r + 1) * row_length; ++c) {
        const std::array<std::int64_t, D> idx = cell_of(first + c);
        std::array<double, D> cell_lo, cell_hi;
        for (int a = 0; a < D; ++a) {
          cell_lo[a] = dx * static_cast<double>(idx[a]);
          cell_hi[a] = dx * static_cast<double>(idx[a] + 1);
        }
        const CellClass cls = classify(cell_lo, cell_hi, previous);
        previous = cls;
        for (int k = 0; k < ppc; ++k) {
          const size_t i = static_cast<size_t>(c * ppc + k);
          keep[i] = cls == CellClass::kInside || (cls == CellClass::kMixed && contains(candidates[i]));
        }
      }
    }

    // 3. Keep, in candidate order.
    for (size_t i = 0; i < candidates.size(); ++i)
      if (keep[i]) result.push_back(candidates[i]);
  }
  return result;
}

template <int D>
auto always_mixed() {
  return [](const std::array<double, D>&, const std::array<double, D>&, CellClass) { return CellClass::kMixed; };
}

}  // namespace

std::string validate(const SamplingSettings& s) {
  if (!std::isfinite(s.dx) || !(s.dx > 0.0))
    return "dx must be a finite number > 0 (the MPM grid cell size in meters), got " + fmt(s.dx);
  if (s.particles_per_cell < 1)
    return "particles_per_cell must be >= 1 (e.g. 4 in 2D or 8 in 3D), got " +
           std::to_string(s.particles_per_cell);
  return "";
}

double particle_volume(const SamplingSettings& settings, int dim) {
  throw_if_invalid("", validate(settings));
  if (dim != 2 && dim != 3) throw std::invalid_argument("particle_volume: dim must be 2 or 3");
  const double cell = dim == 2 ? settings.dx * settings.dx : settings.dx * settings.dx * settings.dx;
  return cell / settings.particles_per_cell;
}

int stratified_subdivisions(int particles_per_cell, int dim) {
  if (particles_per_cell < 1 || dim < 1) return 0;
  const long long guess = std::llround(std::pow(static_cast<double>(particles_per_cell), 1.0 / dim));
  for (long long n = std::max(1LL, guess - 1); n <= guess + 1; ++n) {
    long long p = 1;
    for (int a = 0; a < dim; ++a) p *= n;
    if (p == particles_per_cell) return static_cast<int>(n);
  }
  return 0;
}

template <int D>
std::vector<std::array<double, D>> sample_box(const std::array<double, D>& lower,
                                              const std::array<double, D>& upper,
                                              const SamplingSettings& settings, const std::string& context) {
  static_assert(kValidDim<D>, "D must be 2 or 3");
  throw_if_invalid(context, validate(settings));
  throw_if_invalid(context, finite_error<D>(lower, "box.lower"));
  throw_if_invalid(context, finite_error<D>(upper, "box.upper"));
  for (int a = 0; a < D; ++a)
    if (!(upper[a] > lower[a]))
      throw_if_invalid(context, "box.upper[" + std::to_string(a) + "] = " + fmt(upper[a]) +
                                    " must be greater than box.lower[" + std::to_string(a) + "] = " +
                                    fmt(lower[a]) + " (a box needs a positive size on every axis)");
  auto contains = [&](const std::array<double, D>& x) {
    for (int a = 0; a < D; ++a)
      if (x[a] < lower[a] || x[a] > upper[a]) return false;
    return true;
  };
  return sample_region<D>(lower, upper, settings, context, always_mixed<D>(), contains);
}

template <int D>
std::vector<std::array<double, D>> sample_sphere(const std::array<double, D>& center, double radius,
                                                 const SamplingSettings& settings, const std::string& context) {
  static_assert(kValidDim<D>, "D must be 2 or 3");
  throw_if_invalid(context, validate(settings));
  throw_if_invalid(context, finite_error<D>(center, "sphere.center"));
  throw_if_invalid(context, positive_error(radius, "sphere.radius"));
  std::array<double, D> lower, upper;
  for (int a = 0; a < D; ++a) {
    lower[a] = center[a] - radius;
    upper[a] = center[a] + radius;
  }
  const double r2 = radius * radius;
  auto contains = [&](const std::array<double, D>& x) {
    double d2 = 0.0;
    for (int a = 0; a < D; ++a) d2 += (x[a] - center[a]) * (x[a] - center[a]);
    return d2 <= r2;
  };
  return sample_region<D>(lower, upper, settings, context, always_mixed<D>(), contains);
}

template <int D>
std::vector<std::array<double, D>> sample_cylinder(const std::array<double, D>& center, double radius,
                                                   double height, int axis, const SamplingSettings& settings,
                                                   const std::string& context) {
  static_assert(kValidDim<D>, "D must be 2 or 3");
  if constexpr (D == 2) {
    (void)center, (void)radius, (void)height, (void)axis, (void)settings;
    throw_if_invalid(context,
                     "a cylinder is a 3D shape; in a 2D scene use a box (a rectangle) or a sphere (a disk)");
    return {};
  } else {
    throw_if_invalid(context, validate(settings));
    throw_if_invalid(context, finite_error<D>(center, "cylinder.center"));
    throw_if_invalid(context, positive_error(radius, "cylinder.radius"));
    throw_if_invalid(context, positive_error(height, "cylinder.height"));
    if (axis < 0 || axis > 2)
      throw_if_invalid(context, "cylinder.axis must be 0 (x), 1 (y) or 2 (z), got " + std::to_string(axis));
    std::array<double, D> lower, upper;
    for (int a = 0; a < D; ++a) {
      const double half = a == axis ? 0.5 * height : radius;
      lower[a] = center[a] - half;
      upper[a] = center[a] + half;
    }
    const double r2 = radius * radius;
    auto contains = [&](const std::array<double, D>& x) {
      double d2 = 0.0;
      for (int a = 0; a < D; ++a)
        if (a != axis) d2 += (x[a] - center[a]) * (x[a] - center[a]);
      return d2 <= r2 && x[axis] >= lower[axis] && x[axis] <= upper[axis];
    };
    return sample_region<D>(lower, upper, settings, context, always_mixed<D>(), contains);
  }
}

template <int D>
std::vector<std::array<double, D>> sample_mesh(const TriangleMesh& mesh, const SamplingSettings& settings,
                                               const std::string& context) {
  static_assert(kValidDim<D>, "D must be 2 or 3");
  if constexpr (D == 2) {
    (void)mesh, (void)settings;
    throw_if_invalid(context,
                     "a triangle mesh is a 3D shape; in a 2D scene use a box (a rectangle) or a sphere (a disk)");
    return {};
  } else {
    throw_if_invalid(context, validate(settings));
    validate_closed_manifold(mesh, context.empty() ? "mesh" : context);
    const WindingNumberTree tree(mesh);
    const Aabb3& box = tree.bounds();
    // A cell no triangle touches lies entirely inside or entirely outside a
    // closed surface (the winding number only jumps across the surface), and
    // so does its union with an untouched neighbour: such a cell takes the
    // neighbour's class without evaluating w.
    auto classify = [&](const std::array<double, 3>& lo, const std::array<double, 3>& hi, CellClass previous) {
      if (tree.box_touches_surface(lo, hi)) return CellClass::kMixed;
      if (previous != CellClass::kMixed) return previous;
      const std::array<double, 3> mid{0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]), 0.5 * (lo[2] + hi[2])};
      return tree.contains(mid) ? CellClass::kInside : CellClass::kOutside;
    };
    auto contains = [&](const std::array<double, 3>& x) { return tree.contains(x); };
    return sample_region<3>(box.lower, box.upper, settings, context, classify, contains);
  }
}

#define PL_SAMPLING_INSTANTIATE(D)                                                                     \
  template std::vector<std::array<double, D>> sample_box<D>(                                           \
      const std::array<double, D>&, const std::array<double, D>&, const SamplingSettings&,             \
      const std::string&);                                                                             \
  template std::vector<std::array<double, D>> sample_sphere<D>(                                        \
      const std::array<double, D>&, double, const SamplingSettings&, const std::string&);              \
  template std::vector<std::array<double, D>> sample_cylinder<D>(                                      \
      const std::array<double, D>&, double, double, int, const SamplingSettings&, const std::string&); \
  template std::vector<std::array<double, D>> sample_mesh<D>(const TriangleMesh&, const SamplingSettings&, \
                                                             const std::string&);
PL_SAMPLING_INSTANTIATE(2)
PL_SAMPLING_INSTANTIATE(3)
#undef PL_SAMPLING_INSTANTIATE

}  // namespace pl
