// The MPM CPU backend's parallel loop: what parallel_for<CpuExec> runs.
//
// Same static schedule as Thrust's OpenMP for_each (contiguous equal chunks),
// with two differences that the profile asked for:
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
#pragma omp for schedule(static)
    for (std::size_t i = 0; i < n; ++i) kernel(i);
  }
}

}  // namespace pl
