// The backend interface of an MPM world: where the state lives and how one
// substep runs.  Implementations are the same template (mpm_backend_impl.hpp)
// instantiated with a CPU (OpenMP) or CUDA execution policy.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/core/backend.hpp"
#include "engine/mpm/particle_set.hpp"
#include "kernels/coupling/tool_reaction.hpp"
#include "kernels/mpm/boundary.hpp"
#include "kernels/mpm/views.hpp"

namespace pl {

// ---- issue 6: MPM <-> FEM coupling hook (engine/coupling/mpm_fem_coupling.hpp) ----
/// Something that adds momentum to the grid between P2G and the grid update
/// (the MPM <-> FEM penalty).  Runs on the host with the backend's grid
/// memory, so only backends whose grid lives in host memory (the CPU one) call it.
template <class Real, int D>
class GridCouplingHook {
 public:
  virtual ~GridCouplingHook() = default;
  /// grid.momentum += what the hook adds (grid.mass: P2G masses, read only).
  virtual void apply(const GridView<Real, D>& grid, Real dt) = 0;
  /// Adjoint of the last apply: adj_grid.momentum / .mass hold dL/d(momentum
  /// after apply) and dL/d(mass); turns the first into dL/d(P2G momentum) and
  /// ACCUMULATES into the second; the hook keeps its own inputs' gradients.
  virtual void adjoint(const GridView<Real, D>& grid, const GridAdjointView<Real, D>& adj_grid, Real dt) = 0;
};
// ---- end issue 6 coupling hook ----

template <class Real, int D>
struct SubstepParams {
  Real dt;
  Vec<Real, D> gravity;
  WallConditions<Real, D> walls;
  Real velocity_scale;  // exp(-damping dt); 1 without damping
  ToolSet<Real, D> tools{};  // issue 6: rigid tools of this substep (kernels/coupling/tool_state.hpp)
  GridCouplingHook<Real, D>* grid_hook = nullptr;  // issue 6: MPM <-> FEM coupling (CPU backend), or none
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
  /// Grid mass and velocity after the last substep (for tests and outputs;
  /// after adjoint_substep: those recomputed from the loaded state).
  virtual void download_grid(std::vector<Real>& mass, std::vector<Vec<Real, D>>& velocity) const = 0;

  // ---- differentiation -------------------------------------------------------------
  // The backward pass of a rollout s_0 -> s_1 -> ... -> s_T, with the states
  // kept in backend-owned slots (device memory on CUDA) at checkpoints:
  //
  //   int s0 = backend.save_state();                    // checkpoint(s) during the forward
  //   for (n ...) backend.substep(params);
  //   backend.zero_adjoint();
  //   for (n = T - 1; n >= 0; --n) {
  //     backend.add_state_adjoint(dL_ds[n + 1]);         // the loss's direct term at frame n+1, if any
  //     backend.load_state(slot_of(n));                  // s_n (recomputed from a checkpoint)
  //     if (backend.adjoint_substep(params) != kNoFault) ... // name step n, kernel, quantity
  //     backend.download_force_adjoint(dL_df[n]);        // if forces are optimized
  //   }
  //   backend.add_state_adjoint(dL_ds[0]);
  //   backend.download_state_adjoint(dL_ds0);  backend.download_parameter_gradients(g);
  //
  // Determinism: on the CPU backend every scatter of the backward pass goes into
  // per-thread private buffers over static particle / node chunks, summed in
  // thread order, so gradients are bit-identical run to run for a given
  // OpenMP thread count (and agree to round-off across thread counts).  On
  // CUDA the scatters are atomics: run-to-run differences at round-off.

  /// Bytes of one saved state (x, v, F, C, plastic of every particle).
  virtual std::size_t state_bytes() const = 0;
  /// Copies the current state into a new slot; returns its id (0, 1, ...).
  virtual int save_state() = 0;
  /// Overwrites slot `slot` with the current state.
  virtual void save_state(int slot) = 0;
  /// Current state := slot `slot`.  Throws std::out_of_range for a bad id and
  /// std::invalid_argument when the particle count changed since it was saved.
  virtual void load_state(int slot) = 0;
  /// Releases every slot (ids restart at 0).
  virtual void free_states() = 0;

  /// Sets every adjoint buffer to zero: dL/ds, parameter, mass, friction and
  /// force gradients.  Also sizes them for the uploaded particles.
  virtual void zero_adjoint() = 0;
  /// dL/ds += a (each of a's vectors has one entry per particle, or is empty = 0).
  virtual void add_state_adjoint(const ParticleAdjoint<Real, D>& a) = 0;
  virtual void download_state_adjoint(ParticleAdjoint<Real, D>& a) const = 0;
  /// dL/ds := a (used to zero non-finite entries on request).
  virtual void set_state_adjoint(const ParticleAdjoint<Real, D>& a) = 0;
  /// Replaces the per-particle external forces [N] (one per particle, or empty
  /// for none) without re-uploading the state: per-step actuation.
  virtual void set_forces(const std::vector<Vec<Real, D>>& forces) = 0;
  /// With the current state s_n loaded and the adjoint buffers holding
  /// dL/ds_{n+1}: recomputes P2G and the grid update from s_n, then runs
  /// AdjG2P, AdjGridUpdate, AdjP2G so the buffers hold dL/ds_n, and
  /// ACCUMULATES parameter, mass and wall-friction gradients; the external
  /// force gradient of THIS substep replaces the previous one.  Does not change
  /// the current state.  Returns the lowest adjoint fault key
  /// (kernels/mpm/views.hpp: kernel, particle or node, quantity), kNoFault
  /// when every adjoint stayed finite.  Throws InputError when a particle's
  /// material model has no adjoint (M::kHasAdjoint false), naming the model.
  virtual std::uint64_t adjoint_substep(const SubstepParams<Real, D>& params) = 0;
  /// Parameter, mass and wall-friction gradients accumulated since zero_adjoint
  /// (per_material summed on the host, in particle order).
  virtual void download_parameter_gradients(ParameterGradients<Real, D>& g) const = 0;
  /// dL/d(external force on each particle) of the last adjoint_substep.
  virtual void download_force_adjoint(std::vector<Vec<Real, D>>& adj_f) const = 0;

  // ---- issue 6: rigid tools (engine/coupling) ----------------------------------------
  /// Copies a mesh tool's distance field into kernel memory; the returned
  /// pointer (for ToolState::geometry.grid.values) lives as long as the backend.
  virtual const Real* upload_tool_field(const std::vector<Real>& values) = 0;
  /// Force and torque on each tool (params.tools order) during the last substep.
  virtual void download_tool_reactions(std::vector<ToolWrench<Real>>& reactions) const = 0;
  /// Each tool's gradient block (ToolAdjointIndex<D>, tools.count blocks) of
  /// the last adjoint_substep: dL/d(pose, velocity, friction, stiffness) of that substep.
  virtual void download_tool_adjoint(std::vector<Real>& blocks) const = 0;
};

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cpu_mpm_backend(const GridShape<Real, D>& grid);
#ifdef PLIANT_WITH_CUDA
template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_mpm_backend(const GridShape<Real, D>& grid);
#endif

}  // namespace pl
