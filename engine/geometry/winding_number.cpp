// Generalized winding numbers; sources are listed in winding_number.hpp.
#include "engine/geometry/winding_number.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

namespace pl {
namespace {

using V3 = std::array<double, 3>;

constexpr double kFourPi = 4.0 * 3.14159265358979323846;
constexpr int kLeafSize = 8;
constexpr int kMaxStack = 128;  // median splits keep the depth near log2(n / kLeafSize)

V3 sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
V3 cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const V3& a) { return std::sqrt(dot(a, a)); }

// Triangle / axis-aligned box overlap by the separating axis theorem:
// T. Akenine-Moller, "Fast 3D Triangle-Box Overlap Testing", Journal of
// Graphics Tools 6(1), 2001.  Candidate axes: the 3 box normals, the triangle
// normal and the 9 cross products of box normals with triangle edges.  The box
// is given by its centre and half sizes; callers pad it, so rounding can only
// report an overlap that is not there (which costs time, never correctness).
bool triangle_box_overlap(const V3& center, const V3& half, const std::array<V3, 3>& tri) {
  const V3 v[3] = {sub(tri[0], center), sub(tri[1], center), sub(tri[2], center)};
  for (int a = 0; a < 3; ++a) {  // box normals
    if (std::min({v[0][a], v[1][a], v[2][a]}) > half[a]) return false;
    if (std::max({v[0][a], v[1][a], v[2][a]}) < -half[a]) return false;
  }
  const V3 edges[3] = {sub(v[1], v[0]), sub(v[2], v[1]), sub(v[0], v[2])};
  auto separated = [&](const V3& axis) {
    const double p0 = dot(axis, v[0]), p1 = dot(axis, v[1]), p2 = dot(axis, v[2]);
    const double r = half[0] * std::abs(axis[0]) + half[1] * std::abs(axis[1]) + half[2] * std::abs(axis[2]);
    return std::min({p0, p1, p2}) > r || std::max({p0, p1, p2}) < -r;
  };
  for (const V3& e : edges)
    for (int a = 0; a < 3; ++a) {
      V3 unit{0.0, 0.0, 0.0};
      unit[a] = 1.0;
      if (separated(cross(unit, e))) return false;
    }
  return !separated(cross(edges[0], edges[1]));  // triangle plane
}

}  // namespace

double triangle_solid_angle(const V3& q, const V3& a0, const V3& b0, const V3& c0) {
  // Van Oosterom & Strackee (1983): tan(Omega/2) = num / den, via atan2.
  const V3 a = sub(a0, q), b = sub(b0, q), c = sub(c0, q);
  const double la = norm(a), lb = norm(b), lc = norm(c);
  const double numerator = dot(a, cross(b, c));
  const double denominator = la * lb * lc + dot(a, b) * lc + dot(b, c) * la + dot(c, a) * lb;
  return 2.0 * std::atan2(numerator, denominator);
}

double winding_number(const TriangleMesh& mesh, const V3& q) {
  double omega = 0.0;
  for (const auto& t : mesh.triangles)
    omega += triangle_solid_angle(q, mesh.vertices[t[0]], mesh.vertices[t[1]], mesh.vertices[t[2]]);
  return omega / kFourPi;
}

WindingNumberTree::WindingNumberTree(const TriangleMesh& mesh, double beta)
    : bounds_(bounding_box(mesh)), beta_(std::max(beta, 1.0)) {
  const int n = static_cast<int>(mesh.triangles.size());
  if (n == 0) return;
  std::vector<V3> centroids(n);
  for (int t = 0; t < n; ++t) {
    const auto& tri = mesh.triangles[t];
    for (int a = 0; a < 3; ++a)
      centroids[t][a] =
          (mesh.vertices[tri[0]][a] + mesh.vertices[tri[1]][a] + mesh.vertices[tri[2]][a]) / 3.0;
  }
  std::vector<int> order(n);
  for (int t = 0; t < n; ++t) order[t] = t;
  nodes_.reserve(2 * (n / kLeafSize + 1));
  nodes_.emplace_back();
  build(0, 0, n, order, centroids, mesh);
  triangles_.resize(n);
  for (int i = 0; i < n; ++i) {
    const auto& tri = mesh.triangles[order[i]];
    triangles_[i] = {mesh.vertices[tri[0]], mesh.vertices[tri[1]], mesh.vertices[tri[2]]};
  }
}

// Fills nodes_[node] for the triangles order[begin, end) and recurses.
void WindingNumberTree::build(int node, int begin, int end, std::vector<int>& order,
                              const std::vector<V3>& centroids, const TriangleMesh& mesh) {
  const double inf = std::numeric_limits<double>::infinity();
  Node nd;
  nd.box = Aabb3{{inf, inf, inf}, {-inf, -inf, -inf}};
  nd.area_normal = {0.0, 0.0, 0.0};
  nd.second = {};
  nd.first_child = -1;
  nd.begin = begin;
  nd.end = end;

  // Expansion point: area-weighted centroid (as in Barill et al. 2018).
  double total_area = 0.0;
  V3 weighted{0.0, 0.0, 0.0};
  for (int i = begin; i < end; ++i) {
    const auto& tri = mesh.triangles[order[i]];
    const V3 area_normal = [&] {
      const V3 c = cross(sub(mesh.vertices[tri[1]], mesh.vertices[tri[0]]),
                         sub(mesh.vertices[tri[2]], mesh.vertices[tri[0]]));
      return V3{0.5 * c[0], 0.5 * c[1], 0.5 * c[2]};
    }();
    const double area = norm(area_normal);
    total_area += area;
    for (int a = 0; a < 3; ++a) {
      weighted[a] += area * centroids[order[i]][a];
      nd.area_normal[a] += area_normal[a];
    }
    for (int c : tri)
      for (int a = 0; a < 3; ++a) {
        nd.box.lower[a] = std::min(nd.box.lower[a], mesh.vertices[c][a]);
        nd.box.upper[a] = std::max(nd.box.upper[a], mesh.vertices[c][a]);
      }
  }
  for (int a = 0; a < 3; ++a)
    nd.center[a] = total_area > 0.0 ? weighted[a] / total_area : 0.5 * (nd.box.lower[a] + nd.box.upper[a]);

  // Second-order moment: integral over the cluster of (x - center) n^T dA, exact
  // for flat triangles because n is constant on each: |T| (centroid_T - center) n_T^T.
  nd.radius = 0.0;
  for (int i = begin; i < end; ++i) {
    const auto& tri = mesh.triangles[order[i]];
    const V3 c = cross(sub(mesh.vertices[tri[1]], mesh.vertices[tri[0]]),
                       sub(mesh.vertices[tri[2]], mesh.vertices[tri[0]]));
    const V3 d = sub(centroids[order[i]], nd.center);
    for (int r = 0; r < 3; ++r)
      for (int s = 0; s < 3; ++s) nd.second[r][s] += d[r] * 0.5 * c[s];
    for (int v : tri) nd.radius = std::max(nd.radius, norm(sub(mesh.vertices[v], nd.center)));
  }
  nodes_[node] = nd;
  if (end - begin <= kLeafSize) return;

  // Median split along the longest axis of the centroids' box.  Ties are broken
  // by triangle index so the tree (and thus every result) is the same with any
  // standard library.
  V3 lo{inf, inf, inf}, hi{-inf, -inf, -inf};
  for (int i = begin; i < end; ++i)
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], centroids[order[i]][a]);
      hi[a] = std::max(hi[a], centroids[order[i]][a]);
    }
  int axis = 0;
  for (int a = 1; a < 3; ++a)
    if (hi[a] - lo[a] > hi[axis] - lo[axis]) axis = a;
  const int mid = begin + (end - begin) / 2;
  std::nth_element(order.begin() + begin, order.begin() + mid, order.begin() + end, [&](int x, int y) {
    if (centroids[x][axis] != centroids[y][axis]) return centroids[x][axis] < centroids[y][axis];
    return x < y;
  });
  const int child = static_cast<int>(nodes_.size());
  nodes_.emplace_back();
  nodes_.emplace_back();
  nodes_[node].first_child = child;
  build(child, begin, mid, order, centroids, mesh);
  build(child + 1, mid, end, order, centroids, mesh);
}

double WindingNumberTree::winding_number(const V3& q) const { return evaluate(q, beta_ * beta_); }

double WindingNumberTree::winding_number_exact(const V3& q) const {
  // beta = infinity: never expand (inf * r^2 is inf, or NaN for r = 0; both compare false).
  return evaluate(q, std::numeric_limits<double>::infinity());
}

bool WindingNumberTree::contains(const V3& q) const {
  const double w = winding_number(q);
  if (w > 0.25 && w < 0.75) return winding_number_exact(q) > 0.5;
  return w > 0.5;
}

double WindingNumberTree::evaluate(const V3& q, double beta2) const {
  if (nodes_.empty()) return 0.0;
  int stack[kMaxStack];
  int top = 0;
  stack[top++] = 0;
  double omega = 0.0;  // exact solid angles, steradians
  double far = 0.0;    // far-field expansion of 4 pi w
  while (top > 0) {
    const Node& nd = nodes_[stack[--top]];
    const V3 y = sub(nd.center, q);
    const double r2 = dot(y, y);
    if (r2 > beta2 * nd.radius * nd.radius) {
      // Taylor expansion of integral over the cluster of (x - q).n / |x - q|^3 dA
      // about x = center (Barill et al. 2018), with y = center - q:
      //   order 1: y.N / |y|^3
      //   order 2: sum_ij J_ij C_ij,  J = I/|y|^3 - 3 y y^T/|y|^5,
      //            C = sum_T (centroid_T - center) (|T| n_T)^T
      const double inv_r = 1.0 / std::sqrt(r2);
      const double inv_r3 = inv_r * inv_r * inv_r;
      const double inv_r5 = inv_r3 * inv_r * inv_r;
      double yCy = 0.0;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) yCy += y[i] * nd.second[i][j] * y[j];
      const double trace = nd.second[0][0] + nd.second[1][1] + nd.second[2][2];
      far += dot(y, nd.area_normal) * inv_r3 + trace * inv_r3 - 3.0 * yCy * inv_r5;
      continue;
    }
    if (nd.first_child < 0) {
      for (int i = nd.begin; i < nd.end; ++i)
        omega += triangle_solid_angle(q, triangles_[i][0], triangles_[i][1], triangles_[i][2]);
      continue;
    }
    assert(top + 2 <= kMaxStack);
    stack[top++] = nd.first_child;
    stack[top++] = nd.first_child + 1;
  }
  return (omega + far) / kFourPi;
}

std::vector<double> WindingNumberTree::winding_numbers(const std::vector<V3>& points) const {
  std::vector<double> w(points.size());
  const std::int64_t n = static_cast<std::int64_t>(points.size());
#pragma omp parallel for schedule(dynamic, 256)
  for (std::int64_t i = 0; i < n; ++i) w[i] = winding_number(points[i]);
  return w;
}

bool WindingNumberTree::box_touches_surface(const V3& lower, const V3& upper) const {
  if (nodes_.empty()) return false;
  // Pad by a relative 1e-9 so that rounding errs on the side of "touches".
  V3 lo, hi, center, half;
  for (int a = 0; a < 3; ++a) {
    const double pad = 1e-9 * (upper[a] - lower[a]) + 1e-12 * std::max(std::abs(lower[a]), std::abs(upper[a]));
    lo[a] = lower[a] - pad;
    hi[a] = upper[a] + pad;
    center[a] = 0.5 * (lo[a] + hi[a]);
    half[a] = 0.5 * (hi[a] - lo[a]) + pad;
  }
  auto overlaps = [&](const Aabb3& box) {
    for (int a = 0; a < 3; ++a)
      if (box.upper[a] < lo[a] || box.lower[a] > hi[a]) return false;
    return true;
  };
  int stack[kMaxStack];
  int top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const Node& nd = nodes_[stack[--top]];
    if (!overlaps(nd.box)) continue;
    if (nd.first_child < 0) {
      for (int i = nd.begin; i < nd.end; ++i)
        if (triangle_box_overlap(center, half, triangles_[i])) return true;
      continue;
    }
    assert(top + 2 <= kMaxStack);
    stack[top++] = nd.first_child;
    stack[top++] = nd.first_child + 1;
  }
  return false;
}

}  // namespace pl
