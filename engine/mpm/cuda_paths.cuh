// The two CUDA implementations of MpmBackend and how a run picks one.
//
//   reference  mpm_backend_impl.hpp with thrust::cuda::par: one thread per
//              particle, global atomics, unsorted particles.  Simple, and the
//              only CUDA path with a backward pass.
//   fast       cuda_fast_backend.cu: block-sorted particles (CUB radix sort),
//              shared-memory P2G per grid block, fused G2P2G.  Forward runs;
//              the first call of the differentiation API hands the state to
//              a reference backend (see cuda_fast_backend.cu).
//
// Both run the same per-particle PL_HD bodies (kernels/mpm) as the CPU.  The
// environment variable PLIANT_CUDA_PATH=reference|fast picks one for every
// CUDA world created afterwards; unset means reference until the fast path
// has been checked on a GPU with pliant_gpu_check (docs/cuda_fast_path.md).
#pragma once

#include <memory>

#include "engine/mpm/mpm_backend.hpp"

namespace pl {

enum class CudaPath { Reference, Fast };

/// Reads PLIANT_CUDA_PATH; throws InputError naming the variable and the
/// accepted values for anything else.
CudaPath cuda_path_from_environment();

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_reference_mpm_backend(const GridShape<Real, D>& grid);
template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_fast_mpm_backend(const GridShape<Real, D>& grid);

}  // namespace pl
