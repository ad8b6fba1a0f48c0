// Points on a tool's surface, for previews (issue 6): the lattice points of
// spacing h in the tool's local bounding box whose signed distance is within
// h / 2 of zero, placed at the tool's pose of substep `step`.
#pragma once

#include <array>
#include <vector>

#include "engine/coupling/tool.hpp"

namespace pl {

/// World positions [m].  Planes are drawn as a square patch of half size
/// `plane_extent` around their origin.
template <int D>
std::vector<std::array<double, 3>> tool_surface_points(const Tool<D>& tool, long step, double spacing,
                                                       double plane_extent);

}  // namespace pl
