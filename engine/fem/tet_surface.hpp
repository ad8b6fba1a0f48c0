// The boundary surface of a tet mesh: the triangles that belong to exactly one
// tet, oriented outward.  What renderers, PLY/OBJ output and SDF colliders of a
// soft body need (the interior of a tet body is never seen or touched).
//
// Usage:
//   TetSurface s = tet_surface(mesh);
//   s.mesh.vertices[k] is mesh vertex s.vertex[k]; update it from a world with
//   update_surface_positions(s, world.positions().data(), first_vertex).
#pragma once

#include <vector>

#include "engine/fem/tet_mesh.hpp"
#include "engine/geometry/triangle_mesh.hpp"

namespace pl::fem {

struct TetSurface {
  TriangleMesh mesh;        // compact: only boundary vertices, rest positions
  std::vector<int> vertex;  // mesh vertex index of each surface vertex
};

/// Faces shared by two tets are interior; the others form the boundary,
/// oriented so that the normal points away from their tet (outward).
TetSurface tet_surface(const TetMesh& mesh);

/// Copies current positions x[3 * (first_vertex + vertex[k]) + axis] into the surface.
template <class Real>
void update_surface_positions(TetSurface& s, const Real* x, int first_vertex) {
  for (std::size_t k = 0; k < s.vertex.size(); ++k)
    for (int d = 0; d < 3; ++d)
      s.mesh.vertices[k][std::size_t(d)] = double(x[3 * (std::size_t(first_vertex) + std::size_t(s.vertex[k])) + std::size_t(d)]);
}

}  // namespace pl::fem
