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

// ---- adjoints -------------------------------------------------------------------
// VJP of apply_wall (accumulating: adj_v += (d out / d v)^T adj_out,
// adj_friction += (d out / d mu) . adj_out).  The walls are piecewise smooth;
// the adjoint takes the branch the forward took (the forward's own tests:
// vn >= 0 leaves, scale > 0 slides), i.e. it is the exact derivative inside
// each branch and a one-sided one on the (measure-zero) switching surfaces
// vn = 0, scale = 0.  |vt| = 0 with vn < 0 is not a switching surface when
// mu > 0: it lies inside the stuck region (|vt| < mu |vn| around it), so its
// derivative is the stuck one, 0; with mu = 0 it is the slip projection.
//   sticky          out = 0:                 nothing flows back
//   slip            out = v - vn n:          adj_v += a - (a.n) n
//   separate, sliding (vn < 0, |vt| > 0, s = 1 + mu vn / |vt| > 0), out = s vt:
//       adj_vt = s a - mu vn (a.vt) vt / |vt|^3,   adj_vn = mu (a.vt) / |vt|
//       adj_v  += adj_vt - (adj_vt.n) n + adj_vn n,  adj_mu += vn (a.vt) / |vt|
//   separate, stuck (s <= 0, or |vt| = 0 with mu > 0): out = 0
//   separate, |vt| = 0 and mu = 0: out = vt, the slip adjoint
//   separate, leaving (vn >= 0): identity.
// (DiffTaichi / ChainQueen, Hu et al. 2019, differentiate the same projections
// through their autodiff; these are the hand-written equivalents.)
template <class Real, int D>
PL_HD PL_INLINE void adj_apply_wall(WallType type, Real friction, const Vec<Real, D>& normal,
                                    const Vec<Real, D>& v, const Vec<Real, D>& adj_out, Vec<Real, D>& adj_v,
                                    Real& adj_friction) {
  const Real vn = dot(v, normal);
  switch (type) {
    case WallType::Sticky:
      return;
    case WallType::Slip:
      adj_v += adj_out - dot(adj_out, normal) * normal;
      return;
    case WallType::Separate: {
      if (vn >= Real(0)) {
        adj_v += adj_out;
        return;
      }
      const Vec<Real, D> vt = v - vn * normal;
      const Real vt_norm = norm(vt);
      if (vt_norm <= Real(0)) {
        // Pressing straight in.  With friction every v_t with |v_t| < mu |v_n|
        // (a whole neighbourhood of v_t = 0, as v_n < 0) is stuck: out = 0
        // there, so nothing flows back.  (Passing a through as for a slip was
        // a bug: it made every floor node of a body starting at rest slide in
        // the backward pass; gradcheck of sand_pile_3d failed by 1e-3.)
        // Without friction out = v_t: the slip projection.
        if (!(friction > Real(0))) adj_v += adj_out - dot(adj_out, normal) * normal;
        return;
      }
      const Real inv_norm = Real(1) / vt_norm;
      const Real scale = Real(1) + friction * vn * inv_norm;
      if (!(scale > Real(0))) return;
      const Real a_vt = dot(adj_out, vt);
      const Vec<Real, D> adj_vt = scale * adj_out - (friction * vn * a_vt * inv_norm * inv_norm * inv_norm) * vt;
      const Real adj_vn = friction * a_vt * inv_norm;
      adj_v += adj_vt + (adj_vn - dot(adj_vt, normal)) * normal;
      adj_friction += vn * a_vt * inv_norm;
      return;
    }
  }
  adj_v += adj_out;
}

/// VJP of apply_walls: replays the forward chain to get the velocity each wall
/// saw, then applies adj_apply_wall in reverse order.  adj_friction[a][side]
/// accumulates dL/d(friction of that wall face).
template <class Real, int D>
PL_HD PL_INLINE void adj_apply_walls(const WallConditions<Real, D>& walls, const int (&node)[D],
                                     const int (&res)[D], const Vec<Real, D>& v, const Vec<Real, D>& adj_out,
                                     Vec<Real, D>& adj_v, Real (&adj_friction)[D][2]) {
  Vec<Real, D> seen[2 * D];  // velocity entering each applied wall
  int axis[2 * D], side[2 * D];
  int count = 0;
  Vec<Real, D> u = v;
  for (int a = 0; a < D; ++a)
    for (int s = 0; s < 2; ++s) {
      const bool in_layer = s == 0 ? node[a] < walls.bound : node[a] >= res[a] - walls.bound;
      if (!in_layer) continue;
      seen[count] = u;
      axis[count] = a;
      side[count] = s;
      ++count;
      u = apply_wall(walls.type[a][s], walls.friction[a][s], s == 0 ? Vec<Real, D>::unit(a) : -Vec<Real, D>::unit(a), u);
    }
  Vec<Real, D> g = adj_out;
  for (int k = count - 1; k >= 0; --k) {
    const int a = axis[k], s = side[k];
    Vec<Real, D> g_in = Vec<Real, D>::zero();
    adj_apply_wall(walls.type[a][s], walls.friction[a][s], s == 0 ? Vec<Real, D>::unit(a) : -Vec<Real, D>::unit(a),
                   seen[k], g, g_in, adj_friction[a][s]);
    g = g_in;
  }
  adj_v += g;
}

}  // namespace pl
