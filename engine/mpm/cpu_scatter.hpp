// Scatter-adds of the backward pass on the CPU without atomics.
//
// The same scheme as the forward P2G (cpu_p2g.hpp), for one scatter target:
// thread 0 adds into the shared target and every other thread into a private
// zeroed copy, each over its blocks of [0, n) (for_each_owned, cpu_parallel.hpp)
// for the team OpenMP actually granted; the copies are then added to the target entry by
// entry in thread order.  The kernel body is the one the GPU runs (only its
// Accumulate policy differs: PlainAccumulate here, atomics there).
//
// Determinism guarantee: for a given OpenMP thread count every sum is taken in
// a fixed order, so CPU gradients are bit-for-bit identical run to run; across
// thread counts they agree to round-off (the order of the sums differs).
#pragma once

#include <omp.h>

#include <vector>

#include "engine/core/float_env.hpp"
#include "engine/mpm/cpu_parallel.hpp"

#include "kernels/mpm/g2p.hpp"
#include "kernels/mpm/grid_update.hpp"
#include "kernels/mpm/stress_record.hpp"

namespace pl {

template <class T>
class CpuPrivateScatter {
 public:
  /// Runs kernel(i) for i in [0, n).  The kernel adds into `target` (`count`
  /// entries; the caller zeroes it or lets it accumulate); retarget(kernel,
  /// buffer) must return a copy of the kernel that adds into `buffer` instead.
  template <class Kernel, class Retarget>
  void run(std::size_t n, const Kernel& kernel, T* target, std::size_t count, const Retarget& retarget) {
    const int threads = omp_get_max_threads();
    if (threads == 1) {
      const ScopedFlushDenormals flush;
      for (std::size_t i = 0; i < n; ++i) kernel(i);
      return;
    }
#pragma omp parallel num_threads(threads)
    {
      const ScopedFlushDenormals flush;  // per thread: engine/core/float_env.hpp
      const int team = omp_get_num_threads();  // may be fewer than asked
#pragma omp single
      copies_.resize(team - 1);  // implicit barrier
      const int t = omp_get_thread_num();
      if (t > 0) copies_[t - 1].assign(count, T{});
      const Kernel mine = t > 0 ? retarget(kernel, copies_[t - 1].data()) : kernel;
      for_each_owned(n, t, team, mine);
#pragma omp barrier
#pragma omp for schedule(static)
      for (std::size_t j = 0; j < count; ++j)
        for (int k = 0; k < team - 1; ++k) target[j] += copies_[k][j];
    }
  }

 private:
  std::vector<std::vector<T>> copies_;  // one per extra thread, reused across calls
};

/// The forward P2G's scheme (cpu_p2g.hpp) for any kernel that scatters into a
/// grid's momentum and mass through its `grid` member: same particle blocks, same private grids, same node-by-node sum in thread order, so a
/// kernel doing P2G's arithmetic reproduces the forward grid bit for bit.
template <class Real, int D>
class CpuGridScatter {
 public:
  /// `kernel.grid.momentum` and `.mass` must be zeroed by the caller.
  template <class Kernel>
  void run(std::size_t n, std::size_t num_nodes, const Kernel& kernel) {
    const int threads = omp_get_max_threads();
    if (threads == 1) {
      const ScopedFlushDenormals flush;
      for (std::size_t p = 0; p < n; ++p) kernel(p);
      return;
    }
#pragma omp parallel num_threads(threads)
    {
      const ScopedFlushDenormals flush;  // per thread: engine/core/float_env.hpp
      const int team = omp_get_num_threads();
#pragma omp single
      {
        momentum_.resize(team - 1);
        mass_.resize(team - 1);
      }
      const int t = omp_get_thread_num();
      Kernel mine = kernel;
      if (t > 0) {
        momentum_[t - 1].assign(num_nodes, Vec<Real, D>::zero());
        mass_[t - 1].assign(num_nodes, Real(0));
        mine.grid.momentum = momentum_[t - 1].data();
        mine.grid.mass = mass_[t - 1].data();
      }
      for_each_owned(n, t, team, mine);
#pragma omp barrier
#pragma omp for schedule(static)
      for (std::size_t node = 0; node < num_nodes; ++node) {
        for (int k = 0; k < team - 1; ++k) {
          kernel.grid.momentum[node] += momentum_[k][node];
          kernel.grid.mass[node] += mass_[k][node];
        }
      }
    }
  }

 private:
  std::vector<std::vector<Vec<Real, D>>> momentum_;
  std::vector<std::vector<Real>> mass_;
};

/// The CPU's AdjointRunner (see mpm_backend_impl.hpp): P2GRecordStress
/// scatters the recomputed grid over particles, AdjG2P scatters
/// dL/d(grid velocity) over particles, AdjGridUpdate the 2 D wall-friction
/// gradients over nodes.  AdjP2G is a gather and needs no runner.
template <class Real, int D>
class CpuAdjointRunner {
 public:
  void p2g(std::size_t n, std::size_t num_nodes, const P2GRecordStress<Real, D, PlainAccumulate>& kernel) {
    grid_.run(n, num_nodes, kernel);
  }
  void g2p(std::size_t n, std::size_t num_nodes, const AdjG2P<Real, D, PlainAccumulate>& kernel) {
    velocity_.run(n, kernel, kernel.adj_grid_velocity, num_nodes, [](AdjG2P<Real, D, PlainAccumulate> k, Vec<Real, D>* buf) {
      k.adj_grid_velocity = buf;
      return k;
    });
  }
  void grid_update(std::size_t num_nodes, const AdjGridUpdate<Real, D, PlainAccumulate>& kernel) {
    friction_.run(num_nodes, kernel, kernel.adj_friction, std::size_t(2 * D + kernel.tools.count * kToolAdjointSize<D>),  // + issue 6 tool blocks
                  [](AdjGridUpdate<Real, D, PlainAccumulate> k, Real* buf) {
                    k.adj_friction = buf;
                    return k;
                  });
  }

 private:
  CpuGridScatter<Real, D> grid_;
  CpuPrivateScatter<Vec<Real, D>> velocity_;
  CpuPrivateScatter<Real> friction_;
};

}  // namespace pl
