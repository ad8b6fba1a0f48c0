// Mesh checks, procedural boxes and cylinders, lumped mass (see tet_mesh.hpp).
#include "engine/fem/tet_mesh.hpp"

#include <cmath>
#include <sstream>
#include <utility>

#include "engine/core/error.hpp"

namespace pl::fem {

double tet_rest_volume(const TetMesh& mesh, std::size_t t) {
  const auto& v = mesh.tets[t];
  const auto& x0 = mesh.vertices[std::size_t(v[0])];
  double e[3][3];
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < 3; ++r) e[r][c] = mesh.vertices[std::size_t(v[c + 1])][r] - x0[r];
  const double det = e[0][0] * (e[1][1] * e[2][2] - e[1][2] * e[2][1]) -
                     e[0][1] * (e[1][0] * e[2][2] - e[1][2] * e[2][0]) +
                     e[0][2] * (e[1][0] * e[2][1] - e[1][1] * e[2][0]);
  return det / 6.0;
}

void check_tet_mesh(TetMesh& mesh, double min_relative_volume) {
  const std::string& src = mesh.source;
  if (mesh.tets.empty()) throw InputError(src + ": the mesh has no tetrahedra (expected at least one 4-node tet)");
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i)
    for (double c : mesh.vertices[i])
      if (!std::isfinite(c)) {
        std::ostringstream os;
        os << src << ": vertex " << i << " has a non-finite coordinate";
        throw InputError(os.str());
      }
  const long n = long(mesh.vertices.size());
  for (std::size_t t = 0; t < mesh.tets.size(); ++t) {
    const auto& v = mesh.tets[t];
    for (int a = 0; a < 4; ++a) {
      if (v[a] < 0 || v[a] >= n) {
        std::ostringstream os;
        os << src << ": tet " << t << " refers to vertex " << v[a] << ", expected 0 <= index < " << n;
        throw InputError(os.str());
      }
      for (int b = 0; b < a; ++b)
        if (v[a] == v[b]) {
          std::ostringstream os;
          os << src << ": tet " << t << " uses vertex " << v[a] << " twice (expected 4 distinct vertices)";
          throw InputError(os.str());
        }
    }
  }
  double total = 0;
  for (std::size_t t = 0; t < mesh.tets.size(); ++t) total += std::abs(tet_rest_volume(mesh, t));
  const double mean = total / double(mesh.tets.size());
  for (std::size_t t = 0; t < mesh.tets.size(); ++t) {
    const double vol = tet_rest_volume(mesh, t);
    if (!(std::abs(vol) > min_relative_volume * mean)) {
      std::ostringstream os;
      os << src << ": tet " << t << " is degenerate (rest volume " << vol << " m^3, mean " << mean
         << "); expected non-coplanar vertices";
      throw InputError(os.str());
    }
    if (vol < 0) std::swap(mesh.tets[t][2], mesh.tets[t][3]);
  }
}

TetMesh make_box_mesh(const std::array<double, 3>& lo, const std::array<double, 3>& hi,
                      const std::array<int, 3>& cells) {
  std::ostringstream name;
  name << "box([" << lo[0] << ", " << lo[1] << ", " << lo[2] << "], [" << hi[0] << ", " << hi[1] << ", " << hi[2]
       << "], " << cells[0] << "x" << cells[1] << "x" << cells[2] << ")";
  for (int a = 0; a < 3; ++a) {
    if (cells[a] < 1) throw InputError(name.str() + ": cells must be >= 1 along every axis");
    if (!(hi[a] > lo[a])) throw InputError(name.str() + ": expected hi > lo along every axis");
  }
  TetMesh m;
  m.source = name.str();
  const int nx = cells[0] + 1, ny = cells[1] + 1, nz = cells[2] + 1;
  auto id = [&](int i, int j, int k) { return i + nx * (j + ny * k); };
  m.vertices.reserve(std::size_t(nx) * ny * nz);
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i)
        m.vertices.push_back({lo[0] + (hi[0] - lo[0]) * i / cells[0], lo[1] + (hi[1] - lo[1]) * j / cells[1],
                              lo[2] + (hi[2] - lo[2]) * k / cells[2]});
  // The 6 monotone paths from corner (0,0,0) to (1,1,1), one per axis order.
  static const int kOrders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (int k = 0; k < cells[2]; ++k)
    for (int j = 0; j < cells[1]; ++j)
      for (int i = 0; i < cells[0]; ++i)
        for (const auto& order : kOrders) {
          int c[3] = {0, 0, 0};
          std::array<int, 4> t;
          t[0] = id(i, j, k);
          for (int s = 0; s < 3; ++s) {
            c[order[s]] = 1;
            t[std::size_t(s + 1)] = id(i + c[0], j + c[1], k + c[2]);
          }
          m.tets.push_back(t);
        }
  check_tet_mesh(m);
  return m;
}

TetMesh make_cylinder_mesh(const std::array<double, 3>& base, double radius, double height, int radial_cells,
                           int axial_cells) {
  if (!(radius > 0) || !(height > 0))
    throw InputError("cylinder mesh: expected radius > 0 and height > 0");
  TetMesh m = make_box_mesh({-1, -1, 0}, {1, 1, 1}, {radial_cells, radial_cells, axial_cells});
  for (auto& p : m.vertices) {
    const double x = p[0], y = p[1];
    p[0] = base[0] + radius * x * std::sqrt(1 - 0.5 * y * y);
    p[1] = base[1] + radius * y * std::sqrt(1 - 0.5 * x * x);
    p[2] = base[2] + height * p[2];
  }
  std::ostringstream name;
  name << "cylinder(r=" << radius << ", h=" << height << ", " << radial_cells << "x" << axial_cells << ")";
  m.source = name.str();
  check_tet_mesh(m);
  return m;
}

std::vector<double> lumped_vertex_mass(const TetMesh& mesh, double density) {
  std::vector<double> mass(mesh.vertices.size(), 0.0);
  for (std::size_t t = 0; t < mesh.tets.size(); ++t) {
    const double share = density * std::abs(tet_rest_volume(mesh, t)) / 4.0;
    for (int v : mesh.tets[t]) mass[std::size_t(v)] += share;
  }
  return mass;
}

}  // namespace pl::fem
