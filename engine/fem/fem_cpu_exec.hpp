// The CPU execution policy for FEM kernels (Thrust's OpenMP backend), shared by
// the FEM translation units that launch kernels with pl::parallel_for.
#pragma once

#include <cstddef>

#include <thrust/system/omp/execution_policy.h>

#include "engine/core/parallel.hpp"

namespace pl::fem {

struct FemCpuExec {
  static auto policy() { return thrust::omp::par; }
};

/// parallel_for on the CPU, but a plain loop for small launches: waking an
/// OpenMP team costs tens of microseconds (more under OMP_WAIT_POLICY=PASSIVE),
/// more than a few hundred tets take, and small meshes call these many times
/// per Newton iteration.  Same kernel body either way.
constexpr std::size_t kFemSerialBelow = 256;
template <class Kernel>
void fem_cpu_for(std::size_t n, const Kernel& kernel) {
  if (n < kFemSerialBelow) {
    for (std::size_t i = 0; i < n; ++i) kernel(i);
  } else {
    parallel_for<FemCpuExec>(n, kernel);
  }
}

}  // namespace pl::fem
