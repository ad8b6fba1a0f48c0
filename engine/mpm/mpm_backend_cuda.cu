// CUDA backend: the shared MPM implementation with Thrust's CUDA policy (the
// reference path), and the choice between it and the fast path
// (cuda_paths.cuh).  The kernel bodies are the same PL_HD functors the CPU
// tests exercise.
#include <cstdlib>
#include <string>

#include "engine/core/error.hpp"
#include "engine/mpm/cuda_exec.cuh"
#include "engine/mpm/cuda_paths.cuh"
#include "engine/mpm/mpm_backend_impl.hpp"

namespace pl {

CudaPath cuda_path_from_environment() {
  const char* value = std::getenv("PLIANT_CUDA_PATH");
  if (!value || !*value) return CudaPath::Reference;
  const std::string v = value;
  if (v == "reference") return CudaPath::Reference;
  if (v == "fast") return CudaPath::Fast;
  throw InputError("environment variable PLIANT_CUDA_PATH='" + v + "': expected 'reference' or 'fast'");
}

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_reference_mpm_backend(const GridShape<Real, D>& grid) {
  return std::make_unique<MpmBackendImpl<CudaExec, Real, D>>(grid);
}

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_mpm_backend(const GridShape<Real, D>& grid) {
  if (cuda_path_from_environment() == CudaPath::Fast) return make_cuda_fast_mpm_backend<Real, D>(grid);
  return make_cuda_reference_mpm_backend<Real, D>(grid);
}

// float is what users run on the GPU; double is for gradient checks on CPU.
template std::unique_ptr<MpmBackend<float, 2>> make_cuda_reference_mpm_backend(const GridShape<float, 2>&);
template std::unique_ptr<MpmBackend<float, 3>> make_cuda_reference_mpm_backend(const GridShape<float, 3>&);
template std::unique_ptr<MpmBackend<float, 2>> make_cuda_mpm_backend(const GridShape<float, 2>&);
template std::unique_ptr<MpmBackend<float, 3>> make_cuda_mpm_backend(const GridShape<float, 3>&);

}  // namespace pl
