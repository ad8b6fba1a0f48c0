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

}  // namespace pl
