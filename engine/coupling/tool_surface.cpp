#include "engine/coupling/tool_surface.hpp"

#include <cmath>

namespace pl {

template <int D>
std::vector<std::array<double, 3>> tool_surface_points(const Tool<D>& tool, long step, double spacing,
                                                       double plane_extent) {
  const ToolSpec<D>& s = tool.spec();
  const double* field = s.mesh ? s.mesh->values.data() : nullptr;
  const ToolState<double, D> t = tool.template state<double>(step, field);
  // Local bounding box of the solid (padded by one spacing).
  Vec<double, D> lo, hi;
  for (int a = 0; a < D; ++a) {
    double h = 0;
    switch (s.shape) {
      case ToolShape::Box:
      case ToolShape::RoundedBox: h = s.half_extents[a]; break;
      case ToolShape::Sphere: h = s.radius; break;
      case ToolShape::Capsule: h = s.radius + (a == 1 ? s.half_height : 0); break;
      case ToolShape::Cylinder: h = a == 1 ? s.half_height : s.radius; break;
      case ToolShape::Plane: h = a == 1 ? 0 : plane_extent; break;
      case ToolShape::Mesh: break;
    }
    lo[a] = -h - spacing, hi[a] = h + spacing;
    if (s.shape == ToolShape::Mesh && s.mesh) {
      lo[a] = s.mesh->origin[std::size_t(a)];
      hi[a] = lo[a] + s.mesh->spacing * (s.mesh->res[std::size_t(a)] - 1);
    }
  }
  int n[D];
  for (int a = 0; a < D; ++a) n[a] = int(std::ceil((hi[a] - lo[a]) / spacing)) + 1;
  std::vector<std::array<double, 3>> out;
  int i[D] = {};
  while (true) {
    Vec<double, D> p, grad;
    for (int a = 0; a < D; ++a) p[a] = lo[a] + i[a] * spacing;
    if (std::abs(tool_sdf(t.geometry, p, grad)) <= 0.5 * spacing) {
      const Vec<double, D> x = t.position + t.rotation * p;
      std::array<double, 3> w{};
      for (int a = 0; a < D; ++a) w[std::size_t(a)] = x[a];
      out.push_back(w);
    }
    int a = 0;
    while (a < D && ++i[a] == n[a]) i[a++] = 0;
    if (a == D) break;
  }
  return out;
}

template std::vector<std::array<double, 3>> tool_surface_points<2>(const Tool<2>&, long, double, double);
template std::vector<std::array<double, 3>> tool_surface_points<3>(const Tool<3>&, long, double, double);

}  // namespace pl
