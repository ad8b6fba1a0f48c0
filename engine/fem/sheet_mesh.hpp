// Triangle meshes for thin shells: procedural rectangular sheets, OBJ sheets
// from assets/, validation of what a shell needs, and lumped masses.
//
// A shell mesh need not be closed (cloth and paper have borders), so the
// closed-manifold check of engine/geometry/triangle_mesh.hpp does not apply.
// What the shell terms need instead: every triangle has area, every edge has
// one or two triangles (a hinge needs exactly two), the two triangles of an
// edge traverse it in opposite directions (consistent orientation: the signed
// dihedral angle would otherwise flip), and every vertex belongs to a triangle
// (a vertex without triangles would have no mass).
//
// Usage:
//   pl::TriangleMesh sheet = pl::fem::make_rectangular_sheet({0, 0, 1}, {0.3, 0, 0}, {0, 0.2, 0}, 30, 20);
//   pl::TriangleMesh paper = pl::fem::load_sheet_obj("assets/shells/paper_strip.obj");  // throws InputError
//   std::vector<double> m = pl::fem::lumped_sheet_masses(sheet, 0.08);  // 80 g/m² paper
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/geometry/triangle_mesh.hpp"

namespace pl::fem {

/// A parallelogram sheet origin + s edge_u + t edge_v (s, t in [0, 1]) with
/// (cells_u + 1) x (cells_v + 1) vertices, vertex (i, j) at index
/// i + (cells_u + 1) j.  Cells in even rows j are split along the diagonal
/// (i, j)-(i + 1, j + 1), cells in odd rows along (i + 1, j)-(i, j + 1).  Why
/// alternate: with all diagonals parallel, discrete-shell hinges admit
/// zig-zag relaxation modes that make the sheet 30-70 % too soft in bending
/// (a cantilever plate deflected 1.3-1.7x the plate-theory value, depending on
/// the cell aspect ratio); alternating rows frustrate those modes and the
/// deflection converges to plate theory under refinement
/// (test_shell_sheet_physics.cpp).  Normals point along edge_u × edge_v.
/// Throws InputError
/// (prefixed with `context`) for fewer than one cell, non-finite or parallel
/// edge vectors.
TriangleMesh make_rectangular_sheet(const std::array<double, 3>& origin, const std::array<double, 3>& edge_u,
                                    const std::array<double, 3>& edge_v, int cells_u, int cells_v,
                                    const std::string& context = "rectangular sheet");

/// Throws InputError naming `context` (a file name or a description) and the
/// first offending triangle / edge / vertex unless the mesh is a valid shell:
/// indices in range, triangles with area above 1e-12 of the squared bounding
/// box diagonal, at most two triangles per edge, consistent orientation, no
/// vertex outside every triangle.  Vertex numbers in messages are 1-based as in
/// OBJ files, triangle numbers 0-based.
void validate_sheet_mesh(const TriangleMesh& mesh, const std::string& context);

/// load_obj (engine/geometry/triangle_mesh.hpp) followed by validate_sheet_mesh.
TriangleMesh load_sheet_obj(const std::string& path);

/// Lumped masses [kg]: each triangle gives a third of areal_density * area to
/// each of its vertices.  areal_density in kg/m² (density x thickness).
/// Throws InputError for a non-positive or non-finite areal density.
std::vector<double> lumped_sheet_masses(const TriangleMesh& mesh, double areal_density);

}  // namespace pl::fem
