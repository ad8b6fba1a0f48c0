// Generalized winding numbers: is a point inside a triangle mesh?
//
// The winding number of q with respect to a closed, outward-oriented surface is
// 1 inside and 0 outside; for slightly broken input (small holes, overlaps) its
// generalization degrades gracefully instead of flipping whole regions, which
// is why it is used for sign (inside/outside) rather than ray parity.
//
//   w(q) = (1 / 4pi) * sum over triangles of Omega_t(q)
//
// Sources:
//  - A. Jacobson, L. Kavan, O. Sorkine-Hornung, "Robust Inside-Outside
//    Segmentation using Generalized Winding Numbers", ACM TOG 32(4) (SIGGRAPH
//    2013): w as the sum of signed solid angles over 4 pi; inside = w > 1/2.
//  - A. Van Oosterom, J. Strackee, "The Solid Angle of a Plane Triangle", IEEE
//    Trans. Biomed. Eng. BME-30(2):125-126, 1983: with a, b, c the corners
//    relative to q,
//      tan(Omega/2) = a.(b x c) / (|a||b||c| + (a.b)|c| + (b.c)|a| + (c.a)|b|),
//    evaluated with atan2 so that Omega lands in (-2pi, 2pi].
//  - G. Barill, N. Dickson, R. Schmidt, D. Levin, A. Jacobson, "Fast Winding
//    Numbers for Soups and Clouds", ACM TOG 37(4) (SIGGRAPH 2018):
//    a bounding-volume hierarchy whose far clusters are replaced by a Taylor
//    expansion of the dipole integral (we keep terms up to second order) when
//    |q - p_cluster| > beta * r_cluster, beta = 2 by default.
//
// Typical use (sampling many points):
//   pl::WindingNumberTree tree(mesh);
//   std::vector<double> w = tree.winding_numbers(points);   // OpenMP parallel
//   bool in = tree.contains(p);
#pragma once

#include <array>
#include <vector>

#include "engine/geometry/triangle_mesh.hpp"

namespace pl {

/// Signed solid angle (steradians, in (-2pi, 2pi]) subtended at q by triangle
/// (a, b, c); positive when q sees the triangle's back (q is on the side its
/// right-hand normal points away from).  Zero when q lies on the triangle's
/// plane outside it or on one of its corners.
double triangle_solid_angle(const std::array<double, 3>& q, const std::array<double, 3>& a,
                            const std::array<double, 3>& b, const std::array<double, 3>& c);

/// Exact generalized winding number by direct summation over all triangles:
/// O(triangles) per point.  The reference for WindingNumberTree.
double winding_number(const TriangleMesh& mesh, const std::array<double, 3>& q);

/// BVH with second-order far-field expansion (Barill et al. 2018).  Immutable
/// after construction, so all queries are thread-safe.  Points closer than
/// beta * (cluster radius) to a cluster sum that cluster's triangles exactly.
/// With beta = 2 the error on the test meshes stays below 0.1 (tests compare it
/// with the exact sum), and contains() re-checks ambiguous values exactly.
class WindingNumberTree {
 public:
  /// Indices in `mesh` must be valid (see validate_closed_manifold).
  /// beta >= 1: larger is more accurate and slower; 2 follows Barill et al.
  explicit WindingNumberTree(const TriangleMesh& mesh, double beta = 2.0);

  /// Approximate w(q) (exact near the surface, far field expanded).
  double winding_number(const std::array<double, 3>& q) const;
  /// w(q) by exact summation, visiting every triangle through the tree.
  double winding_number_exact(const std::array<double, 3>& q) const;
  /// w(q) > 1/2.  When the approximation lands in the ambiguous band
  /// (0.25, 0.75), which for a closed mesh only happens at the surface or
  /// through approximation error, the exact sum decides.
  bool contains(const std::array<double, 3>& q) const;

  /// Winding numbers of many points, in parallel (OpenMP); result[i] belongs to
  /// points[i] and does not depend on the number of threads.
  std::vector<double> winding_numbers(const std::vector<std::array<double, 3>>& points) const;

  /// Conservative test: false guarantees that no triangle touches the closed
  /// box [lower, upper] (exact triangle-box overlap, Akenine-Moller 2001, on a
  /// slightly padded box), so a closed mesh's winding number is constant on it.
  bool box_touches_surface(const std::array<double, 3>& lower, const std::array<double, 3>& upper) const;

  /// Bounding box of the surface.
  const Aabb3& bounds() const { return bounds_; }
  size_t triangle_count() const { return triangles_.size(); }

 private:
  using V3 = std::array<double, 3>;
  struct Node {
    Aabb3 box;                                // of the triangles' vertices
    V3 center;                                // area-weighted centroid (expansion point)
    double radius;                            // max distance from center to a vertex
    V3 area_normal;                           // sum of area-weighted normals (dipole moment)
    std::array<std::array<double, 3>, 3> second;  // sum of (centroid_t - center) (x) area_normal_t
    int first_child;                          // -1 for a leaf; children are first_child, first_child + 1
    int begin, end;                           // triangle range in triangles_
  };
  double evaluate(const V3& q, double beta2) const;
  void build(int node, int begin, int end, std::vector<int>& order, const std::vector<V3>& centroids,
             const TriangleMesh& mesh);

  std::vector<Node> nodes_;
  std::vector<std::array<V3, 3>> triangles_;  // corner positions, in leaf order
  Aabb3 bounds_;
  double beta_;
};

}  // namespace pl
