// Denormal (subnormal) floats flushed to zero inside the CPU kernels.
//
// Why: x86 cores handle a subnormal operand or result with a microcode assist
// (on the order of 100 cycles per instruction instead of ~4).  MPM produces
// them routinely in float32: quadratic B-spline weights near the stencil edge
// times small velocities, decaying grid momenta far from the material, adjoints
// that fade away from the loss.  perf on the S2 and S3 2D benchmarks
// (docs/peer_results.md) showed 18-30% of the one-thread time in such assists;
// with flush-to-zero (FTZ: subnormal results become 0) and denormals-are-zero
// (DAZ: subnormal inputs read as 0) the same runs gave the same loss to every
// printed digit.  Values below 1.2e-38 (float) / 2.2e-308 (double) carry no
// physics (CUDA flushes float subnormals too under -ftz=true / --use_fast_math).
//
// Scope: a ScopedFlushDenormals sets FTZ|DAZ in the MXCSR of the thread that
// constructs it and restores the previous value when it goes out of scope, so
// code outside the kernels (the caller's numpy, Python, the FEM engine) keeps
// IEEE subnormals.  The CPU MPM backend holds one on the calling thread for a
// whole substep and one per OpenMP thread inside every parallel region
// (engine/mpm/cpu_parallel.hpp), so a kernel sees the same arithmetic at any
// thread count, forward and recomputed-in-backward alike (bit-identity of the
// recomputed grid is kept).  No-op where the MXCSR does not exist (non-x86
// hosts, device code).
#pragma once

#if (defined(__x86_64__) || defined(_M_X64) || defined(__SSE2__)) && !defined(__CUDA_ARCH__)
#include <xmmintrin.h>
#define PL_HAVE_MXCSR 1
#else
#define PL_HAVE_MXCSR 0
#endif

namespace pl {

class ScopedFlushDenormals {
 public:
#if PL_HAVE_MXCSR
  // MXCSR bit 15 = FTZ, bit 6 = DAZ (Intel SDM vol. 1, 10.2.3).
  static constexpr unsigned kFlushBits = 0x8040u;
  ScopedFlushDenormals() : saved_(_mm_getcsr()) {
    if ((saved_ & kFlushBits) != kFlushBits) _mm_setcsr(saved_ | kFlushBits);
  }
  ~ScopedFlushDenormals() {
    if ((saved_ & kFlushBits) != kFlushBits) _mm_setcsr(saved_);
  }
  /// Whether the calling thread flushes subnormals now (tests).
  static bool active() { return (_mm_getcsr() & kFlushBits) == kFlushBits; }
#else
  ScopedFlushDenormals() = default;
  static bool active() { return false; }
#endif
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
#if PL_HAVE_MXCSR
  unsigned saved_;
#endif
};

}  // namespace pl
