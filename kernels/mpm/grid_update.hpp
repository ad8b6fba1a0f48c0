// Grid update: momentum to velocity, body forces, domain walls.  One node per call.
//
// Source: MPM course notes (Jiang et al. 2016), Sec. 9.2-9.3 (explicit update
// v_i = (m v)_i / m_i + dt g, then grid collisions).  Nodes without mass get
// zero velocity so G2P never reads garbage.
#pragma once

#include "kernels/coupling/grid_tool_collision.hpp"
#include "kernels/mpm/atomic.hpp"
#include "kernels/mpm/boundary.hpp"
#include "kernels/mpm/views.hpp"

namespace pl {

/// World position of grid node ijk [m] (issue 6: tools act on node positions).
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> node_position(const GridView<Real, D>& grid, const int (&ijk)[D]) {
  Vec<Real, D> x = grid.origin;
  for (int a = 0; a < D; ++a) x[a] += Real(ijk[a]) * grid.dx;
  return x;
}

template <class Real, int D>
struct GridUpdate {
  GridView<Real, D> grid;
  WallConditions<Real, D> walls;
  Vec<Real, D> gravity;  // body-force acceleration [m/s^2]
  Real dt;
  Real velocity_scale;  // exp(-damping dt): optional settling damping, 1 = off
  // ---- issue 6: rigid tools, applied before the walls (kernels/coupling) ----
  ToolSet<Real, D> tools{};
  Vec<Real, D>* tool_impulse = nullptr;  // tools.count per node: momentum each tool gave the node, or null

  PL_HD void operator()(std::size_t node) const {
    const Real m = grid.mass[node];
    if (m <= Real(0)) {
      grid.velocity[node] = Vec<Real, D>::zero();
      return;
    }
    Vec<Real, D> v = (grid.momentum[node] * (Real(1) / m) + dt * gravity) * velocity_scale;
    int ijk[D];
    grid.node_coords(node, ijk);
    if (tools.count > 0)  // issue 6
      v = apply_tools(tools, node_position(grid, ijk), m, v, dt, tool_impulse ? tool_impulse + node * tools.count : nullptr);
    grid.velocity[node] = apply_walls(walls, ijk, grid.res, v);
  }
};

/// Adjoint of GridUpdate, one node per call.  Reads dL/d(grid velocity) and
/// ACCUMULATES dL/d(P2G momentum), dL/d(P2G mass) of the node and
/// dL/d(wall friction) (D x 2, [axis][low, high], through `Accumulate`).
///
/// Source: chain rule through the forward (course notes Sec. 9.2-9.3; Hu et al.
/// 2019 ChainQueen / DiffTaichi differentiate the same update):
///   u = (M / m + dt g) s,  v = walls(u)    (s = velocity_scale)
///   adj_u  = walls^T(adj_v)                (adj_apply_walls: the forward's branch)
///   adj_M += (s / m) adj_u
///   adj_m -= (s / m^2) adj_u . M
/// Nodes with zero mass contribute nothing: their forward velocity is the
/// constant 0 (no particle has weight there: every stencil node of a particle
/// with w > 0 has m > 0), so the incoming adjoint stops there.  Gravity and
/// dt are constants (no gradient is returned for them).
template <class Real, int D, class Accumulate = AtomicAccumulate>
struct AdjGridUpdate {
  GridView<Real, D> grid;  // momentum and mass recomputed from s_n
  GridAdjointView<Real, D> adj_grid;
  WallConditions<Real, D> walls;
  Vec<Real, D> gravity;
  Real dt;
  Real velocity_scale;
  Real* adj_friction;     // 2 D entries, [axis * 2 + side], +=; with tools, then tools.count blocks of kToolAdjointSize<D> (issue 6)
  std::uint64_t* fault;   // atomic-min of adjoint_fault_key
  ToolSet<Real, D> tools{};  // issue 6: the forward's tools

  PL_HD void operator()(std::size_t node) const {
    const Real m = grid.mass[node];
    if (m <= Real(0)) return;
    const Vec<Real, D> adj_v = adj_grid.velocity[node];
    if (!all_finite(adj_v)) {
      atomic_min(fault, adjoint_fault_key(kAdjKernelGridUpdate, node, kAdjQuantityGridVelocity));
      return;
    }
    const Real inv_m = Real(1) / m;
    const Vec<Real, D> momentum = grid.momentum[node];
    const Vec<Real, D> u = (momentum * inv_m + dt * gravity) * velocity_scale;
    int ijk[D];
    grid.node_coords(node, ijk);
    Vec<Real, D> adj_u = Vec<Real, D>::zero();
    Real friction[D][2];
    for (int a = 0; a < D; ++a) friction[a][0] = friction[a][1] = Real(0);
    Real adj_mass_reaction = Real(0);  // issue 6: a loss on the tool reactions reads the node mass (I = m dv)
    if (tools.count > 0) {  // issue 6: u -> tools -> walls
      const Vec<Real, D> x = node_position(grid, ijk);
      Vec<Real, D> adj_tooled = Vec<Real, D>::zero();
      adj_apply_walls(walls, ijk, grid.res, apply_tools(tools, x, m, u, dt, static_cast<Vec<Real, D>*>(nullptr)), adj_v,
                      adj_tooled, friction);
      adj_apply_tools<Real, D, Accumulate>(tools, x, m, u, dt, adj_tooled, adj_u, adj_mass_reaction, adj_friction + 2 * D);
    } else {
      adj_apply_walls(walls, ijk, grid.res, u, adj_v, adj_u, friction);
    }

    const Vec<Real, D> adj_momentum = (velocity_scale * inv_m) * adj_u;
    const Real adj_mass = -dot(adj_momentum, momentum) * inv_m + adj_mass_reaction;
    adj_grid.momentum[node] += adj_momentum;
    adj_grid.mass[node] += adj_mass;
    if (!all_finite(adj_momentum)) atomic_min(fault, adjoint_fault_key(kAdjKernelGridUpdate, node, kAdjQuantityGridMomentum));
    else if (!isfinite(adj_mass)) atomic_min(fault, adjoint_fault_key(kAdjKernelGridUpdate, node, kAdjQuantityGridMass));
    for (int a = 0; a < D; ++a)
      for (int s = 0; s < 2; ++s) {
        if (friction[a][s] == Real(0)) continue;  // most nodes: no sliding contact
        if (!isfinite(friction[a][s]))
          atomic_min(fault, adjoint_fault_key(kAdjKernelGridUpdate, node, kAdjQuantityWallFriction));
        Accumulate::add(&adj_friction[2 * a + s], friction[a][s]);
      }
  }
};

}  // namespace pl
