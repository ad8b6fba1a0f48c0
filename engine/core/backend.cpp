#include "engine/core/backend.hpp"

#include <omp.h>

#include "engine/core/error.hpp"

namespace pl {

#ifdef PLIANT_WITH_CUDA
// Defined in engine/core/cuda_device.cu, the only TU that talks to the CUDA runtime.
int cuda_runtime_device_count(std::string* reason);
#endif

bool cuda_compiled() {
#ifdef PLIANT_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef PLIANT_WITH_CUDA
  std::string reason;
  return cuda_runtime_device_count(&reason);
#else
  return 0;
#endif
}

std::string cuda_unavailable_reason() {
#ifdef PLIANT_WITH_CUDA
  std::string reason;
  if (cuda_runtime_device_count(&reason) > 0) return "";
  return "no usable CUDA device: " + reason;
#else
  return "this Pliant was built without CUDA (no nvcc found at configure time, or PLIANT_CUDA=OFF)";
#endif
}

Backend resolve_backend(const std::string& requested, const std::string& context) {
  const std::string where = context.empty() ? "backend" : context;
  if (requested == "cpu") return Backend::Cpu;
  if (requested == "auto") return cuda_device_count() > 0 ? Backend::Cuda : Backend::Cpu;
  if (requested == "cuda") {
    const std::string why = cuda_unavailable_reason();
    if (!why.empty()) throw InputError(where + ": backend 'cuda' requested but " + why + "; use 'cpu' or 'auto'");
    return Backend::Cuda;
  }
  throw InputError(where + ": unknown backend '" + requested + "', expected one of cpu, cuda, auto");
}

const char* backend_name(Backend b) { return b == Backend::Cuda ? "cuda" : "cpu"; }

void set_cpu_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs()); }
int cpu_threads() { return omp_get_max_threads(); }

}  // namespace pl
