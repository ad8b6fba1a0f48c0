// Grid update: momentum to velocity, body forces, domain walls.  One node per call.
//
// Source: MPM course notes (Jiang et al. 2016), Sec. 9.2-9.3 (explicit update
// v_i = (m v)_i / m_i + dt g, then grid collisions).  Nodes without mass get
// zero velocity so G2P never reads garbage.
#pragma once

#include "kernels/mpm/boundary.hpp"
#include "kernels/mpm/views.hpp"

namespace pl {

template <class Real, int D>
struct GridUpdate {
  GridView<Real, D> grid;
  WallConditions<Real, D> walls;
  Vec<Real, D> gravity;  // body-force acceleration [m/s^2]
  Real dt;
  Real velocity_scale;  // exp(-damping dt): optional settling damping, 1 = off

  PL_HD void operator()(std::size_t node) const {
    const Real m = grid.mass[node];
    if (m <= Real(0)) {
      grid.velocity[node] = Vec<Real, D>::zero();
      return;
    }
    Vec<Real, D> v = (grid.momentum[node] * (Real(1) / m) + dt * gravity) * velocity_scale;
    int ijk[D];
    grid.node_coords(node, ijk);
    grid.velocity[node] = apply_walls(walls, ijk, grid.res, v);
  }
};

}  // namespace pl
