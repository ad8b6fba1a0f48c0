// The MPM CPU backend's parallel loop: what parallel_for<CpuExec> runs.
//
// A static schedule (for_each_owned: blocks dealt round robin), with what the
// profile asked for:
//  - every thread of the team runs its chunk under ScopedFlushDenormals
//    (engine/core/float_env.hpp: subnormal assists were 18-30% of S2/S3 2D);
//  - launches too small to pay for waking the team run on the calling thread
//    (one-element fills, a few hundred nodes): a fork/join costs microseconds
//    with spinning threads and ~100 us on this VM under OMP_WAIT_POLICY=PASSIVE.
// Every kernel run through it is per-element independent (scatters go through
// cpu_p2g.hpp / cpu_scatter.hpp), so the schedule does not change results.
#pragma once

#include <omp.h>

#include <cstddef>

#include "engine/core/float_env.hpp"

namespace pl {

/// Launches below this many elements run serially on the calling thread.
constexpr std::size_t kCpuSerialBelow = 512;

/// Particles are dealt to the threads in blocks of this many, round robin,
/// not in one contiguous slice per thread: scenes list their particles body by
/// body, and bodies differ in cost (S2: fluid, jelly, then snow with its SVD;
/// contiguous halves left one thread ~25% more work).  Blocks keep each
/// thread's particles contiguous in memory; the deal depends only on n and the
/// team size, so the private-grid sums stay bit-for-bit reproducible.
constexpr std::size_t kCpuBlock = 256;

/// Calls f(i) for every i in [0, n) that thread t of a team of `team` owns
/// (the same deal for every kernel: cpu_p2g.hpp and cpu_scatter.hpp rely on it).
template <class F>
inline void for_each_owned(std::size_t n, int t, int team, const F& f) {
  const std::size_t stride = kCpuBlock * std::size_t(team);
  for (std::size_t start = kCpuBlock * std::size_t(t); start < n; start += stride) {
    const std::size_t end = start + kCpuBlock < n ? start + kCpuBlock : n;
    for (std::size_t i = start; i < end; ++i) f(i);
  }
}

template <class Kernel>
void cpu_for_each_n(std::size_t n, const Kernel& kernel) {
  if (n < kCpuSerialBelow || omp_get_max_threads() == 1) {
    const ScopedFlushDenormals flush;
    for (std::size_t i = 0; i < n; ++i) kernel(i);
    return;
  }
#pragma omp parallel
  {
    const ScopedFlushDenormals flush;
    for_each_owned(n, omp_get_thread_num(), omp_get_num_threads(), kernel);
  }
}

/// Runs an OverBox (kernels/mpm/node_box.hpp) row by row: rows are contiguous
/// in the grid, so the node index is a division per row, not per node (the
/// per-node form cost S2 ~10% at 1 thread).  Small boxes run serially.
template <class Box>
void cpu_for_each_box(const Box& over) {
  const std::size_t rows = over.box.rows();
  if (over.box.count() < 8 * kCpuSerialBelow || omp_get_max_threads() == 1) {
    const ScopedFlushDenormals flush;
    for (std::size_t r = 0; r < rows; ++r) over.row(r);
    return;
  }
#pragma omp parallel
  {
    const ScopedFlushDenormals flush;
#pragma omp for schedule(static)
    for (std::size_t r = 0; r < rows; ++r) over.row(r);
  }
}

}  // namespace pl
