#include "engine/render/camera.hpp"

#include <algorithm>
#include <cmath>

#include "engine/core/error.hpp"

namespace pl::render {

namespace {

constexpr double kPi = 3.14159265358979323846;

Vec3d sub(const Vec3d& a, const Vec3d& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot(const Vec3d& a, const Vec3d& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3d cross(const Vec3d& a, const Vec3d& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double norm(const Vec3d& a) { return std::sqrt(dot(a, a)); }
Vec3d scaled(const Vec3d& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }

}  // namespace

Camera Camera::perspective(const Vec3d& position, const Vec3d& look_at, const Vec3d& up, double fov_deg, int width,
                           int height, const std::string& context) {
  const auto fail = [&](const std::string& why) { throw InputError(context.empty() ? why : context + ": " + why); };
  if (width < 1 || height < 1) fail("the image must be at least 1 x 1 pixels");
  if (!(fov_deg > 0 && fov_deg < 180)) fail("fov_deg must lie in (0, 180) degrees");
  const Vec3d f = sub(look_at, position);
  const double fl = norm(f);
  if (!(fl > 0) || !std::isfinite(fl)) fail("position and look_at must differ (the camera needs a view direction)");
  const double ul = norm(up);
  if (!(ul > 0)) fail("up must be a non-zero vector");
  const Vec3d forward = scaled(f, 1 / fl);
  const Vec3d r = cross(forward, scaled(up, 1 / ul));
  const double rl = norm(r);
  // sin(angle between up and the view direction) below ~0.06 degrees: the roll is undefined.
  if (!(rl > 1e-3)) fail("up must not be parallel to the view direction (look_at - position)");
  Camera c;
  c.perspective_ = true;
  c.width_ = width;
  c.height_ = height;
  c.position_ = position;
  c.forward_ = forward;
  c.right_ = scaled(r, 1 / rl);
  c.up_ = cross(c.right_, forward);
  c.focal_px_ = 0.5 * height / std::tan(0.5 * fov_deg * kPi / 180);
  return c;
}

Camera Camera::planar(const Vec3d& lower, const Vec3d& upper, int width, int height) {
  Camera c;
  c.width_ = width;
  c.height_ = height;
  const double w = std::max(upper[0] - lower[0], 1e-30), h = std::max(upper[1] - lower[1], 1e-30);
  c.scale_ = std::min(width / w, height / h);
  c.offset_x_ = 0.5 * (width - c.scale_ * w);
  c.offset_y_ = 0.5 * (height - c.scale_ * h);
  c.lower_ = lower;
  c.lower_[1] = upper[1];  // image row 0 is the top of the domain
  return c;
}

bool Camera::project(const Vec3d& world, Projection& out) const {
  if (!perspective_) {
    out.px = offset_x_ + (world[0] - lower_[0]) * scale_;
    out.py = offset_y_ + (lower_[1] - world[1]) * scale_;
    out.depth = 0;
    out.pixels_per_meter = scale_;
    return true;
  }
  const Vec3d d = sub(world, position_);
  const double z = dot(d, forward_);
  if (!(z > 1e-9)) return false;
  out.px = 0.5 * width_ + focal_px_ * dot(d, right_) / z;
  out.py = 0.5 * height_ - focal_px_ * dot(d, up_) / z;  // image y points down
  out.depth = z;
  out.pixels_per_meter = focal_px_ / z;
  return true;
}

double fit_distance(double radius, double fov_deg, int width, int height) {
  const double half_v = 0.5 * fov_deg * kPi / 180;
  const double half_h = std::atan(std::tan(half_v) * double(width) / double(height));
  // A sphere is inside a symmetric frustum when its centre is radius / sin(half angle) away.
  return radius / std::sin(std::min(half_v, half_h));
}

CameraPose default_pose(const Vec3d& lower, const Vec3d& upper, const Vec3d& up, double fov_deg, int width,
                        int height) {
  CameraPose pose;
  pose.fov_deg = fov_deg;
  pose.up = up;
  Vec3d centre{}, half{};
  for (int a = 0; a < 3; ++a) centre[a] = 0.5 * (lower[a] + upper[a]), half[a] = 0.5 * (upper[a] - lower[a]);
  pose.look_at = centre;
  // Up axis k; the viewer stands mostly along axis k+1 and a little along k+2
  // (cyclic, so the picture is never mirrored): for y up, in front (+z), a bit
  // to the right (+x) and above.
  int k = 0;
  for (int a = 1; a < 3; ++a)
    if (std::fabs(up[a]) > std::fabs(up[k])) k = a;
  Vec3d dir{};
  dir[k] = up[k] >= 0 ? 0.45 : -0.45;
  dir[(k + 1) % 3] = 1.0;
  dir[(k + 2) % 3] = 0.55;
  dir = scaled(dir, 1 / norm(dir));
  const double distance = fit_distance(norm(half), fov_deg, width, height);
  pose.position = {centre[0] + distance * dir[0], centre[1] + distance * dir[1], centre[2] + distance * dir[2]};
  return pose;
}

}  // namespace pl::render
