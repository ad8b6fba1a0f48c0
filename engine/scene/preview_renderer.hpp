// Preview images of a running scene: the scene's `preview:` section turned into
// a camera and particle colours for the software splat renderer
// (engine/render/), one PNG per rendered frame.  3D previews also outline the
// domain's box in grey.
//
// Colours: `material` and `body` use a categorical palette by index (scene
// file order); `speed` (|v| [m/s]) and `plastic` (the particle's plastic state
// variable: J_p = det F_p for snow, 0 for models without one) go through the
// colormap.  Without a fixed `range` the colour scale spans the smallest to the
// largest value seen so far in the run (speed from 0), so colours do not
// flicker from frame to frame and a frame's colours never depend on later ones.
//
// Usage:
//   PreviewRenderer preview(scene);
//   write_file_atomic(dir / preview_file_name(f), render::encode_png(preview.render(world.particles())));
#pragma once

#include <string>

#include "engine/mpm/mpm_world.hpp"  // issue 6: tools in previews
#include "engine/mpm/particle_set.hpp"
#include "engine/render/camera.hpp"
#include "engine/render/image.hpp"
#include "engine/render/splat_renderer.hpp"  // issue 6
#include "engine/geometry/triangle_mesh.hpp"    // issue 5: FEM surfaces
#include "engine/render/triangle_renderer.hpp"  // issue 5
#include "engine/scene/scene_desc.hpp"

namespace pl::scene {

/// "preview_00042.png"
std::string preview_file_name(int frame);

/// Frames per second that play a run's previews in real time, rounded and
/// clamped to [1, 60].
int preview_fps(const SceneDesc& scene);

class PreviewRenderer {
 public:
  /// Throws InputError (naming preview.camera) for an unusable camera.
  explicit PreviewRenderer(const SceneDesc& scene);

  template <class Real, int D>
  render::RgbImage render(const ParticleSet<Real, D>& particles);
  /// render(world.particles()) plus the world's tools as grey surface points (issue 6).
  template <class Real, int D>
  render::RgbImage render(const MpmWorld<Real, D>& world);

  /// issue 5: FEM bodies' surfaces (current positions, one mesh per body)
  /// drawn as shaded two-sided triangles with the particles by every later
  /// render(); body b gets category colour (MPM bodies + b).
  void set_fem_surfaces(const std::vector<TriangleMesh>& bodies);
  /// issue 6 (fem_tool): draw the tools at these poses (the FEM world's
  /// tools at its step: FEM-only scenes do not step the MPM world, whose
  /// tools would stay at their start) instead of the MPM world's.
  void set_tool_poses(const std::vector<std::pair<const Tool<3>*, long>>& tools, double spacing);

  const render::Camera& camera() const { return camera_; }
  /// The colour scale used by the last render (speed / plastic only).
  double range_low() const { return low_; }
  double range_high() const { return high_; }

 private:
  PreviewDesc desc_;
  render::Camera camera_;
  render::Vec3d lower_, upper_;  // the domain [m]
  bool seen_any_ = false;
  double low_ = 0, high_ = 0;
  std::vector<render::Splat> tool_splats_;  // issue 6: drawn with the particles by render(world)
  int num_mpm_bodies_ = 0;                        // issue 5: FEM colours follow the MPM bodies' categories
  std::vector<render::Triangle> fem_triangles_;  // issue 5: set_fem_surfaces
  std::vector<render::Splat> fem_tool_splats_;   // issue 6 (fem_tool): set_tool_poses
};

}  // namespace pl::scene
