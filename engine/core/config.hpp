// Compile-time configuration shared by host code and kernels.
//
// PL_HD marks functions that must be callable from both the CPU (OpenMP through
// Thrust) and CUDA kernels.  Every per-particle/per-node/per-element body in
// kernels/ and materials/ carries it, so the CPU test suite exercises exactly
// the code that runs on the GPU.
#pragma once

#if defined(__CUDACC__)
#define PL_HD __host__ __device__
#define PL_INLINE __forceinline__
#else
#define PL_HD
#define PL_INLINE inline
#endif

namespace pl {

// Dimension is a template parameter everywhere (2 or 3); this guard gives a
// readable error instead of a page of template noise.
template <int D>
constexpr bool kValidDim = (D == 2 || D == 3);

}  // namespace pl
