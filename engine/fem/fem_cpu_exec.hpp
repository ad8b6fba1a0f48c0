// The CPU execution policy for FEM kernels (Thrust's OpenMP backend), shared by
// the FEM translation units that launch kernels with pl::parallel_for.
#pragma once

#include <thrust/system/omp/execution_policy.h>

namespace pl::fem {

struct FemCpuExec {
  static auto policy() { return thrust::omp::par; }
};

}  // namespace pl::fem
