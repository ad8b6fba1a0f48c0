// The one translation unit that queries the CUDA runtime for devices.
#include <cuda_runtime.h>

#include <string>

namespace pl {

int cuda_runtime_device_count(std::string* reason) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    if (reason) *reason = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls are not poisoned
    return 0;
  }
  if (count == 0 && reason) *reason = "the CUDA runtime reports 0 devices";
  return count;
}

}  // namespace pl
