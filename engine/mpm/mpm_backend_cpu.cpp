// CPU backend: the shared MPM implementation with Thrust's OpenMP policy.
#include <thrust/host_vector.h>
#include <thrust/system/omp/execution_policy.h>

#include "engine/mpm/cpu_p2g.hpp"
#include "engine/mpm/cpu_parallel.hpp"
#include "engine/mpm/cpu_scatter.hpp"
#include "engine/mpm/mpm_backend_impl.hpp"

namespace pl {

struct CpuExec {
  template <class T>
  using Vector = thrust::host_vector<T>;
  static auto policy() { return thrust::omp::par; }
  /// parallel_for's loop (cpu_parallel.hpp): subnormals flushed, small launches serial.
  template <class Kernel>
  static void for_each_n(std::size_t n, const Kernel& kernel) {
    cpu_for_each_n(n, kernel);
  }
  /// Grid kernels over a node box, row by row (cpu_parallel.hpp).
  template <class Box>
  static void for_each_box(const Box& over) {
    cpu_for_each_box(over);
  }
  /// Held on the calling thread for a whole (adjoint) substep (engine/core/float_env.hpp).
  using FloatEnvironment = ScopedFlushDenormals;
  template <class Real, int D>
  using P2GRunner = CpuP2G<Real, D>;
  using ScatterAccumulate = PlainAccumulate;  // private per-thread buffers (cpu_scatter.hpp)
  template <class Real, int D>
  using AdjointRunner = CpuAdjointRunner<Real, D>;
};

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cpu_mpm_backend(const GridShape<Real, D>& grid) {
  return std::make_unique<MpmBackendImpl<CpuExec, Real, D>>(grid);
}

template std::unique_ptr<MpmBackend<float, 2>> make_cpu_mpm_backend(const GridShape<float, 2>&);
template std::unique_ptr<MpmBackend<float, 3>> make_cpu_mpm_backend(const GridShape<float, 3>&);
template std::unique_ptr<MpmBackend<double, 2>> make_cpu_mpm_backend(const GridShape<double, 2>&);
template std::unique_ptr<MpmBackend<double, 3>> make_cpu_mpm_backend(const GridShape<double, 3>&);

}  // namespace pl
