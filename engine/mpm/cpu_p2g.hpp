// P2G on the CPU without atomics.
//
// Why: a float atomic add is a compare-and-swap loop on x86 (~20 cycles even
// uncontended), and P2G does (D+1) 3^D of them per particle; profiling S1
// showed 84% of the step in those loops.  Instead, thread 0 scatters into the
// shared grid and every other thread into a private copy, each over a fixed
// set of particle blocks (CpuGridScatter, cpu_scatter.hpp); the copies are
// then summed node by node over the substep's node box.  The
// per-particle body is the same P2G functor the GPU runs (only its Accumulate
// policy differs), and for a given thread count the summation order is fixed,
// so CPU results are bit-for-bit reproducible.
// Cost of the copies: zeroing and summing (threads - 1) grids per substep,
// small next to 3^D scattered updates per particle at the particle densities
// MPM uses (2^D or more particles per cell).
#pragma once

#include "engine/mpm/cpu_scatter.hpp"
#include "kernels/mpm/p2g.hpp"

namespace pl {

template <class Real, int D>
class CpuP2G {
 public:
  /// `grid.momentum` and `grid.mass` must be zeroed by the caller over `box`,
  /// which must hold every particle's stencil (kernels/mpm/node_box.hpp).
  void operator()(std::size_t n, const ParticleView<Real, D>& particles, const GridView<Real, D>& grid,
                  const NodeBox<D>& box, const MaterialSlot<Real>* materials, Real dt) {
    scatter_.run(n, box, P2G<Real, D, PlainAccumulate>{particles, grid, materials, dt});
  }

 private:
  CpuGridScatter<Real, D> scatter_;  // the private per-thread grids
};

}  // namespace pl
