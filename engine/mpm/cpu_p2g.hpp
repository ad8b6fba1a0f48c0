// P2G on the CPU without atomics.
//
// Why: a float atomic add is a compare-and-swap loop on x86 (~20 cycles even
// uncontended), and P2G does (D+1) 3^D of them per particle; profiling S1
// showed 84% of the step in those loops.  Instead, thread 0 scatters into the
// shared grid and every other thread into a private copy, each over a fixed
// set of particle blocks (for_each_owned, cpu_parallel.hpp); the copies are then summed node by node.  The
// per-particle body is the same P2G functor the GPU runs (only its Accumulate
// policy differs), and for a given thread count the summation order is fixed,
// so CPU results are bit-for-bit reproducible.
// Cost of the copies: zeroing and summing (threads - 1) grids per substep,
// small next to 3^D scattered updates per particle at the particle densities
// MPM uses (2^D or more particles per cell).
#pragma once

#include <omp.h>

#include <vector>

#include "engine/core/float_env.hpp"
#include "engine/mpm/cpu_parallel.hpp"

#include "kernels/mpm/p2g.hpp"

namespace pl {

template <class Real, int D>
class CpuP2G {
 public:
  /// `grid.momentum` and `grid.mass` must be zeroed by the caller.
  void operator()(std::size_t n, const ParticleView<Real, D>& particles, const GridView<Real, D>& grid,
                  std::size_t num_nodes, const MaterialSlot<Real>* materials, Real dt) {
    const int threads = omp_get_max_threads();
    if (threads == 1) {
      const ScopedFlushDenormals flush;
      const P2G<Real, D, PlainAccumulate> kernel{particles, grid, materials, dt};
      for (std::size_t p = 0; p < n; ++p) kernel(p);
      return;
    }
#pragma omp parallel num_threads(threads)
    {
      const ScopedFlushDenormals flush;  // per thread: engine/core/float_env.hpp
      // OpenMP may grant fewer threads than asked (OMP_THREAD_LIMIT, nested
      // regions, OMP_DYNAMIC): size everything from the team that runs.
      const int team = omp_get_num_threads();
#pragma omp single
      {
        momentum_.resize(team - 1);
        mass_.resize(team - 1);
      }  // implicit barrier: the buffers exist before anyone uses them
      const int t = omp_get_thread_num();
      GridView<Real, D> mine = grid;
      if (t > 0) {
        momentum_[t - 1].assign(num_nodes, Vec<Real, D>::zero());
        mass_[t - 1].assign(num_nodes, Real(0));
        mine.momentum = momentum_[t - 1].data();
        mine.mass = mass_[t - 1].data();
      }
      const P2G<Real, D, PlainAccumulate> kernel{particles, mine, materials, dt};
      // Thread t always gets the same particles for a given n (cpu_parallel.hpp).
      for_each_owned(n, t, team, kernel);
#pragma omp barrier
#pragma omp for schedule(static)
      for (std::size_t node = 0; node < num_nodes; ++node) {
        for (int k = 0; k < team - 1; ++k) {
          grid.momentum[node] += momentum_[k][node];
          grid.mass[node] += mass_[k][node];
        }
      }
    }
  }

 private:
  std::vector<std::vector<Vec<Real, D>>> momentum_;  // one private grid per extra thread
  std::vector<std::vector<Real>> mass_;
};

}  // namespace pl
