// The kernel layer: one loop construct for every backend.
//
// A kernel is a functor with a PL_HD `operator()(size_t i)`.  parallel_for
// launches it over [0, n) with the backend's Thrust execution policy
// (thrust::omp::par on CPU, thrust::cuda::par on CUDA); nothing else differs
// between backends.  Execution policies come from an Exec struct defined in the
// backend's own translation unit (see engine/mpm/mpm_backend_cpu.cpp / _cuda.cu),
// so this header pulls in no backend-specific system headers.
#pragma once

#include <cstddef>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

namespace pl {

template <class Exec, class Kernel>
void parallel_for(std::size_t n, const Kernel& kernel) {
  if (n == 0) return;
  thrust::for_each_n(Exec::policy(), thrust::counting_iterator<std::size_t>(0), n, kernel);
}

}  // namespace pl
