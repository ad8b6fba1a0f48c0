// Domain-wall boundary conditions applied to grid velocities.
//
// Source: MPM course notes (Jiang et al. 2016) Sec. 9.3 "grid-based collision";
// Stomakhin et al. 2013 Sec. 8 for Coulomb friction on separating walls.
// Nodes within `bound` cells of a wall belong to that wall's layer.  With the
// inward normal n and v_n = v.n:
//   sticky    v = 0
//   slip      v -= v_n n                  (no normal motion either way)
//   separate  if v_n < 0 (moving into the wall): v_t = v - v_n n,
//             v = max(0, 1 - mu |v_n| / |v_t|) v_t   (Coulomb: the normal
//             impulse bounds the tangential one); leaving the wall is free.
// Corner nodes apply each wall in turn (fixed order: axis 0 low, high, axis 1, ...).
#pragma once

#include "kernels/math/vec.hpp"

namespace pl {

enum class WallType : int { Sticky = 0, Slip = 1, Separate = 2 };

template <class Real, int D>
struct WallConditions {
  int bound = 3;  // thickness of the wall layer, in cells
  WallType type[D][2];
  Real friction[D][2];  // Coulomb coefficient, used by Separate
};

template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> apply_wall(WallType type, Real friction, const Vec<Real, D>& normal,
                                         Vec<Real, D> v) {
  const Real vn = dot(v, normal);
  switch (type) {
    case WallType::Sticky:
      return Vec<Real, D>::zero();
    case WallType::Slip:
      return v - vn * normal;
    case WallType::Separate: {
      if (vn >= Real(0)) return v;
      Vec<Real, D> vt = v - vn * normal;
      const Real vt_norm = norm(vt);
      if (vt_norm <= Real(0)) return vt;
      const Real scale = Real(1) + friction * vn / vt_norm;  // vn < 0
      return vt * (scale > Real(0) ? scale : Real(0));
    }
  }
  return v;
}

template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> apply_walls(const WallConditions<Real, D>& walls, const int (&node)[D],
                                          const int (&res)[D], Vec<Real, D> v) {
  for (int a = 0; a < D; ++a) {
    if (node[a] < walls.bound)
      v = apply_wall(walls.type[a][0], walls.friction[a][0], Vec<Real, D>::unit(a), v);
    if (node[a] >= res[a] - walls.bound)
      v = apply_wall(walls.type[a][1], walls.friction[a][1], -Vec<Real, D>::unit(a), v);
  }
  return v;
}

}  // namespace pl
