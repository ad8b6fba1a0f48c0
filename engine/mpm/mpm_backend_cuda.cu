// CUDA backend: the shared MPM implementation with Thrust's CUDA policy.  The
// kernel bodies are the same PL_HD functors the CPU tests exercise.
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>

#include "engine/mpm/mpm_backend_impl.hpp"

namespace pl {

struct CudaExec {
  template <class T>
  using Vector = thrust::device_vector<T>;
  static auto policy() { return thrust::cuda::par; }
};

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_mpm_backend(const GridShape<Real, D>& grid) {
  return std::make_unique<MpmBackendImpl<CudaExec, Real, D>>(grid);
}

// float is what users run on the GPU; double is for gradient checks on CPU.
template std::unique_ptr<MpmBackend<float, 2>> make_cuda_mpm_backend(const GridShape<float, 2>&);
template std::unique_ptr<MpmBackend<float, 3>> make_cuda_mpm_backend(const GridShape<float, 3>&);

}  // namespace pl
