// Run-time backend selection.
//
// Kernel bodies are compiled for every backend built into this binary; the
// user picks one per simulation: "cpu" (OpenMP through Thrust), "cuda" (only
// when Pliant was built with nvcc AND a GPU is visible) or "auto" (CUDA if
// usable, else CPU).  Asking for "cuda" when it cannot run is an InputError
// that says why, never a silent fallback.
#pragma once

#include <string>

namespace pl {

enum class Backend { Cpu, Cuda };

/// "cpu" | "cuda" | "auto"  ->  a backend that can run here.
Backend resolve_backend(const std::string& requested, const std::string& context = "");
const char* backend_name(Backend b);

/// True when this binary contains the CUDA backend (built with nvcc).
bool cuda_compiled();
/// Number of usable CUDA devices (0 without CUDA support or without a GPU).
int cuda_device_count();
/// A human-readable reason why CUDA is unavailable ("" when it is available).
std::string cuda_unavailable_reason();

/// Threads used by the CPU backend (OpenMP).  0 or negative means "all cores".
void set_cpu_threads(int threads);
int cpu_threads();

}  // namespace pl
