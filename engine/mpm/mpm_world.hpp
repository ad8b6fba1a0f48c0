// An MPM world: settings, material table, bodies, and the backend that steps it.
//
// Usage:
//   MpmSettings<3> s = MpmSettings<3>::cube(1.0, 64);
//   s.gravity = {0, -9.8, 0};
//   MpmWorld<float, 3> world(s, {make_material("jelly", "fixed_corotated", {{"E", 1e4}}, 1000, "")});
//   world.add_body("cube", sample_box(...), /*material=*/0, /*velocity=*/{0, 0, 0}, volume_per_particle);
//   world.step(100);                        // throws SimulationError on NaN / leaving the domain
//   const auto& p = world.particles();      // host copy, synchronized
//
// The host copy of the particles is the source of truth between calls:
// add_body / set_particles mark it dirty and the next step uploads it; step
// marks the host copy stale and particles() downloads it on demand.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/backend.hpp"
#include "engine/coupling/tool.hpp"
#include "engine/mpm/mpm_backend.hpp"
#include "engine/mpm/mpm_settings.hpp"
#include "engine/mpm/particle_set.hpp"
#include "engine/mpm/stability.hpp"
#include "materials/registry.hpp"

namespace pl {

template <class Real, int D>
class MpmWorld {
 public:
  MpmWorld(const MpmSettings<D>& settings, std::vector<materials::MaterialDesc> materials,
           Backend backend = Backend::Cpu, const std::string& context = "mpm");
  ~MpmWorld();
  MpmWorld(const MpmWorld&) = delete;
  MpmWorld& operator=(const MpmWorld&) = delete;
  MpmWorld(MpmWorld&&) noexcept = default;
  MpmWorld& operator=(MpmWorld&&) noexcept = default;

  /// Adds particles at `positions` [m] with material index `material`, initial
  /// velocity [m/s] and reference volume per particle [m^3].  Returns the body index.
  int add_body(const std::string& name, const std::vector<std::array<double, D>>& positions, int material,
               const std::array<double, D>& velocity, double particle_volume);

  /// Checks dt against the materials and initial speeds.  Throws InputError when
  /// unstable unless settings.allow_unstable_dt (then it only returns the report).
  StabilityReport check_stability() const;

  /// Advances `substeps` substeps of settings.dt.  Throws SimulationError naming
  /// the step, body, particle and quantity when a particle goes bad.
  void step(int substeps = 1);

  const ParticleSet<Real, D>& particles() const;
  /// The host copy for in-place edits (the Python bindings' zero-copy numpy
  /// views): brought up to date, then marked newer than the backend so the next
  /// step uploads it.  Its vectors keep their storage while the particle count
  /// is unchanged (downloads and set_particles reuse it; add_body may move it).
  ParticleSet<Real, D>& edit_particles() {
    particles();
    device_dirty_ = true;
    return host_;
  }
  /// Replaces particle state (same count and layout as particles()).
  void set_particles(const ParticleSet<Real, D>& p);
  /// Per-particle external forces [N] (empty vector to clear).
  void set_external_forces(const std::vector<Vec<Real, D>>& forces);

  /// Replaces material `index`'s parameters and density (same model); validated
  /// like a scene file's.  For parameter sweeps, system identification and
  /// finite-difference checks.
  void set_material(int index, const materials::MaterialDesc& desc);
  /// Coulomb friction of one wall face (axis, side 0 = low / 1 = high).
  void set_wall_friction(int axis, int side, double friction);

  /// Changes the settling damping rate [1/s] (MpmSettings::damping) between steps.
  void set_damping(double per_second);

  /// Grid node mass and velocity after the last substep.
  void grid_state(std::vector<Real>& mass, std::vector<Vec<Real, D>>& velocity) const;

  // ---- hooks for engine/diff (the differentiable rollout drives the backend) ----
  /// The per-substep parameters the kernels get (dt, gravity, walls, damping).
  SubstepParams<Real, D> substep_params() const;
  /// Uploads host-side edits (bodies, set_particles, forces) to the backend now.
  void sync_to_backend() { upload_if_dirty(); }
  /// Tells the world that the backend state changed behind its back (a restored
  /// checkpoint, substeps run by a rollout) and what step it now represents.
  void backend_advanced(long step_count) {
    host_stale_ = true;
    step_count_ = step_count;
  }
  /// Messages for a forward fault found at `step` and a non-finite adjoint in
  /// the adjoint of substep `step`: they name the body, particle and quantity.
  std::string describe_fault(std::uint64_t key, long step) const;
  std::string describe_adjoint_fault(std::uint64_t key, long step) const;

  const MpmSettings<D>& settings() const { return settings_; }
  const std::vector<materials::MaterialDesc>& materials() const { return materials_; }
  const std::vector<BodyInfo>& bodies() const { return bodies_; }
  std::size_t num_particles() const { return host_.size(); }
  long step_count() const { return step_count_; }
  double time() const { return step_count_ * settings_.dt; }
  Backend backend() const { return backend_kind_; }
  MpmBackend<Real, D>& mpm_backend() { upload_if_dirty(); host_stale_ = true; return *backend_; }  // for engine/diff: pending host edits uploaded first; particles() re-reads the backend after

  // ---- issue 6: rigid tools and static colliders (engine/coupling/tool.hpp; mpm_world_tools.cpp) ----
  /// Adds a tool; tools act on the grid in the order they were added (at most
  /// kMaxTools).  Returns its index.  Throws InputError when full.
  int add_tool(Tool<D> tool);
  const std::vector<Tool<D>>& tools() const { return tools_; }
  Tool<D>& tool(int index) { return tools_.at(std::size_t(index)); }
  /// substep_params() plus every tool's state during substep `step`.
  SubstepParams<Real, D> substep_params(long step) const;
  /// Force and torque the material exerted on each tool, per substep:
  /// tool_reactions()[tool][step] (substeps run by step() or a rollout's forward).
  const std::vector<std::vector<ToolReaction>>& tool_reactions() const { return tool_reactions_; }
  /// Stores the backend's reactions of the substep just run as substep `step`'s.
  void record_tool_reactions(long step);
  /// MPM <-> FEM coupling (engine/coupling/mpm_fem_coupling.hpp): a hook run
  /// between P2G and the grid update of every substep (null: none).  CPU
  /// backend only (InputError otherwise).  The hook must outlive its use.
  void set_grid_coupling(GridCouplingHook<Real, D>* hook);
  GridCouplingHook<Real, D>* grid_coupling() const { return grid_hook_; }

 private:
  std::vector<Tool<D>> tools_;
  std::vector<const Real*> tool_fields_;  // per tool: mesh field in kernel memory, or null
  std::vector<std::vector<ToolReaction>> tool_reactions_;
  GridCouplingHook<Real, D>* grid_hook_ = nullptr;  // MPM <-> FEM coupling
  // ---- end issue 6 ----

 private:
  void upload_if_dirty();

  MpmSettings<D> settings_;
  std::vector<materials::MaterialDesc> materials_;
  std::vector<BodyInfo> bodies_;
  Backend backend_kind_;
  std::string context_;
  std::unique_ptr<MpmBackend<Real, D>> backend_;
  mutable ParticleSet<Real, D> host_;
  mutable bool host_stale_ = false;  // backend is newer than host_
  bool device_dirty_ = true;         // host_ is newer than backend
  mutable bool stability_checked_ = false;  // check_stability() ran since the last change
  std::string failure_;  // non-empty after a SimulationError: stepping again is refused
  long step_count_ = 0;
};

}  // namespace pl
