#include "engine/coupling/mesh_sdf.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/geometry/winding_number.hpp"

namespace pl {

namespace {
using V3 = std::array<double, 3>;
V3 sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot3(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
V3 axpy(double s, const V3& x, const V3& y) { return {y[0] + s * x[0], y[1] + s * x[1], y[2] + s * x[2]}; }
}  // namespace

SdfGridView<double> MeshSdf::view() const {
  SdfGridView<double> g;
  g.values = values.data();
  for (int a = 0; a < 3; ++a) g.res[a] = res[a], g.origin[a] = origin[a];
  g.spacing = spacing;
  return g;
}

// Ericson 2005, Sec. 5.1.5: test the Voronoi regions of the corners, then the
// edges, else the face.
double point_triangle_distance(const V3& p, const V3& a, const V3& b, const V3& c) {
  const V3 ab = sub(b, a), ac = sub(c, a), ap = sub(p, a);
  const double d1 = dot3(ab, ap), d2 = dot3(ac, ap);
  V3 q;
  if (d1 <= 0 && d2 <= 0) {
    q = a;
  } else {
    const V3 bp = sub(p, b);
    const double d3 = dot3(ab, bp), d4 = dot3(ac, bp);
    const V3 cp = sub(p, c);
    const double d5 = dot3(ab, cp), d6 = dot3(ac, cp);
    const double vc = d1 * d4 - d3 * d2, vb = d5 * d2 - d1 * d6, va = d3 * d6 - d5 * d4;
    if (d3 >= 0 && d4 <= d3) {
      q = b;
    } else if (d6 >= 0 && d5 <= d6) {
      q = c;
    } else if (vc <= 0 && d1 >= 0 && d3 <= 0) {
      q = axpy(d1 / (d1 - d3), ab, a);
    } else if (vb <= 0 && d2 >= 0 && d6 <= 0) {
      q = axpy(d2 / (d2 - d6), ac, a);
    } else if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0) {
      q = axpy((d4 - d3) / ((d4 - d3) + (d5 - d6)), sub(c, b), b);
    } else {
      const double denom = 1.0 / (va + vb + vc);
      q = axpy(vc * denom, ac, axpy(vb * denom, ab, a));
    }
  }
  const V3 d = sub(p, q);
  return std::sqrt(dot3(d, d));
}

MeshSdf build_mesh_sdf(const TriangleMesh& mesh, const MeshSdfOptions& options, const std::string& context) {
  if (!(options.spacing > 0) || !std::isfinite(options.spacing))
    throw InputError(context + ": the distance-field spacing must be positive, got " + std::to_string(options.spacing));
  if (options.band_cells < 2) throw InputError(context + ": band_cells must be >= 2");
  if (options.open_mesh && !(options.thickness > 0))
    throw InputError(context + ": an open mesh needs a positive thickness [m] (the half-thickness of the sheet)");
  if (!options.open_mesh) {
    try {
      validate_closed_manifold(mesh, context);
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) +
                       " (a tool mesh must be closed to have an inside; for a sheet, set open_mesh: true and a thickness)");
    }
  }
  if (mesh.triangles.empty()) throw InputError(context + ": the mesh has no triangles");
  const Aabb3 box = bounding_box(mesh);
  MeshSdf sdf;
  sdf.spacing = options.spacing;
  const double pad = (options.band_cells + 1) * options.spacing + options.thickness;
  std::size_t total = 1;
  for (int a = 0; a < 3; ++a) {
    sdf.origin[a] = box.lower[a] - pad;
    sdf.res[a] = int(std::ceil((box.upper[a] + pad - sdf.origin[a]) / options.spacing)) + 1;
    total *= std::size_t(sdf.res[a]);
  }
  if (total > (std::size_t(1) << 24)) {
    std::ostringstream os;
    os << context << ": the distance field would have " << sdf.res[0] << " x " << sdf.res[1] << " x " << sdf.res[2]
       << " samples (limit 16M); use a coarser spacing than " << options.spacing << " m";
    throw InputError(os.str());
  }
  const double band = options.band_cells * options.spacing;
  std::vector<double> dist(total, band);
  auto sample = [&](int i, int j, int k) -> V3 {
    return {sdf.origin[0] + i * sdf.spacing, sdf.origin[1] + j * sdf.spacing, sdf.origin[2] + k * sdf.spacing};
  };
  auto index = [&](int i, int j, int k) { return std::size_t(i) + std::size_t(sdf.res[0]) * (std::size_t(j) + std::size_t(sdf.res[1]) * std::size_t(k)); };
  // Narrow band: each triangle updates the samples of its padded bounding box.
  for (const auto& t : mesh.triangles) {
    const V3& a = mesh.vertices[std::size_t(t[0])];
    const V3& b = mesh.vertices[std::size_t(t[1])];
    const V3& c = mesh.vertices[std::size_t(t[2])];
    int lo[3], hi[3];
    for (int ax = 0; ax < 3; ++ax) {
      const double mn = std::min({a[ax], b[ax], c[ax]}) - band, mx = std::max({a[ax], b[ax], c[ax]}) + band;
      lo[ax] = std::max(0, int(std::floor((mn - sdf.origin[ax]) / sdf.spacing)));
      hi[ax] = std::min(sdf.res[ax] - 1, int(std::ceil((mx - sdf.origin[ax]) / sdf.spacing)));
    }
    for (int k = lo[2]; k <= hi[2]; ++k)
      for (int j = lo[1]; j <= hi[1]; ++j)
        for (int i = lo[0]; i <= hi[0]; ++i) {
          double& d = dist[index(i, j, k)];
          d = std::min(d, point_triangle_distance(sample(i, j, k), a, b, c));
        }
  }
  sdf.values.resize(total);
  if (options.open_mesh) {
    for (std::size_t n = 0; n < total; ++n) sdf.values[n] = dist[n] - options.thickness;
    return sdf;
  }
  // Sign from the winding number, for every sample (inside: w > 1/2).
  std::vector<V3> points;
  points.reserve(total);
  for (int k = 0; k < sdf.res[2]; ++k)
    for (int j = 0; j < sdf.res[1]; ++j)
      for (int i = 0; i < sdf.res[0]; ++i) points.push_back(sample(i, j, k));
  const WindingNumberTree tree(mesh);
  const std::vector<double> w = tree.winding_numbers(points);
  for (std::size_t n = 0; n < total; ++n) sdf.values[n] = w[n] > 0.5 ? -dist[n] : dist[n];
  return sdf;
}

}  // namespace pl
