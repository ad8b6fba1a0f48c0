// The CUDA execution backend of the shared MPM implementation
// (mpm_backend_impl.hpp): thrust::cuda::par, device vectors, atomics for every
// scatter.  Included by the .cu files that instantiate the reference path or
// use it (mpm_backend_cuda.cu, cuda_fast_backend.cu).
#pragma once

#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>

#include "engine/core/parallel.hpp"
#include "kernels/mpm/g2p.hpp"
#include "kernels/mpm/grid_update.hpp"
#include "kernels/mpm/node_box.hpp"
#include "kernels/mpm/p2g.hpp"

namespace pl {

struct CudaExec {
  template <class T>
  using Vector = thrust::device_vector<T>;
  static auto policy() { return thrust::cuda::par; }
  /// The host side of a substep only launches kernels: nothing to set there
  /// (the CPU backend flushes subnormals, engine/core/float_env.hpp).
  struct FloatEnvironment {};

  /// All GPU threads scatter into the one grid with atomics.
  template <class Real, int D>
  struct P2GRunner {
    void operator()(std::size_t n, const ParticleView<Real, D>& particles, const GridView<Real, D>& grid,
                    const NodeBox<D>& /*box*/, const MaterialSlot<Real>* materials, Real dt) {
      parallel_for<CudaExec>(n, P2G<Real, D, AtomicAccumulate>{particles, grid, materials, dt});
    }
  };

  /// The backward pass's scatters (dL/d grid velocity, wall friction) are atomics too.
  using ScatterAccumulate = AtomicAccumulate;
  template <class Real, int D>
  struct AdjointRunner {
    void g2p(std::size_t n, const NodeBox<D>& /*box*/, const AdjG2P<Real, D, AtomicAccumulate>& kernel) {
      parallel_for<CudaExec>(n, kernel);
    }
    void grid_update(const NodeBox<D>& box, const AdjGridUpdate<Real, D, AtomicAccumulate>& kernel) {
      parallel_for<CudaExec>(box.count(), over_box(kernel, box, kernel.grid.res));
    }
  };
};

}  // namespace pl
