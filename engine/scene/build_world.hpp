// SceneDesc -> MpmWorld: settings, the material table and sampled bodies.
//
// Usage:
//   auto scene = pl::scene::load_scene("scenes/jelly_drop_3d.yaml");
//   auto world = pl::scene::build_world<float, 3>(scene);   // dim/precision must match
//   world->check_stability();                               // InputError when dt is too large
//   world->step(scene.simulation.substeps_per_frame);
//
// Material i of the world is scene.materials[i]; body i is scene.bodies[i]
// (both in file order), so PLY `material` / `body` columns index those lists.
// Errors are InputErrors whose context names the scene file, line and key of
// the entry at fault ("scenes/x.yaml:14:5: bodies.jelly: ...").
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "engine/core/backend.hpp"
#include "engine/mpm/mpm_settings.hpp"
#include "engine/mpm/mpm_world.hpp"
#include "engine/scene/scene_desc.hpp"

namespace pl::scene {

/// The backend a scene asks for, resolved on this machine.  "auto" picks CUDA
/// only where it can run the scene's precision (CUDA runs float only).
Backend scene_backend(const SceneDesc& scene);

template <int D>
MpmSettings<D> make_settings(const SimulationDesc& sim);

/// Particle positions [m] of body `body`, sampled as the scene says (the same
/// positions every time: the sampler is seeded by the body's `seed`).
template <int D>
std::vector<std::array<double, D>> sample_body(const SceneDesc& scene, const BodyDesc& body);

/// Builds the world.  Requires D == scene.simulation.dim (Real need not match
/// simulation.precision: tests may build a float scene in double).  Uses
/// scene_backend(scene).  Does not check dt; call check_stability().
template <class Real, int D>
std::unique_ptr<MpmWorld<Real, D>> build_world(const SceneDesc& scene);
template <class Real, int D>
std::unique_ptr<MpmWorld<Real, D>> build_world(const SceneDesc& scene, Backend backend);

/// The dt stability guard (engine/mpm/stability.hpp) for a built world, with
/// the scene's wording: throws InputError located at simulation.dt when dt is
/// too large and allow_unstable_dt is not set; otherwise returns the report.
template <class Real, int D>
StabilityReport check_stability(const SceneDesc& scene, const MpmWorld<Real, D>& world);

}  // namespace pl::scene
