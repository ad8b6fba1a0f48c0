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
#include <type_traits>
#include <utility>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

namespace pl {

/// Whether Exec brings its own loop, `Exec::for_each_n(n, kernel)` (the MPM
/// CPU backend's, engine/mpm/cpu_parallel.hpp: same static schedule as
/// Thrust's OpenMP loop, plus the floating-point environment of its kernels).
template <class Exec, class Kernel, class = void>
struct HasOwnLoop : std::false_type {};
template <class Exec, class Kernel>
struct HasOwnLoop<Exec, Kernel,
                  std::void_t<decltype(Exec::for_each_n(std::size_t(), std::declval<const Kernel&>()))>>
    : std::true_type {};

template <class Exec, class Kernel>
void parallel_for(std::size_t n, const Kernel& kernel) {
  if (n == 0) return;
  if constexpr (HasOwnLoop<Exec, Kernel>::value)
    Exec::for_each_n(n, kernel);
  else
    thrust::for_each_n(Exec::policy(), thrust::counting_iterator<std::size_t>(0), n, kernel);
}

}  // namespace pl
