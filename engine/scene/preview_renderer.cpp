#include "engine/scene/preview_renderer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "engine/render/colormap.hpp"
#include "engine/render/line_renderer.hpp"
#include "engine/render/splat_renderer.hpp"
#include "engine/coupling/tool_surface.hpp"  // issue 6

namespace pl::scene {

std::string preview_file_name(int frame) {
  char name[32];
  std::snprintf(name, sizeof(name), "preview_%05d.png", frame);
  return name;
}

int preview_fps(const SceneDesc& scene) {
  const double seconds_per_image = scene.simulation.frame_duration() * scene.preview.every_n_frames;
  const double fps = seconds_per_image > 0 ? 1.0 / seconds_per_image : 60.0;
  return int(std::clamp(std::round(fps), 1.0, 60.0));
}

namespace {

render::Camera make_camera(const SceneDesc& scene) {
  const PreviewDesc& p = scene.preview;
  if (scene.simulation.dim == 2)
    return render::Camera::planar(scene.simulation.origin, scene.simulation.domain_upper(), p.width, p.height);
  return render::Camera::perspective(p.camera.position, p.camera.look_at, p.camera.up, p.camera.fov_deg, p.width,
                                     p.height, scene.where("preview.camera"));
}

}  // namespace

PreviewRenderer::PreviewRenderer(const SceneDesc& scene)
    : desc_(scene.preview),
      camera_(make_camera(scene)),
      lower_(scene.simulation.origin),
      upper_(scene.simulation.domain_upper()),
      num_mpm_bodies_(int(scene.bodies.size())) {}

// issue 5: FEM surfaces
void PreviewRenderer::set_fem_surfaces(const std::vector<TriangleMesh>& bodies) {
  fem_triangles_.clear();
  for (std::size_t b = 0; b < bodies.size(); ++b) {
    const render::Rgb color = render::category_color(num_mpm_bodies_ + int(b));
    for (const auto& t : bodies[b].triangles) {
      render::Triangle tri;
      tri.a = bodies[b].vertices[std::size_t(t[0])];
      tri.b = bodies[b].vertices[std::size_t(t[1])];
      tri.c = bodies[b].vertices[std::size_t(t[2])];
      tri.color = color;
      fem_triangles_.push_back(tri);
    }
  }
}

template <class Real, int D>
render::RgbImage PreviewRenderer::render(const ParticleSet<Real, D>& p) {
  const std::size_t n = p.size();
  const bool by_field = desc_.color_by == ColorBy::Speed || desc_.color_by == ColorBy::Plastic;
  std::vector<double> value;
  if (by_field) {
    value.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (desc_.color_by == ColorBy::Speed) {
        double s2 = 0;
        for (int a = 0; a < D; ++a) s2 += double(p.v[i][a]) * double(p.v[i][a]);
        value[i] = std::sqrt(s2);
      } else {
        value[i] = i < p.plastic.size() ? double(p.plastic[i]) : 0.0;
      }
    }
    if (desc_.fixed_range) {
      low_ = desc_.range[0], high_ = desc_.range[1];
    } else {
      for (double v : value) {
        if (!std::isfinite(v)) continue;
        if (!seen_any_) low_ = high_ = v, seen_any_ = true;
        low_ = std::min(low_, v), high_ = std::max(high_, v);
      }
      if (desc_.color_by == ColorBy::Speed) low_ = 0;
    }
  }
  const double span = high_ - low_;

  std::vector<render::Splat> splats(n);
  for (std::size_t i = 0; i < n; ++i) {
    render::Splat& s = splats[i];
    for (int a = 0; a < D; ++a) s.position[a] = double(p.x[i][a]);
    // 0.6 x the particle spacing: neighbours overlap a little, so a body reads as solid.
    s.radius = desc_.particle_radius > 0 ? desc_.particle_radius
                                         : 0.6 * std::pow(std::max(double(p.volume[i]), 0.0), 1.0 / D);
    if (desc_.color_by == ColorBy::Material) s.color = render::category_color(p.material[i]);
    else if (desc_.color_by == ColorBy::Body) s.color = render::category_color(p.body[i]);
    else s.color = render::colormap(desc_.colormap, span > 0 ? (value[i] - low_) / span : 0.0);
  }
  splats.insert(splats.end(), tool_splats_.begin(), tool_splats_.end());  // issue 6: tools (render(world))
  render::ShadingSettings shading;
  for (int k = 0; k < 3; ++k) shading.background[std::size_t(k)] = float(desc_.background[std::size_t(k)]);
  render::Canvas canvas(camera_.width(), camera_.height(), shading.background);
  render::draw_splats(canvas, splats, camera_, shading);
  render::draw_triangles(canvas, fem_triangles_, camera_, shading);  // issue 5: FEM surfaces
  // 3D: the domain's outline, so that the floor and the walls can be told apart.
  // (A 2D preview's image edges are the domain's.)
  if (D == 3) {
    render::Rgb grey{};
    for (int k = 0; k < 3; ++k) grey[std::size_t(k)] = 0.55f * shading.background[std::size_t(k)] + 0.2f;
    render::draw_box_edges(canvas, camera_, lower_, upper_, grey);
  }
  return std::move(canvas.image);
}

template render::RgbImage PreviewRenderer::render(const ParticleSet<float, 2>&);
template render::RgbImage PreviewRenderer::render(const ParticleSet<float, 3>&);
template render::RgbImage PreviewRenderer::render(const ParticleSet<double, 2>&);
template render::RgbImage PreviewRenderer::render(const ParticleSet<double, 3>&);

// ---- issue 6: tools drawn as grey points on their surfaces (engine/coupling/tool_surface.hpp) ----
template <class Real, int D>
render::RgbImage PreviewRenderer::render(const MpmWorld<Real, D>& world) {
  tool_splats_.clear();
  const double spacing = 0.5 * world.settings().dx;
  double extent = 0;
  for (int a = 0; a < D; ++a) extent = std::max(extent, double(upper_[std::size_t(a)] - lower_[std::size_t(a)]));
  tool_splats_ = fem_tool_splats_;  // issue 6 (fem_tool): set_tool_poses (empty unless set)
  for (const Tool<D>& tool : world.tools()) {
    if (!fem_tool_splats_.empty()) break;  // issue 6 (fem_tool): drawn at the FEM world's poses instead
    for (const auto& x : tool_surface_points(tool, world.step_count(), spacing, extent)) {
      render::Splat s;
      for (int a = 0; a < 3; ++a) s.position[std::size_t(a)] = x[std::size_t(a)];
      s.radius = 0.6 * spacing;
      s.color = {0.55f, 0.55f, 0.6f};
      tool_splats_.push_back(s);
    }
  }
  render::RgbImage image = render(world.particles());
  tool_splats_.clear();
  return image;
}
template render::RgbImage PreviewRenderer::render(const MpmWorld<float, 2>&);
template render::RgbImage PreviewRenderer::render(const MpmWorld<float, 3>&);
template render::RgbImage PreviewRenderer::render(const MpmWorld<double, 2>&);
template render::RgbImage PreviewRenderer::render(const MpmWorld<double, 3>&);

// ---- issue 6 (fem_tool): tools at given poses (the FEM world's, in FEM-only scenes) ----
void PreviewRenderer::set_tool_poses(const std::vector<std::pair<const Tool<3>*, long>>& tools, double spacing) {
  fem_tool_splats_.clear();
  double extent = 0;
  for (int a = 0; a < 3; ++a) extent = std::max(extent, double(upper_[std::size_t(a)] - lower_[std::size_t(a)]));
  for (const auto& [tool, step] : tools)
    for (const auto& x : tool_surface_points(*tool, step, spacing, extent)) {
      render::Splat s;
      for (int a = 0; a < 3; ++a) s.position[std::size_t(a)] = x[std::size_t(a)];
      s.radius = 0.6 * spacing;
      s.color = {0.55f, 0.55f, 0.6f};
      fem_tool_splats_.push_back(s);
    }
}

}  // namespace pl::scene
