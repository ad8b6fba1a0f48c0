// SimCore: what a Python `pliant.Simulation` holds — the scene, the world
// built from it, and the initial particle state that reset() returns to.
//
// Zero-copy state and staleness.  MpmWorld keeps a host copy of the particles
// (ParticleSet) and the backend keeps its own buffers; the host copy is what
// Python sees: the arrays returned by x, v, F, C, plastic are NumPy views of the
// host vectors (no copy), and their storage never moves during the world's life
// (bodies are only added while building it; downloads and set_particles write
// in place).  Two rules keep both sides consistent:
//   * after anything that advances the backend (step, a rollout's forward or
//     backward), the host copy is downloaded at once, so a view read afterwards
//     shows the new state;
//   * before anything that runs the backend, the host copy is marked newer
//     (MpmWorld::edit_particles), so writes made through a view are uploaded.
// The cost is one download and one upload per call (not per substep); on the
// CPU backend both are memory copies, small next to a substep.
//
// `generation` counts changes made from Python (steps, resets, edits of
// parameters or forces); a recorded rollout remembers it and refuses to run
// backward once the simulation has moved on.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "engine/core/error.hpp"
#include "engine/mpm/mpm_world.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/scene_desc.hpp"

namespace pl::py_bind {

template <class Real, int D>
class SimCore {
 public:
  SimCore(const scene::SceneDesc& scene, Backend backend)
      : scene_(scene), world_(scene::build_world<Real, D>(scene, backend)) {
    scene::check_stability(scene_, *world_);
    initial_ = world_->particles();
  }

  /// Marks a run that releases the GIL (step, a rollout's forward or backward).
  /// Created with the GIL held, so checking and setting the flag cannot race;
  /// while it lives, every other entry point from Python raises instead of
  /// touching state the run is changing.
  class Running {
   public:
    explicit Running(SimCore& sim) : sim_(sim) {
      sim_.check_idle();
      sim_.running_ = true;
    }
    ~Running() { sim_.running_ = false; }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

   private:
    SimCore& sim_;
  };

  void check_idle() const {
    if (running_)
      throw std::runtime_error(
          "this Simulation is running (step, rollout or backward) in another thread; wait for it to finish");
  }

  /// The world, from an entry point that holds the GIL (raises while a run is going).
  MpmWorld<Real, D>& world() {
    check_idle();
    return *world_;
  }
  /// The world, inside a run (Running held, GIL released).
  MpmWorld<Real, D>& running_world() { return *world_; }
  const scene::SceneDesc& scene() const { return scene_; }
  long generation() const { return generation_; }
  void touch() { ++generation_; }

  /// The host particle state, for views: current, and uploaded before the next run.
  ParticleSet<Real, D>& host() {
    check_idle();
    return world_->edit_particles();
  }

  /// Runs `substeps` substeps (call with Running held).  On a SimulationError
  /// the host copy still shows the last state the backend reached, and further
  /// steps raise until reset().
  void step(int substeps) {
    world_->edit_particles();
    try {
      world_->step(substeps);
    } catch (const SimulationError& e) {
      failure_ = e.what();
      world_->particles();
      throw;
    }
    world_->particles();
  }

  /// A run that failed (a step, or a rollout's forward pass) leaves the state
  /// where it went bad: nothing runs again until reset().
  void mark_failed(const std::string& why) { failure_ = why; }
  void require_not_failed(const std::string& what) const {
    if (!failure_.empty())
      throw SimulationError(what + ": the simulation failed earlier (" + failure_ + "); call reset() first");
  }

  /// Back to the initial state at t = 0: x, v, F, C and plastic state as built
  /// (material parameters, densities and forces set since then are kept).
  void reset() {
    check_idle();
    touch();
    failure_.clear();
    ParticleSet<Real, D> p = world_->particles();
    p.x = initial_.x;
    p.v = initial_.v;
    p.F = initial_.F;
    p.C = initial_.C;
    p.plastic = initial_.plastic;
    world_->backend_advanced(0);  // step count back to 0 (the backend is overwritten next)
    world_->set_particles(p);     // same sizes: the host vectors keep their storage
  }

 private:
  scene::SceneDesc scene_;
  std::unique_ptr<MpmWorld<Real, D>> world_;
  ParticleSet<Real, D> initial_;
  long generation_ = 0;
  bool running_ = false;  // a run holds the world (GIL released)
  std::string failure_;  // non-empty after a SimulationError
};

}  // namespace pl::py_bind
