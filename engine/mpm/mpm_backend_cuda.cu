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

  /// All GPU threads scatter into the one grid with atomics.
  template <class Real, int D>
  struct P2GRunner {
    void operator()(std::size_t n, const ParticleView<Real, D>& particles, const GridView<Real, D>& grid,
                    std::size_t /*num_nodes*/, const MaterialSlot<Real>* materials, Real dt) {
      parallel_for<CudaExec>(n, P2G<Real, D, AtomicAccumulate>{particles, grid, materials, dt});
    }
  };

  /// The backward pass's scatters (dL/d grid velocity, wall friction) are atomics too.
  using ScatterAccumulate = AtomicAccumulate;
  template <class Real, int D>
  struct AdjointRunner {
    void g2p(std::size_t n, std::size_t /*num_nodes*/, const AdjG2P<Real, D, AtomicAccumulate>& kernel) {
      parallel_for<CudaExec>(n, kernel);
    }
    void grid_update(std::size_t num_nodes, const AdjGridUpdate<Real, D, AtomicAccumulate>& kernel) {
      parallel_for<CudaExec>(num_nodes, kernel);
    }
  };
};

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_mpm_backend(const GridShape<Real, D>& grid) {
  return std::make_unique<MpmBackendImpl<CudaExec, Real, D>>(grid);
}

// float is what users run on the GPU; double is for gradient checks on CPU.
template std::unique_ptr<MpmBackend<float, 2>> make_cuda_mpm_backend(const GridShape<float, 2>&);
template std::unique_ptr<MpmBackend<float, 3>> make_cuda_mpm_backend(const GridShape<float, 3>&);

}  // namespace pl
