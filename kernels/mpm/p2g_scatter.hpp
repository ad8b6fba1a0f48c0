// The node loop of P2G, shared by the forward P2G (p2g.hpp) and the backward
// pass's recomputed P2G (stress_record.hpp), which must rebuild the forward
// grid bit for bit: one function, so one arithmetic.
#pragma once

#include "kernels/mpm/nested_stencil.hpp"
#include "kernels/mpm/views.hpp"

namespace pl {

/// Adds w_i (mom + A dpos_i) and w_i m to every node i of the stencil through
/// `Accumulate`, with values.at(off_i) = mom + A dpos_i (AffineAtNodes, built
/// axis by axis by NestedStencil; Hu et al. 2018 eq. (29)).
template <class Accumulate, class Real, int D>
PL_HD PL_INLINE void p2g_scatter(const GridView<Real, D>& grid, const QuadraticStencil<Real, D>& stencil,
                                 const AffineAtNodes<Real, D>& values, Real mass) {
  NestedStencil<Real, D> nodes(stencil, values);
  auto leaf = [&](const int(&off)[D], Real w, const Vec<Real, D>& /*grad_w*/,
                  const Vec<Real, D>& value) PL_STENCIL_INLINE {
    const Vec<Real, D> contribution = w * value;
    const std::size_t node = grid.node_index(stencil.base, off);
    for (int a = 0; a < D; ++a) Accumulate::add(&grid.momentum[node][a], contribution[a]);
    Accumulate::add(&grid.mass[node], w * mass);
  };
  nodes.template visit<false>(leaf);
}

}  // namespace pl
