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
#include "kernels/mpm/node_box.hpp"
#include "kernels/mpm/stress_record.hpp"

namespace pl {

/// The entries a private scatter zeroes in its copies and sums back, as rows
/// of contiguous indices: all of [0, n) (DenseEntries), or the nodes of a box
/// (BoxEntries, node_box.hpp: one row per run along the last axis).
struct DenseEntries {
  static constexpr std::size_t kRow = 1024;
  std::size_t n;
  std::size_t rows() const { return (n + kRow - 1) / kRow; }
  void row(std::size_t r, std::size_t& begin, std::size_t& length) const {
    begin = r * kRow;
    length = n - begin < kRow ? n - begin : kRow;
  }
};
template <int D>
struct BoxEntries {
  NodeBox<D> box;
  int res[D];
  BoxEntries(const NodeBox<D>& b, const int (&r)[D]) : box(b) {
    for (int a = 0; a < D; ++a) res[a] = r[a];
  }
  std::size_t rows() const { return box.rows(); }
  void row(std::size_t r, std::size_t& begin, std::size_t& length) const {
    begin = box.row_start(r, res);
    length = std::size_t(box.row_length());
  }
};

/// Calls f(i) for every index of `entries`, the rows [row_begin, row_end).
template <class Entries, class F>
inline void for_each_entry(const Entries& entries, std::size_t row_begin, std::size_t row_end, const F& f) {
  for (std::size_t r = row_begin; r < row_end; ++r) {
    std::size_t begin, length;
    entries.row(r, begin, length);
    for (std::size_t i = begin; i < begin + length; ++i) f(i);
  }
}

template <class T>
class CpuPrivateScatter {
 public:
  /// Runs kernel(i) for i in [0, n).  The kernel adds into `target` (`size`
  /// entries, of which it touches only those in `entries`; the caller zeroes
  /// them or lets them accumulate); retarget(kernel, buffer) must return a
  /// copy of the kernel that adds into `buffer` instead.
  template <class Kernel, class Entries, class Retarget>
  void run(std::size_t n, const Kernel& kernel, T* target, std::size_t size, const Entries& entries,
           const Retarget& retarget) {
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
      if (t > 0) {
        std::vector<T>& mine = copies_[t - 1];
        if (mine.size() != size) mine.assign(size, T{});
        for_each_entry(entries, 0, entries.rows(), [&](std::size_t e) { mine[e] = T{}; });
      }
      const Kernel mine = t > 0 ? retarget(kernel, copies_[t - 1].data()) : kernel;
      for_each_owned(n, t, team, mine);
#pragma omp barrier
      const std::size_t rows = entries.rows();
#pragma omp for schedule(static)
      for (std::size_t r = 0; r < rows; ++r)
        for_each_entry(entries, r, r + 1, [&](std::size_t e) {
          for (int k = 0; k < team - 1; ++k) target[e] += copies_[k][e];
        });
    }
  }

 private:
  std::vector<std::vector<T>> copies_;  // one per extra thread, reused across calls
};

/// The forward P2G's scheme (cpu_p2g.hpp) for any kernel that scatters into a
/// grid's momentum and mass through its `grid` member: same particle blocks,
/// same private grids, same node-by-node sum in thread order, so a kernel
/// doing P2G's arithmetic reproduces the forward grid bit for bit.  The private
/// grids are zeroed and summed over `box` only (node_box.hpp).
template <class Real, int D>
class CpuGridScatter {
 public:
  /// `kernel.grid.momentum` and `.mass` must be zeroed by the caller over
  /// `box`, which must hold every particle's stencil.
  template <class Kernel>
  void run(std::size_t n, const NodeBox<D>& box, const Kernel& kernel) {
    const int threads = omp_get_max_threads();
    if (threads == 1) {
      const ScopedFlushDenormals flush;
      for (std::size_t p = 0; p < n; ++p) kernel(p);
      return;
    }
    const BoxEntries<D> entries(box, kernel.grid.res);
    std::size_t size = 1;
    for (int a = 0; a < D; ++a) size *= std::size_t(kernel.grid.res[a]);
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
      Kernel mine = kernel;
      if (t > 0) {
        std::vector<Vec<Real, D>>& momentum = momentum_[t - 1];
        std::vector<Real>& mass = mass_[t - 1];
        if (momentum.size() != size) momentum.assign(size, Vec<Real, D>::zero());
        if (mass.size() != size) mass.assign(size, Real(0));
        for_each_entry(entries, 0, entries.rows(), [&](std::size_t node) {
          momentum[node] = Vec<Real, D>::zero();
          mass[node] = Real(0);
        });
        mine.grid.momentum = momentum.data();
        mine.grid.mass = mass.data();
      }
      // Thread t always gets the same particles for a given n (cpu_parallel.hpp).
      for_each_owned(n, t, team, mine);
#pragma omp barrier
      const std::size_t rows = entries.rows();
#pragma omp for schedule(static)
      for (std::size_t r = 0; r < rows; ++r)
        for_each_entry(entries, r, r + 1, [&](std::size_t node) {
          for (int k = 0; k < team - 1; ++k) {
            kernel.grid.momentum[node] += momentum_[k][node];
            kernel.grid.mass[node] += mass_[k][node];
          }
        });
    }
  }

 private:
  std::vector<std::vector<Vec<Real, D>>> momentum_;  // one private grid per extra thread
  std::vector<std::vector<Real>> mass_;
};

/// The CPU's AdjointRunner (see mpm_backend_impl.hpp): P2GRecordStress
/// scatters the recomputed grid over particles, AdjG2P scatters
/// dL/d(grid velocity) over particles, AdjGridUpdate the 2 D wall-friction
/// gradients over nodes.  AdjP2G is a gather and needs no runner.
template <class Real, int D>
class CpuAdjointRunner {
 public:
  void p2g(std::size_t n, const NodeBox<D>& box, const P2GRecordStress<Real, D, PlainAccumulate>& kernel) {
    grid_.run(n, box, kernel);
  }
  void g2p(std::size_t n, const NodeBox<D>& box, const AdjG2P<Real, D, PlainAccumulate>& kernel) {
    std::size_t size = 1;
    for (int a = 0; a < D; ++a) size *= std::size_t(kernel.grid.res[a]);
    velocity_.run(n, kernel, kernel.adj_grid_velocity, size, BoxEntries<D>(box, kernel.grid.res),
                  [](AdjG2P<Real, D, PlainAccumulate> k, Vec<Real, D>* buf) {
      k.adj_grid_velocity = buf;
      return k;
    });
  }
  void grid_update(const NodeBox<D>& box, const AdjGridUpdate<Real, D, PlainAccumulate>& kernel) {
    const std::size_t friction = std::size_t(2 * D + kernel.tools.count * kToolAdjointSize<D>);  // + issue 6 tool blocks
    using Rows = OverBoxRows<AdjGridUpdate<Real, D, PlainAccumulate>, D>;
    friction_.run(box.rows(), Rows{over_box(kernel, box, kernel.grid.res)}, kernel.adj_friction, friction,
                  DenseEntries{friction}, [](Rows k, Real* buf) {
                    k.nodes.kernel.adj_friction = buf;
                    return k;
                  });
  }

 private:
  CpuGridScatter<Real, D> grid_;
  CpuPrivateScatter<Vec<Real, D>> velocity_;
  CpuPrivateScatter<Real> friction_;
};

}  // namespace pl
