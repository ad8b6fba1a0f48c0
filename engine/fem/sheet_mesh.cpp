#include "engine/fem/sheet_mesh.hpp"

#include <cmath>
#include <map>
#include <sstream>
#include <utility>

#include "engine/core/error.hpp"

namespace pl::fem {
namespace {

using P3 = std::array<double, 3>;

P3 sub(const P3& a, const P3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
P3 cross3(const P3& a, const P3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double norm3(const P3& a) { return std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]); }
bool finite3(const P3& a) { return std::isfinite(a[0]) && std::isfinite(a[1]) && std::isfinite(a[2]); }

double triangle_area(const TriangleMesh& mesh, const std::array<int, 3>& t) {
  const P3& a = mesh.vertices[std::size_t(t[0])];
  return 0.5 * norm3(cross3(sub(mesh.vertices[std::size_t(t[1])], a), sub(mesh.vertices[std::size_t(t[2])], a)));
}

}  // namespace

TriangleMesh make_rectangular_sheet(const P3& origin, const P3& edge_u, const P3& edge_v, int cells_u, int cells_v,
                                    const std::string& context) {
  if (cells_u < 1 || cells_v < 1) {
    std::ostringstream msg;
    msg << context << ": cells " << cells_u << " x " << cells_v << ": expected at least 1 x 1";
    throw InputError(msg.str());
  }
  if (!finite3(origin) || !finite3(edge_u) || !finite3(edge_v))
    throw InputError(context + ": origin and edge vectors must be finite");
  const double nu = norm3(edge_u), nv = norm3(edge_v);
  if (!(norm3(cross3(edge_u, edge_v)) > 1e-12 * nu * nv) || nu == 0 || nv == 0)
    throw InputError(context + ": edge vectors must be non-zero and not parallel");
  TriangleMesh mesh;
  const int stride = cells_u + 1;
  mesh.vertices.reserve(std::size_t(stride) * std::size_t(cells_v + 1));
  for (int j = 0; j <= cells_v; ++j)
    for (int i = 0; i <= cells_u; ++i) {
      const double s = double(i) / cells_u, t = double(j) / cells_v;
      mesh.vertices.push_back({origin[0] + s * edge_u[0] + t * edge_v[0], origin[1] + s * edge_u[1] + t * edge_v[1],
                               origin[2] + s * edge_u[2] + t * edge_v[2]});
    }
  mesh.triangles.reserve(2 * std::size_t(cells_u) * std::size_t(cells_v));
  for (int j = 0; j < cells_v; ++j)
    for (int i = 0; i < cells_u; ++i) {
      const int a = i + stride * j, b = a + 1, c = b + stride, d = a + stride;
      if (j % 2 == 0) {
        mesh.triangles.push_back({a, b, c});
        mesh.triangles.push_back({a, c, d});
      } else {
        mesh.triangles.push_back({a, b, d});
        mesh.triangles.push_back({b, c, d});
      }
    }
  return mesh;
}

void validate_sheet_mesh(const TriangleMesh& mesh, const std::string& context) {
  const int nv = int(mesh.vertices.size());
  if (mesh.triangles.empty()) throw InputError(context + ": the shell mesh has no triangles");
  for (int v = 0; v < nv; ++v)
    if (!finite3(mesh.vertices[std::size_t(v)])) {
      std::ostringstream msg;
      msg << context << ": vertex " << v + 1 << " has a non-finite coordinate";
      throw InputError(msg.str());
    }
  std::vector<char> used(std::size_t(nv), 0);
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t)
    for (int k = 0; k < 3; ++k) {
      const int v = mesh.triangles[t][std::size_t(k)];
      if (v < 0 || v >= nv) {
        std::ostringstream msg;
        msg << context << ": triangle " << t << " refers to vertex " << v + 1 << ", expected 1.." << nv;
        throw InputError(msg.str());
      }
      used[std::size_t(v)] = 1;
    }
  const Aabb3 box = bounding_box(mesh);
  const double diag = norm3(sub(box.upper, box.lower));
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t) {
    const auto& tri = mesh.triangles[t];
    if (tri[0] == tri[1] || tri[1] == tri[2] || tri[0] == tri[2] || !(triangle_area(mesh, tri) > 1e-12 * diag * diag)) {
      std::ostringstream msg;
      msg << context << ": triangle " << t << " (vertices " << tri[0] + 1 << ", " << tri[1] + 1 << ", " << tri[2] + 1
          << ") has (nearly) zero area; a shell triangle needs a non-degenerate rest shape";
      throw InputError(msg.str());
    }
  }
  for (int v = 0; v < nv; ++v)
    if (!used[std::size_t(v)]) {
      std::ostringstream msg;
      msg << context << ": vertex " << v + 1 << " belongs to no triangle (it would have no mass); remove it";
      throw InputError(msg.str());
    }
  // Directed edge (a, b) -> triangle; an undirected edge with a repeated
  // direction is inconsistently oriented, one with three or more triangles is
  // non-manifold.
  std::map<std::pair<int, int>, int> directed;
  std::map<std::pair<int, int>, int> count;
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t)
    for (int k = 0; k < 3; ++k) {
      const int a = mesh.triangles[t][std::size_t(k)], b = mesh.triangles[t][std::size_t((k + 1) % 3)];
      const std::pair<int, int> key{std::min(a, b), std::max(a, b)};
      if (++count[key] > 2) {
        std::ostringstream msg;
        msg << context << ": edge (" << key.first + 1 << ", " << key.second + 1
            << ") is shared by more than two triangles (non-manifold); a shell hinge needs exactly two";
        throw InputError(msg.str());
      }
      const auto inserted = directed.emplace(std::make_pair(a, b), int(t));
      if (!inserted.second) {
        std::ostringstream msg;
        msg << context << ": triangles " << inserted.first->second << " and " << t << " traverse edge (" << a + 1 << ", "
            << b + 1 << ") in the same direction (inconsistent orientation); flip one of them";
        throw InputError(msg.str());
      }
    }
}

TriangleMesh load_sheet_obj(const std::string& path) {
  TriangleMesh mesh = load_obj(path);
  validate_sheet_mesh(mesh, path);
  return mesh;
}

std::vector<double> lumped_sheet_masses(const TriangleMesh& mesh, double areal_density) {
  if (!(areal_density > 0) || !std::isfinite(areal_density)) {
    std::ostringstream msg;
    msg << "areal density " << areal_density << " kg/m^2: expected a positive finite value";
    throw InputError(msg.str());
  }
  std::vector<double> mass(mesh.vertices.size(), 0.0);
  for (const auto& t : mesh.triangles) {
    const double third = areal_density * triangle_area(mesh, t) / 3.0;
    for (int k = 0; k < 3; ++k) mass[std::size_t(t[std::size_t(k)])] += third;
  }
  return mass;
}

}  // namespace pl::fem
