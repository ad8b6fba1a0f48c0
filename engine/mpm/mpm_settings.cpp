#include "engine/mpm/mpm_settings.hpp"

#include <cmath>
#include <sstream>

#include "engine/core/error.hpp"

namespace pl {

template <int D>
void validate_settings(const MpmSettings<D>& s, const std::string& context) {
  auto fail = [&](const std::string& key, const std::string& expected, double got) {
    std::ostringstream os;
    os << context << ": '" << key << "' must be " << expected << ", got " << got;
    throw InputError(os.str());
  };
  if (!(std::isfinite(s.dx) && s.dx > 0)) fail("dx", "a finite grid spacing > 0 [m]", s.dx);
  if (!(std::isfinite(s.dt) && s.dt > 0)) fail("dt", "a finite time step > 0 [s]", s.dt);
  if (!(std::isfinite(s.cfl) && s.cfl > 0)) fail("cfl", "a finite number > 0", s.cfl);
  // At least one wall cell: a particle's stencil reaches half a cell beyond it,
  // so particles must start at least one cell from the grid's edge.
  if (s.bound_cells < 1) fail("bound_cells", ">= 1", s.bound_cells);
  double nodes = 1;
  for (int a = 0; a < D; ++a) nodes *= s.resolution[a];
  if (nodes > 1 << 28)
    fail("resolution", "at most 2^28 grid nodes in total (the dense grid would need " +
                           std::to_string(int(nodes * (D + 1) * 2 * 8 / 1e9)) + "+ GB); coarsen dx or shrink the domain",
         nodes);
  if (!(std::isfinite(s.damping) && s.damping >= 0)) fail("damping", "a finite rate >= 0 [1/s]", s.damping);
  for (int a = 0; a < D; ++a) {
    const std::string axis = "[" + std::to_string(a) + "]";
    if (s.resolution[a] < 2 * s.bound_cells + 4)
      fail("resolution" + axis, "at least 2 * bound_cells + 4 = " + std::to_string(2 * s.bound_cells + 4) + " nodes",
           s.resolution[a]);
    if (!std::isfinite(s.origin[a])) fail("origin" + axis, "finite", s.origin[a]);
    if (!std::isfinite(s.gravity[a])) fail("gravity" + axis, "finite", s.gravity[a]);
    for (int side = 0; side < 2; ++side) {
      const double mu = s.walls[a][side].friction;
      if (!(std::isfinite(mu) && mu >= 0))
        fail("walls" + axis + (side ? ".high" : ".low") + ".friction", "a finite coefficient >= 0", mu);
    }
  }
}

template void validate_settings(const MpmSettings<2>&, const std::string&);
template void validate_settings(const MpmSettings<3>&, const std::string&);

}  // namespace pl
