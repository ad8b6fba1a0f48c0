// The backend interface of an MPM world: where the state lives and how one
// substep runs.  Implementations are the same template (mpm_backend_impl.hpp)
// instantiated with a CPU (OpenMP) or CUDA execution policy.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/core/backend.hpp"
#include "engine/mpm/particle_set.hpp"
#include "kernels/mpm/boundary.hpp"
#include "kernels/mpm/views.hpp"

namespace pl {

template <class Real, int D>
struct SubstepParams {
  Real dt;
  Vec<Real, D> gravity;
  WallConditions<Real, D> walls;
  Real velocity_scale;  // exp(-damping dt); 1 without damping
};

template <class Real, int D>
struct GridShape {
  int res[D];
  Vec<Real, D> origin;
  Real dx;
  std::size_t num_nodes() const {
    std::size_t n = 1;
    for (int a = 0; a < D; ++a) n *= std::size_t(res[a]);
    return n;
  }
};

template <class Real, int D>
class MpmBackend {
 public:
  virtual ~MpmBackend() = default;
  virtual void upload(const ParticleSet<Real, D>& particles, const std::vector<MaterialSlot<Real>>& materials) = 0;
  virtual void download(ParticleSet<Real, D>& particles) const = 0;
  /// P2G, grid update, G2P.  Returns the lowest fault key (kNoFault if none).
  virtual std::uint64_t substep(const SubstepParams<Real, D>& params) = 0;
  /// Grid mass and velocity after the last substep (for tests and outputs).
  virtual void download_grid(std::vector<Real>& mass, std::vector<Vec<Real, D>>& velocity) const = 0;
};

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cpu_mpm_backend(const GridShape<Real, D>& grid);
#ifdef PLIANT_WITH_CUDA
template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_mpm_backend(const GridShape<Real, D>& grid);
#endif

}  // namespace pl
