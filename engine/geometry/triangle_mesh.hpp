// Triangle meshes on the host: OBJ loading, validation, transforms, volume.
//
// Meshes enter Pliant to seed MPM bodies (engine/mpm/sampling.hpp samples the
// interior with generalized winding numbers) and, later, as collider surfaces.
// Both need the same guarantees, checked once here with messages a user can act
// on: a closed, consistently outward-oriented surface without degenerate
// triangles.  Everything is double precision; meshes are small next to the
// particle counts they seed.
//
// Typical use:
//   pl::TriangleMesh mesh = pl::load_obj(path);          // throws pl::InputError
//   pl::validate_closed_manifold(mesh, path);             // throws pl::InputError
//   pl::MeshTransform t;
//   t.scale = pl::uniform_scale(0.2);
//   t.rotation_deg = {0, 0, 90};
//   t.translation = {0.5, 0.3, 0.5};
//   mesh = pl::transform_mesh(mesh, t, "scene.yaml: bodies[0].transform");
#pragma once

#include <array>
#include <string>
#include <vector>

namespace pl {

/// An indexed triangle mesh.  Indices are 0-based into `vertices`.  Closed
/// meshes used for sampling have triangles ordered counter-clockwise when seen
/// from outside (right-hand-rule normals point out of the solid).
struct TriangleMesh {
  std::vector<std::array<double, 3>> vertices;
  std::vector<std::array<int, 3>> triangles;
};

/// Reads a Wavefront OBJ file: `v x y z` lines (extra components such as w or
/// vertex colours are ignored) and `f` lines.  Faces with more than three
/// corners are fan-triangulated (v0 vi vi+1).  Corners may be written `i`,
/// `i/t`, `i//n` or `i/t/n`; only the position index i is used, and negative i
/// counts back from the last vertex defined so far (-1 is the latest).
/// Positive indices may refer to vertices defined later in the file.
/// Everything else (vt, vn, o, g, s, usemtl, mtllib, l, p, comments) is ignored.
/// Throws InputError "path:line: ..." for a missing/unreadable file, a malformed
/// or non-finite number, an index of 0 or out of range, a face with fewer than
/// three corners, or a file without faces.
TriangleMesh load_obj(const std::string& path);

/// Checks that `mesh` bounds a solid: every undirected edge is shared by exactly
/// two triangles that traverse it in opposite directions (closed, manifold,
/// consistently oriented), no triangle has (near-)zero area, every index is in
/// range, and the enclosed signed volume is positive (outward orientation).
/// Throws InputError naming `path` and the first offending edge or triangle
/// (1-based vertex numbers, as in the OBJ file; 0-based triangle numbers).
void validate_closed_manifold(const TriangleMesh& mesh, const std::string& path);

/// Scale, then rotate, then translate: x' = R * (S x) + t.
/// rotation_deg are Euler angles in degrees applied in the order X, Y, Z about
/// the fixed world axes, i.e. R = Rz(rz) * Ry(ry) * Rx(rx).
struct MeshTransform {
  std::array<double, 3> scale{1.0, 1.0, 1.0};         // per-axis factors (dimensionless)
  std::array<double, 3> rotation_deg{0.0, 0.0, 0.0};  // degrees
  std::array<double, 3> translation{0.0, 0.0, 0.0};   // meters
};

/// {s, s, s}: for `transform.scale = uniform_scale(s)`.
inline std::array<double, 3> uniform_scale(double s) { return {s, s, s}; }

/// "" when valid; otherwise what is wrong (non-finite entries, a zero scale).
std::string validate(const MeshTransform& transform);

/// Returns the transformed mesh.  A transform with negative determinant (an odd
/// number of negative scale factors) mirrors the mesh; the triangle order is
/// then reversed so that normals still point outward.  Throws InputError
/// (prefixed with `context`) when validate(transform) fails.
TriangleMesh transform_mesh(const TriangleMesh& mesh, const MeshTransform& transform,
                            const std::string& context = "");

/// Signed enclosed volume by the divergence theorem, sum over triangles of
/// (a . (b x c)) / 6 (taken relative to the bounding-box centre for precision).
/// Positive for closed, outward-oriented meshes; meaningless for open ones.
double mesh_volume(const TriangleMesh& mesh);

struct Aabb3 {
  std::array<double, 3> lower;
  std::array<double, 3> upper;
};

/// Bounding box of the vertices referenced by triangles (unreferenced vertices
/// do not belong to the surface).  For a mesh without triangles, lower = +inf
/// and upper = -inf.
Aabb3 bounding_box(const TriangleMesh& mesh);

}  // namespace pl
