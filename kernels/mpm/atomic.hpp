// Scatter-add used by P2G on every backend.  cuda::atomic_ref (libcu++) lowers
// to a hardware atomic on the GPU and to a GCC __atomic CAS loop on the host.
#pragma once

#include <cuda/atomic>

#include "engine/core/config.hpp"

namespace pl {

template <class T>
PL_HD PL_INLINE void atomic_add(T* address, T value) {
  cuda::atomic_ref<T, cuda::thread_scope_device> ref(*address);
  ref.fetch_add(value, cuda::memory_order_relaxed);
}

template <class T>
PL_HD PL_INLINE void atomic_min(T* address, T value) {
  cuda::atomic_ref<T, cuda::thread_scope_device> ref(*address);
  ref.fetch_min(value, cuda::memory_order_relaxed);
}

/// How P2G adds into the grid.  GPU threads share one grid, so they use
/// atomics; the CPU backend gives each thread a private grid and sums them
/// afterwards, so its adds need no atomics (engine/mpm/cpu_p2g.hpp).
struct AtomicAccumulate {
  template <class T>
  PL_HD PL_INLINE static void add(T* address, T value) {
    atomic_add(address, value);
  }
};
struct PlainAccumulate {
  template <class T>
  PL_HD PL_INLINE static void add(T* address, T value) {
    *address += value;
  }
};

}  // namespace pl
