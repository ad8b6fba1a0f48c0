// Tetrahedral meshes: the plain data a tet body is built from, its checks, the
// procedural meshes (boxes, cylinders) and the file readers (tet_mesh_io.cpp).
//
// Usage:
//   pl::fem::TetMesh beam = pl::fem::make_box_mesh({0, 0, 0}, {1, 0.1, 0.1}, {40, 4, 4});
//   pl::fem::TetMesh part = pl::fem::read_tet_mesh("assets/tets/cube.msh");  // or .node (+ .ele)
// Every producer ends with check_tet_mesh, so a mesh that reaches a world has
// in-range indices, finite coordinates and positively oriented tets of nonzero
// volume.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace pl::fem {

struct TetMesh {
  std::vector<std::array<double, 3>> vertices;  // rest positions [m]
  std::vector<std::array<int, 4>> tets;         // 0-based vertex indices
  std::string source;                           // file name or "box(...)" for messages
};

/// Validates `mesh` in place: throws pl::InputError naming mesh.source and the
/// offending tet/vertex for out-of-range or repeated indices, non-finite
/// coordinates and rest volumes below `min_relative_volume` times the mean
/// (a degenerate tet); tets with negative orientation are reordered (two
/// vertices swapped), since files from different meshers disagree on it.
void check_tet_mesh(TetMesh& mesh, double min_relative_volume = 1e-10);

/// Signed rest volume of tet t (det[x1-x0, x2-x0, x3-x0] / 6).
double tet_rest_volume(const TetMesh& mesh, std::size_t t);

/// Axis-aligned box [lo, hi] cut into cells[0] x cells[1] x cells[2] cubes, each
/// split into 6 tets around its main diagonal (Kuhn/Freudenthal split: every
/// cube uses the same diagonal, so faces of neighbours match).
TetMesh make_box_mesh(const std::array<double, 3>& lo, const std::array<double, 3>& hi,
                      const std::array<int, 3>& cells);

/// Solid cylinder along +z from `base` (centre of the bottom disk), radius r,
/// height h: a box mesh of the square [-1, 1]^2 x [0, 1] with radial_cells
/// cells across and axial_cells along, its cross-section mapped onto the disk
/// by the elliptical grid mapping x' = x sqrt(1 - y^2/2), y' = y sqrt(1 - x^2/2)
/// (a smooth bijection of the square onto the disk).
TetMesh make_cylinder_mesh(const std::array<double, 3>& base, double radius, double height, int radial_cells,
                           int axial_cells);

/// Reads a tet mesh by extension: ".node" (TetGen; the ".ele" next to it),
/// ".ele" (the ".node" next to it) or ".msh" (Gmsh ASCII v2.2 or v4.1; only
/// 4-node tetrahedra are kept, other element types are skipped).  Errors name
/// the file and line.
TetMesh read_tet_mesh(const std::string& path);
TetMesh read_tetgen(const std::string& node_path, const std::string& ele_path);
TetMesh read_gmsh(const std::string& path);

/// Lumped mass: each tet gives density * V / 4 to each of its vertices [kg].
std::vector<double> lumped_vertex_mass(const TetMesh& mesh, double density);

}  // namespace pl::fem
