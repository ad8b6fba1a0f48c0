// Triangle-mesh tools: the mesh is turned once, at load, into a signed
// distance grid in the tool's local frame, which kernels sample
// trilinearly (kernels/coupling/sdf_grid.hpp).
//
// Narrow band: exact point-triangle distances are computed only for grid
// samples within `band_cells` cells of a triangle (each triangle visits the
// samples of its padded bounding box), so the cost grows with the surface
// area, not the volume; farther samples hold +-(band_cells * spacing), which
// is all the collision needs (only the sign and the zero level set matter
// there).  The sign comes from generalized winding numbers (Jacobson et al.
// 2013, engine/geometry/winding_number.hpp), robust to the small defects that
// flip ray-parity tests.  The grid extends band_cells cells beyond the mesh's
// bounding box.
//
// Closed meshes only, unless open_mesh is set: then the field is the unsigned
// distance minus `thickness` (a shell of that half-thickness around the
// surface), for sheets such as a spatula blade modelled as one surface.
// Point-triangle distance: closest point by Voronoi regions (Ericson,
// "Real-Time Collision Detection", 2005, Sec. 5.1.5).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/geometry/triangle_mesh.hpp"
#include "kernels/coupling/sdf_grid.hpp"

namespace pl {

struct MeshSdfOptions {
  double spacing = 0;     // grid spacing [m]; > 0
  int band_cells = 4;     // narrow band half-width [cells]; >= 2
  bool open_mesh = false;  // unsigned distance minus `thickness` instead of a signed field
  double thickness = 0;   // [m], open meshes only; > 0 there
};

struct MeshSdf {
  std::vector<double> values;  // res[0] * res[1] * res[2], x fastest [m]
  std::array<int, 3> res{};
  std::array<double, 3> origin{};  // local position of sample 0 [m]
  double spacing = 0;
  SdfGridView<double> view() const;
};

/// Builds the field of `mesh` (already in the tool's local frame: scaled, and
/// placed relative to the tool origin).  Throws InputError prefixed with
/// `context` for bad options, a mesh that is not closed (unless open_mesh;
/// the message says how to opt in), or a grid above 16M samples.
MeshSdf build_mesh_sdf(const TriangleMesh& mesh, const MeshSdfOptions& options, const std::string& context);

/// Distance from p to triangle (a, b, c).
double point_triangle_distance(const std::array<double, 3>& p, const std::array<double, 3>& a,
                               const std::array<double, 3>& b, const std::array<double, 3>& c);

}  // namespace pl
