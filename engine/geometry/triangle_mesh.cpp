#include "engine/geometry/triangle_mesh.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "engine/core/error.hpp"

namespace pl {
namespace {

using V3 = std::array<double, 3>;

V3 sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
V3 cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const V3& a) { return std::sqrt(dot(a, a)); }

std::string fmt(double x) {
  std::ostringstream s;
  s.precision(10);
  s << x;
  return s.str();
}

// ---------------------------------------------------------------------- OBJ

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// Splits on blanks; returns the tokens as views into `line`.
std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

[[noreturn]] void obj_error(const std::string& path, int line, const std::string& what) {
  throw InputError(path + ":" + std::to_string(line) + ": " + what);
}

// std::from_chars: locale-independent, unlike strtod/stream extraction.
bool parse_double(std::string_view tok, double& out) {
  if (!tok.empty() && tok.front() == '+') tok.remove_prefix(1);
  const auto res = std::from_chars(tok.data(), tok.data() + tok.size(), out);
  return res.ec == std::errc() && res.ptr == tok.data() + tok.size();
}

bool parse_int(std::string_view tok, long long& out) {
  if (!tok.empty() && tok.front() == '+') tok.remove_prefix(1);
  const auto res = std::from_chars(tok.data(), tok.data() + tok.size(), out);
  return res.ec == std::errc() && res.ptr == tok.data() + tok.size();
}

std::string index_range_hint(size_t n) {
  if (n == 0) return "no vertices are defined at this point";
  return "valid indices are 1.." + std::to_string(n) + " or -1..-" + std::to_string(n);
}

// ------------------------------------------------------------------ rotation

// sin and cos of an angle in degrees, exact for multiples of 90 degrees so that
// a "rotate by 90" transform maps grid-aligned meshes onto the grid exactly.
void sin_cos_deg(double deg, double& s, double& c) {
  const double r = std::fmod(deg, 360.0);  // exact
  const double quarter = r / 90.0;
  if (quarter == std::floor(quarter)) {
    static const double kSin[] = {0.0, 1.0, 0.0, -1.0};
    static const double kCos[] = {1.0, 0.0, -1.0, 0.0};
    const int q = ((static_cast<int>(quarter) % 4) + 4) % 4;
    s = kSin[q];
    c = kCos[q];
    return;
  }
  const double rad = r * (3.14159265358979323846 / 180.0);
  s = std::sin(rad);
  c = std::cos(rad);
}

using M3 = std::array<std::array<double, 3>, 3>;

M3 matmul(const M3& a, const M3& b) {
  M3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r[i][j] += a[i][k] * b[k][j];
  return r;
}

M3 rotation_xyz_deg(const V3& deg) {
  double sx, cx, sy, cy, sz, cz;
  sin_cos_deg(deg[0], sx, cx);
  sin_cos_deg(deg[1], sy, cy);
  sin_cos_deg(deg[2], sz, cz);
  const M3 rx{{{1, 0, 0}, {0, cx, -sx}, {0, sx, cx}}};
  const M3 ry{{{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}}};
  const M3 rz{{{cz, -sz, 0}, {sz, cz, 0}, {0, 0, 1}}};
  return matmul(rz, matmul(ry, rx));
}

const char* kClosedHint =
    "the mesh must be closed and consistently oriented for sampling the interior";

std::string tri_vertices(const std::array<int, 3>& t) {
  return std::to_string(t[0] + 1) + ", " + std::to_string(t[1] + 1) + ", " +
         std::to_string(t[2] + 1);
}

}  // namespace

TriangleMesh load_obj(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw InputError(path + ": cannot open mesh file (" +
                     (err ? std::string(std::strerror(err)) : std::string("unknown error")) +
                     "); expected a Wavefront OBJ file");
  }

  TriangleMesh mesh;
  std::vector<int> triangle_line;  // OBJ line of each triangle, for range errors
  std::vector<long long> corners;
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    std::string_view line(raw);
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::vector<std::string_view> tok = split(line);
    if (tok[0] == "v") {
      if (tok.size() < 4)
        obj_error(path, line_no, "vertex line needs 3 coordinates ('v x y z'), found " +
                                     std::to_string(tok.size() - 1));
      V3 p;
      for (int a = 0; a < 3; ++a) {
        if (!parse_double(tok[a + 1], p[a]))
          obj_error(path, line_no, "vertex coordinate '" + std::string(tok[a + 1]) +
                                       "' is not a number; expected 'v x y z' with decimal numbers");
        if (!std::isfinite(p[a]))
          obj_error(path, line_no, "vertex coordinate '" + std::string(tok[a + 1]) +
                                       "' is not finite; expected a finite number");
      }
      mesh.vertices.push_back(p);
    } else if (tok[0] == "f") {
      corners.clear();
      for (size_t k = 1; k < tok.size(); ++k) {
        std::string_view c = tok[k];
        c = c.substr(0, c.find('/'));  // i, i/t, i//n, i/t/n -> i
        long long idx = 0;
        if (!parse_int(c, idx))
          obj_error(path, line_no, "face corner '" + std::string(tok[k]) +
                                       "' does not start with an integer vertex index; expected "
                                       "'f i j k ...' (optionally i/t/n)");
        if (idx == 0)
          obj_error(path, line_no, "face vertex index 0 is invalid: OBJ indices start at 1 (" +
                                       index_range_hint(mesh.vertices.size()) + ")");
        if (idx < 0) {
          const long long resolved = static_cast<long long>(mesh.vertices.size()) + idx;
          if (resolved < 0)
            obj_error(path, line_no, "face vertex index " + std::to_string(idx) +
                                         " is out of range: only " + std::to_string(mesh.vertices.size()) +
                                         " vertices are defined before this line (" +
                                         index_range_hint(mesh.vertices.size()) + ")");
          idx = resolved;
        } else {
          if (idx > std::numeric_limits<int>::max())
            obj_error(path, line_no, "face vertex index " + std::to_string(idx) + " is out of range");
          idx -= 1;  // checked against the final vertex count below
        }
        corners.push_back(idx);
      }
      if (corners.size() < 3)
        obj_error(path, line_no, "face has " + std::to_string(corners.size()) +
                                     " vertices; expected at least 3");
      for (size_t k = 1; k + 1 < corners.size(); ++k) {
        mesh.triangles.push_back({static_cast<int>(corners[0]), static_cast<int>(corners[k]),
                                  static_cast<int>(corners[k + 1])});
        triangle_line.push_back(line_no);
      }
    }
    // Everything else (vt, vn, vp, o, g, s, usemtl, mtllib, l, p, ...) carries
    // nothing a solid body needs.
  }
  if (in.bad()) throw InputError(path + ": read error after line " + std::to_string(line_no));

  if (mesh.triangles.empty())
    throw InputError(path + ": no faces found (" + std::to_string(mesh.vertices.size()) +
                     " vertices, 0 'f' lines); expected a triangle mesh with 'f' lines");
  const int n = static_cast<int>(mesh.vertices.size());
  for (size_t t = 0; t < mesh.triangles.size(); ++t)
    for (int c : mesh.triangles[t])
      if (c >= n)
        obj_error(path, triangle_line[t], "face vertex index " + std::to_string(c + 1) +
                                              " is out of range: the file defines " + std::to_string(n) +
                                              " vertices (" + index_range_hint(mesh.vertices.size()) + ")");
  return mesh;
}

void validate_closed_manifold(const TriangleMesh& mesh, const std::string& path) {
  const std::string where = path.empty() ? std::string("mesh") : path;
  auto fail = [&](const std::string& what) { throw InputError(where + ": " + what); };

  if (mesh.triangles.empty()) fail("the mesh has no triangles; " + std::string(kClosedHint));
  const int n = static_cast<int>(mesh.vertices.size());
  for (size_t t = 0; t < mesh.triangles.size(); ++t)
    for (int c : mesh.triangles[t])
      if (c < 0 || c >= n)
        fail("triangle " + std::to_string(t) + " refers to vertex " + std::to_string(c + 1) +
             " but the mesh has " + std::to_string(n) + " vertices");
  for (const auto& t : mesh.triangles)
    for (int c : t)
      for (double x : mesh.vertices[c])
        if (!std::isfinite(x)) fail("vertex " + std::to_string(c + 1) + " has a non-finite coordinate");

  // Degenerate triangles: area below a tiny fraction of the mesh size squared.
  const Aabb3 box = bounding_box(mesh);
  const double diag = norm(sub(box.upper, box.lower));
  const double min_double_area = 1e-12 * diag * diag;
  for (size_t t = 0; t < mesh.triangles.size(); ++t) {
    const auto& tri = mesh.triangles[t];
    const V3& a = mesh.vertices[tri[0]];
    const double double_area = norm(cross(sub(mesh.vertices[tri[1]], a), sub(mesh.vertices[tri[2]], a)));
    if (!(double_area > min_double_area))
      fail("triangle " + std::to_string(t) + " (vertices " + tri_vertices(tri) +
           ") is degenerate (zero area); " + kClosedHint +
           ", without degenerate triangles (remove or collapse them)");
  }

  // Edge use: key = (min, max) vertex pair.  Each undirected edge of a closed,
  // consistently oriented surface is traversed once in each direction.
  struct EdgeUse {
    int count = 0;
    int forward = 0;            // traversals min -> max
    int tri[2] = {-1, -1};      // the first two triangles using the edge
  };
  std::unordered_map<std::uint64_t, EdgeUse> edges;
  edges.reserve(mesh.triangles.size() * 2);
  auto key_of = [](int a, int b) {
    const auto lo = static_cast<std::uint32_t>(std::min(a, b));
    const auto hi = static_cast<std::uint32_t>(std::max(a, b));
    return (static_cast<std::uint64_t>(lo) << 32) | hi;
  };
  for (size_t t = 0; t < mesh.triangles.size(); ++t) {
    const auto& tri = mesh.triangles[t];
    for (int e = 0; e < 3; ++e) {
      const int a = tri[e], b = tri[(e + 1) % 3];
      EdgeUse& use = edges[key_of(a, b)];
      if (use.count < 2) use.tri[use.count] = static_cast<int>(t);
      ++use.count;
      if (a < b) ++use.forward;
    }
  }
  // Report in triangle order so the first message points at the earliest face.
  for (size_t t = 0; t < mesh.triangles.size(); ++t) {
    const auto& tri = mesh.triangles[t];
    for (int e = 0; e < 3; ++e) {
      const int a = tri[e], b = tri[(e + 1) % 3];
      const EdgeUse& use = edges.at(key_of(a, b));
      const std::string edge =
          "edge between vertices " + std::to_string(a + 1) + " and " + std::to_string(b + 1);
      if (use.count == 1)
        fail("the mesh is not closed: " + edge + " belongs only to triangle " + std::to_string(t) +
             " (a hole or open boundary); " + kClosedHint +
             " (fill the holes; if the surface has duplicate vertices at the same position, weld them)");
      if (use.count > 2)
        fail("the mesh is not manifold: " + edge + " is shared by " + std::to_string(use.count) +
             " triangles (first: triangles " + std::to_string(use.tri[0]) + " and " +
             std::to_string(use.tri[1]) + "), expected exactly 2; " + kClosedHint);
      if (use.forward != 1)
        fail("the mesh is not consistently oriented: triangles " + std::to_string(use.tri[0]) + " and " +
             std::to_string(use.tri[1]) + " traverse the " + edge +
             " in the same direction (one of them has flipped normals); " + kClosedHint);
    }
  }

  const double volume = mesh_volume(mesh);
  if (!(volume > 0.0))
    fail("the mesh is oriented inward (signed volume " + fmt(volume) +
         " m^3 <= 0): faces must be counter-clockwise seen from outside; reverse the vertex "
         "order of every face (flip normals); " + kClosedHint);
}

std::string validate(const MeshTransform& t) {
  static const char* kAxis[] = {"x", "y", "z"};
  for (int a = 0; a < 3; ++a) {
    if (!std::isfinite(t.scale[a]))
      return std::string("scale[") + kAxis[a] + "] must be a finite number, got " + fmt(t.scale[a]);
    if (t.scale[a] == 0.0)
      return std::string("scale[") + kAxis[a] +
             "] must be nonzero (a zero scale flattens the mesh into a surface with no interior)";
    if (!std::isfinite(t.rotation_deg[a]))
      return std::string("rotation_deg[") + kAxis[a] + "] must be a finite angle in degrees, got " +
             fmt(t.rotation_deg[a]);
    if (!std::isfinite(t.translation[a]))
      return std::string("translation[") + kAxis[a] + "] must be a finite number (meters), got " +
             fmt(t.translation[a]);
  }
  return "";
}

TriangleMesh transform_mesh(const TriangleMesh& mesh, const MeshTransform& t, const std::string& context) {
  throw_if_invalid(context, validate(t));
  const M3 r = rotation_xyz_deg(t.rotation_deg);
  TriangleMesh out;
  out.vertices.reserve(mesh.vertices.size());
  for (const V3& p : mesh.vertices) {
    const V3 s{p[0] * t.scale[0], p[1] * t.scale[1], p[2] * t.scale[2]};
    V3 q;
    for (int i = 0; i < 3; ++i) q[i] = r[i][0] * s[0] + r[i][1] * s[1] + r[i][2] * s[2] + t.translation[i];
    out.vertices.push_back(q);
  }
  out.triangles = mesh.triangles;
  // det(R S) = det(S): a mirror reverses the triangles' orientation; undo it.
  if (t.scale[0] * t.scale[1] * t.scale[2] < 0.0)
    for (auto& tri : out.triangles) std::swap(tri[1], tri[2]);
  return out;
}

double mesh_volume(const TriangleMesh& mesh) {
  if (mesh.triangles.empty()) return 0.0;
  const Aabb3 box = bounding_box(mesh);
  const V3 o{0.5 * (box.lower[0] + box.upper[0]), 0.5 * (box.lower[1] + box.upper[1]),
             0.5 * (box.lower[2] + box.upper[2])};
  double six_volume = 0.0;
  for (const auto& tri : mesh.triangles) {
    const V3 a = sub(mesh.vertices[tri[0]], o);
    const V3 b = sub(mesh.vertices[tri[1]], o);
    const V3 c = sub(mesh.vertices[tri[2]], o);
    six_volume += dot(a, cross(b, c));
  }
  return six_volume / 6.0;
}

Aabb3 bounding_box(const TriangleMesh& mesh) {
  const double inf = std::numeric_limits<double>::infinity();
  Aabb3 box{{inf, inf, inf}, {-inf, -inf, -inf}};
  for (const auto& tri : mesh.triangles)
    for (int c : tri)
      for (int a = 0; a < 3; ++a) {
        box.lower[a] = std::min(box.lower[a], mesh.vertices[c][a]);
        box.upper[a] = std::max(box.upper[a], mesh.vertices[c][a]);
      }
  return box;
}

}  // namespace pl
