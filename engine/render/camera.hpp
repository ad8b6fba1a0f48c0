// Cameras of the preview renderer: world point [m] -> image position [pixels].
//
// Two kinds, one interface:
//  - perspective (3D scenes): a pinhole camera at `position` looking at
//    `look_at`, with `up` fixing the roll and `fov_deg` the VERTICAL field of
//    view.  The basis is gluLookAt's (forward f = look_at - position, right
//    r = f x up, true up u = r x f) and the projection the pinhole model
//    x_img = c + focal * (x_cam / z_cam) of Hartley & Zisserman, "Multiple View
//    Geometry", 2nd ed., eq. (6.1), with focal = (height / 2) / tan(fov / 2)
//    pixels and square pixels.
//  - planar (2D scenes): the rectangle [lower, upper] of the xy-plane is
//    scaled uniformly to fit the image and centred (letterboxed), y up.
//
// Image coordinates: x to the right, y DOWN, pixel (i, j) covering
// [i, i+1) x [j, j+1), so the pixel that shows a projected point is
// (floor(px), floor(py)).  `depth` grows away from the viewer (distance along
// the view axis in 3D; 0 for every point in 2D).
#pragma once

#include <array>
#include <string>

namespace pl::render {

using Vec3d = std::array<double, 3>;

struct Projection {
  double px = 0, py = 0;           // image position [pixels]
  double depth = 0;                // [m] along the view axis (0 in 2D)
  double pixels_per_meter = 0;     // image scale at that depth (for splat radii)
};

class Camera {
 public:
  /// Throws pl::InputError ("<context>: why", or just why when context is empty) when position == look_at,
  /// up is parallel to the view direction, fov is outside (0, 180) degrees or
  /// the image is empty.
  static Camera perspective(const Vec3d& position, const Vec3d& look_at, const Vec3d& up, double fov_deg, int width,
                            int height, const std::string& context = "camera");
  /// The 2D domain rectangle [lower, upper] (x, y; z ignored) fitted to the image.
  static Camera planar(const Vec3d& lower, const Vec3d& upper, int width, int height);

  /// False when the point is behind (or too close to) a perspective camera.
  bool project(const Vec3d& world, Projection& out) const;

  int width() const { return width_; }
  int height() const { return height_; }
  bool is_perspective() const { return perspective_; }
  /// Unit vectors of the camera frame in world coordinates (perspective only).
  const Vec3d& right() const { return right_; }
  const Vec3d& up() const { return up_; }
  const Vec3d& forward() const { return forward_; }
  const Vec3d& position() const { return position_; }  // perspective only (issue 5: two-sided triangles)

 private:
  bool perspective_ = false;
  int width_ = 0, height_ = 0;
  Vec3d position_{}, right_{}, up_{}, forward_{};
  double focal_px_ = 0;          // perspective: pixels per unit of x_cam / z_cam
  double scale_ = 0;             // planar: pixels per meter
  double offset_x_ = 0, offset_y_ = 0;  // planar: image position of (lower.x, upper.y)
  Vec3d lower_{};
};

/// A default perspective camera for a 3D box [lower, upper]: it looks at the
/// box centre from a diagonal above and in front, far enough that the box's
/// bounding sphere fits the image.  `up` is the world's up direction (a unit
/// axis vector, e.g. {0, 1, 0}); the view comes from the side of the two other
/// axes taken in cyclic order, so y-up looks from +z (x to the right).
struct CameraPose {
  Vec3d position{}, look_at{}, up{};
  double fov_deg = 0;
};
CameraPose default_pose(const Vec3d& lower, const Vec3d& upper, const Vec3d& up, double fov_deg, int width,
                        int height);

/// The distance from the centre of a sphere of `radius` at which a camera with
/// vertical field of view `fov_deg` and aspect width/height sees it whole.
double fit_distance(double radius, double fov_deg, int width, int height);

}  // namespace pl::render
