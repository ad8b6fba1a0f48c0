#include "engine/fem/tet_surface.hpp"

#include <algorithm>
#include <map>

namespace pl::fem {

TetSurface tet_surface(const TetMesh& mesh) {
  // Face k of tet (v0 v1 v2 v3) is the one opposite vertex k, listed so that
  // it winds counter-clockwise seen from outside for a positively oriented tet
  // (det[v1-v0, v2-v0, v3-v0] > 0, which check_tet_mesh guarantees).
  static const int kFaces[4][3] = {{1, 2, 3}, {0, 3, 2}, {0, 1, 3}, {0, 2, 1}};
  std::map<std::array<int, 3>, std::pair<int, std::array<int, 3>>> faces;  // sorted key -> (count, oriented)
  for (const auto& t : mesh.tets)
    for (const auto& f : kFaces) {
      const std::array<int, 3> oriented = {t[std::size_t(f[0])], t[std::size_t(f[1])], t[std::size_t(f[2])]};
      std::array<int, 3> key = oriented;
      std::sort(key.begin(), key.end());
      auto& entry = faces[key];
      ++entry.first;
      entry.second = oriented;
    }
  TetSurface s;
  std::vector<int> surface_index(mesh.vertices.size(), -1);
  for (const auto& [key, entry] : faces) {
    if (entry.first != 1) continue;
    std::array<int, 3> tri;
    for (int c = 0; c < 3; ++c) {
      const int v = entry.second[std::size_t(c)];
      int& k = surface_index[std::size_t(v)];
      if (k < 0) {
        k = int(s.vertex.size());
        s.vertex.push_back(v);
        s.mesh.vertices.push_back(mesh.vertices[std::size_t(v)]);
      }
      tri[std::size_t(c)] = k;
    }
    s.mesh.triangles.push_back(tri);
  }
  return s;
}

}  // namespace pl::fem
