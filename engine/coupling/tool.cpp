#include "engine/coupling/tool.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/coupling/rotation.hpp"
#include "engine/coupling/waypoint_rotation.hpp"

namespace pl {

const char* tool_shape_name(ToolShape s) {
  switch (s) {
    case ToolShape::Box: return "box";
    case ToolShape::Sphere: return "sphere";
    case ToolShape::Capsule: return "capsule";
    case ToolShape::Cylinder: return "cylinder";
    case ToolShape::Plane: return "plane";
    case ToolShape::RoundedBox: return "rounded_box";
    case ToolShape::Mesh: return "mesh";
  }
  return "?";
}
const char* contact_mode_name(ContactMode m) {
  switch (m) {
    case ContactMode::Sticky: return "sticky";
    case ContactMode::Slip: return "slip";
    case ContactMode::Friction: return "friction";
    case ContactMode::Soft: return "soft";
  }
  return "?";
}
const char* tool_motion_name(ToolMotion m) {
  switch (m) {
    case ToolMotion::Static: return "static";
    case ToolMotion::Velocity: return "velocity";
    case ToolMotion::Waypoints: return "waypoints";
  }
  return "?";
}

template <>
Mat<double, 3> tool_rotation<3>(const std::array<double, 3>& rotation_deg) {
  return rotation::from_euler_deg(rotation_deg);
}
template <>
Mat<double, 2> tool_rotation<2>(const std::array<double, 3>& rotation_deg) {
  return rotation::planar(rotation_deg[0] * M_PI / 180.0);
}

namespace {

template <std::size_t N>
bool finite(const std::array<double, N>& a) {
  for (double x : a)
    if (!std::isfinite(x)) return false;
  return true;
}

template <std::size_t N>
std::string show(const std::array<double, N>& a) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < N; ++i) os << (i ? ", " : "") << a[i];
  os << "]";
  return os.str();
}

template <int D>
Vec<double, D> to_vec(const std::array<double, D>& a) {
  Vec<double, D> v;
  for (int i = 0; i < D; ++i) v[i] = a[i];
  return v;
}

/// Rotation by the angular velocity w over dt: exp(dt [w]x) (3D), planar(dt w) (2D).
template <class T>
Mat<T, 3> step_rotation(const Vec<T, 3>& w, double dt) {
  return rotation::exp_map(Vec<T, 3>{{w[0] * T(dt), w[1] * T(dt), w[2] * T(dt)}});
}
Mat<double, 2> step_rotation(const Vec<double, 1>& w, double dt) { return rotation::planar(w[0] * dt); }

/// d step_rotation / d w_k.
void step_rotation_derivative(const Vec<double, 3>& w, double dt, Mat<double, 3> (&dR)[3]) {
  for (int k = 0; k < 3; ++k) {
    Vec<Dual<double>, 3> wd;
    for (int a = 0; a < 3; ++a) wd[a] = Dual<double>(w[a], a == k ? 1.0 : 0.0);
    const Mat<Dual<double>, 3> R = step_rotation(wd, dt);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) dR[k](i, j) = R(i, j).d;
  }
}
void step_rotation_derivative(const Vec<double, 1>& w, double dt, Mat<double, 2> (&dR)[1]) {
  const double a = w[0] * dt;
  dR[0](0, 0) = -std::sin(a) * dt, dR[0](0, 1) = -std::cos(a) * dt;
  dR[0](1, 0) = std::cos(a) * dt, dR[0](1, 1) = -std::sin(a) * dt;
}

/// Generators G_k with d/d delta_k (exp([delta]x) R) at 0 = G_k R.
void generators(Mat<double, 3> (&G)[3]) {
  for (int k = 0; k < 3; ++k) {
    G[k] = Mat<double, 3>::zero();
    const int i = (k + 1) % 3, j = (k + 2) % 3;
    G[k](j, i) = 1;
    G[k](i, j) = -1;
  }
}
void generators(Mat<double, 2> (&G)[1]) {
  G[0] = Mat<double, 2>::zero();
  G[0](0, 1) = -1;
  G[0](1, 0) = 1;
}

/// Norm clamp to `limit` and its VJP.
template <int N>
Vec<double, N> clamp_norm(const Vec<double, N>& v, double limit) {
  const double n = norm(v);
  return n > limit ? v * (limit / n) : v;
}
template <int N>
Vec<double, N> adj_clamp_norm(const Vec<double, N>& v, double limit, const Vec<double, N>& g) {
  const double n = norm(v);
  if (!(n > limit)) return g;
  const Vec<double, N> u = v * (1.0 / n);
  return (g - dot(u, g) * u) * (limit / n);
}

double smoothstep(double s) { return s * s * (3 - 2 * s); }

}  // namespace

template <int D>
Tool<D>::Tool(ToolSpec<D> spec, double dt, const std::string& context)
    : spec_(std::move(spec)), dt_(dt), context_(context) {
  const std::string where = context_ + ": tool '" + spec_.name + "'";
  auto fail = [&](const std::string& what) { throw InputError(where + ": " + what); };
  if (!(dt_ > 0) || !std::isfinite(dt_)) fail("the substep dt must be positive");
  const auto& s = spec_;
  auto positive = [&](double v, const char* key) {
    if (!(v > 0) || !std::isfinite(v))
      fail(std::string(key) + " must be a positive number of metres, got " + std::to_string(v) +
           " (a zero-size " + tool_shape_name(s.shape) + " cannot collide)");
  };
  switch (s.shape) {
    case ToolShape::Box:
    case ToolShape::RoundedBox:
      for (int a = 0; a < D; ++a)
        if (!(s.half_extents[a] > 0) || !std::isfinite(s.half_extents[a]))
          fail("half_extents must be positive in every axis, got " + show(s.half_extents) + " (a zero-size " +
               tool_shape_name(s.shape) + " cannot collide)");
      if (s.shape == ToolShape::RoundedBox) {
        positive(s.radius, "radius");
        const double smallest = *std::min_element(s.half_extents.begin(), s.half_extents.end());
        if (!(s.radius < smallest))
          fail("radius (" + std::to_string(s.radius) + " m) must be smaller than the smallest half extent (" +
               std::to_string(smallest) + " m)");
      }
      break;
    case ToolShape::Sphere:
      positive(s.radius, "radius");
      break;
    case ToolShape::Capsule:
      positive(s.radius, "radius");
      if (!(s.half_height >= 0) || !std::isfinite(s.half_height)) fail("half_height must be >= 0");
      break;
    case ToolShape::Cylinder:
      positive(s.radius, "radius");
      positive(s.half_height, "half_height");
      break;
    case ToolShape::Plane:
      break;
    case ToolShape::Mesh:
      if (D != 3) fail("mesh tools need a 3D scene");
      if (!s.mesh || s.mesh->values.empty()) fail("mesh tool without a distance field");
      break;
  }
  if (!finite(s.position)) fail("position must be finite, got " + show(s.position));
  if (!finite(s.rotation_deg)) fail("rotation_deg must be finite, got " + show(s.rotation_deg));
  if (!(s.friction >= 0) || !std::isfinite(s.friction))
    fail("friction must be a finite coefficient >= 0, got " + std::to_string(s.friction));
  if (s.mode == ContactMode::Soft) {
    if (!(s.stiffness > 0) || !std::isfinite(s.stiffness)) fail("stiffness must be positive [1/s^2] for soft contact");
    if (!(s.softness > 0) || !std::isfinite(s.softness)) fail("softness must be positive [m] for soft contact");
    if (!(s.smoothing > 0) || !std::isfinite(s.smoothing)) fail("smoothing must be positive [m/s] for soft contact");
  }
  if (!(s.max_speed > 0)) fail("max_speed must be positive [m/s]");
  if (!(s.max_angular_speed > 0)) fail("max_angular_speed must be positive [rad/s]");
  for (std::size_t n = 0; n < s.actions.size(); ++n)
    if (!finite(s.actions[n].linear) || !finite(s.actions[n].angular))
      fail("action " + std::to_string(n) + " is not finite");
  if (s.motion == ToolMotion::Waypoints) {
    if (s.waypoints.empty()) fail("waypoint motion needs at least one waypoint");
    for (std::size_t k = 0; k < s.waypoints.size(); ++k) {
      const auto& w = s.waypoints[k];
      if (!std::isfinite(w.time) || !finite(w.position) || !finite(w.rotation_deg))
        fail("waypoint " + std::to_string(k) + " has a non-finite time, position or rotation");
      if (k > 0 && !(w.time > s.waypoints[k - 1].time))
        fail("waypoint times must increase strictly: waypoint " + std::to_string(k) + " at t = " +
             std::to_string(w.time) + " s follows t = " + std::to_string(s.waypoints[k - 1].time) + " s");
    }
    // Speed limits along the whole path (sampled at the substeps).
    const long last = long(std::ceil(s.waypoints.back().time / dt_)) + 1;
    for (long n = 0; n <= last; ++n) {
      const Pose& p = pose(n);
      if (norm(p.velocity) > s.max_speed * (1 + 1e-9) || norm(p.angular) > s.max_angular_speed * (1 + 1e-9)) {
        std::ostringstream os;
        os << "the waypoints move the tool at " << norm(p.velocity) << " m/s and " << norm(p.angular)
           << " rad/s at t = " << n * dt_ << " s, above max_speed = " << s.max_speed
           << " m/s or max_angular_speed = " << s.max_angular_speed << " rad/s; space the waypoints further apart in time";
        fail(os.str());
      }
    }
  }
  replan();
}

template <int D>
double Tool<D>::extent() const {
  const auto& s = spec_;
  double half2 = 0;
  for (int a = 0; a < D; ++a) half2 += s.half_extents[a] * s.half_extents[a];
  switch (s.shape) {
    case ToolShape::Box:
    case ToolShape::RoundedBox: return std::sqrt(half2);
    case ToolShape::Sphere: return s.radius;
    case ToolShape::Capsule: return s.half_height + s.radius;
    case ToolShape::Cylinder: return std::sqrt(s.radius * s.radius + s.half_height * s.half_height);
    case ToolShape::Plane: return std::numeric_limits<double>::infinity();
    case ToolShape::Mesh: {
      // The corners of the distance grid bound the mesh (local frame, origin at the tool position).
      double r2 = 0;
      for (int c = 0; c < 8; ++c) {
        double d2 = 0;
        for (int a = 0; a < 3; ++a) {
          const double x = s.mesh->origin[a] + ((c >> a) & 1 ? (s.mesh->res[a] - 1) * s.mesh->spacing : 0.0);
          d2 += x * x;
        }
        r2 = std::max(r2, d2);
      }
      return std::sqrt(r2);
    }
  }
  return 0;
}

template <int D>
void Tool<D>::check_grid_speed(double dx, const std::array<double, D>& lo, const std::array<double, D>& hi) const {
  if (spec_.motion == ToolMotion::Static) return;
  long last = 0;
  if (spec_.motion == ToolMotion::Velocity) last = long(spec_.actions.size());
  if (spec_.motion == ToolMotion::Waypoints) last = long(std::ceil(spec_.waypoints.back().time / dt_)) + 1;
  const double limit = kMaxCellsPerSubstep * dx;
  for (long n = 0; n < last; ++n) {
    const Pose& p = pose(n);
    const double w = norm(p.angular);
    double reach = 0;  // lever arm of the spin; only the part of the tool inside the domain can meet material
    if (w > 0) {
      double far2 = 0;
      for (int c = 0; c < (1 << D); ++c) {
        double d2 = 0;
        for (int a = 0; a < D; ++a) {
          const double x = ((c >> a) & 1 ? hi[a] : lo[a]) - p.position[a];
          d2 += x * x;
        }
        far2 = std::max(far2, d2);
      }
      reach = std::min(extent(), std::sqrt(far2));
    }
    const double speed = norm(p.velocity) + w * reach;
    if (speed * dt_ > limit * (1 + 1e-9)) {
      std::ostringstream os;
      os << context_ << ": tool '" << spec_.name << "': its surface moves up to " << speed * dt_ << " m in one substep at t = "
         << n * dt_ << " s (" << norm(p.velocity) << " m/s + " << w << " rad/s x " << reach
         << " m), more than the limit of " << kMaxCellsPerSubstep << " dx = " << limit
         << " m per substep: material would tunnel through it between grid nodes. Move it slower (motion, max_speed, "
            "max_angular_speed) or use a smaller simulation.dt";
      throw InputError(os.str());
    }
  }
}

template <int D>
void Tool<D>::replan() {
  plan_.clear();
}

template <int D>
void Tool<D>::set_actions(std::vector<ToolAction<D>> actions) {
  for (std::size_t n = 0; n < actions.size(); ++n)
    if (!finite(actions[n].linear) || !finite(actions[n].angular))
      throw InputError(context_ + ": tool '" + spec_.name + "': action " + std::to_string(n) + " is not finite");
  spec_.actions = std::move(actions);
  replan();
}
template <int D>
void Tool<D>::set_friction(double mu) {
  if (!(mu >= 0)) throw InputError(context_ + ": tool '" + spec_.name + "': friction must be >= 0");
  spec_.friction = mu;
}
template <int D>
void Tool<D>::set_stiffness(double k) {
  if (!(k > 0)) throw InputError(context_ + ": tool '" + spec_.name + "': stiffness must be > 0");
  spec_.stiffness = k;
}

template <int D>
Vec<double, D> Tool<D>::limited_linear(long step) const {
  if (spec_.motion != ToolMotion::Velocity || step >= long(spec_.actions.size())) return Vec<double, D>::zero();
  return clamp_norm(to_vec<D>(spec_.actions[std::size_t(step)].linear), spec_.max_speed);
}
template <int D>
Vec<double, Tool<D>::A> Tool<D>::limited_angular(long step) const {
  if (spec_.motion != ToolMotion::Velocity || step >= long(spec_.actions.size())) return Vec<double, A>::zero();
  return clamp_norm(to_vec<A>(spec_.actions[std::size_t(step)].angular), spec_.max_angular_speed);
}

template <int D>
std::vector<double> Tool<D>::waypoint_weights(double t) const {
  const auto& w = spec_.waypoints;
  const std::size_t K = w.size();
  std::vector<double> weight(K, 0.0);
  if (K == 1 || t <= w.front().time) {
    weight.front() = 1;
    return weight;
  }
  if (t >= w.back().time) {
    weight.back() = 1;
    return weight;
  }
  std::size_t i = 0;
  while (t >= w[i + 1].time) ++i;
  const double t0 = w[i].time, t1 = w[i + 1].time, span = t1 - t0;
  const double s = (t - t0) / span, s2 = s * s, s3 = s2 * s;
  const double h00 = 2 * s3 - 3 * s2 + 1, h10 = s3 - 2 * s2 + s, h01 = -2 * s3 + 3 * s2, h11 = s3 - s2;
  weight[i] += h00;
  weight[i + 1] += h01;
  // Catmull-Rom tangents; zero at the first and last key.
  if (i > 0) {
    const double f = h10 * span / (w[i + 1].time - w[i - 1].time);
    weight[i + 1] += f;
    weight[i - 1] -= f;
  }
  if (i + 2 < K) {
    const double f = h11 * span / (w[i + 2].time - w[i].time);
    weight[i + 2] += f;
    weight[i] -= f;
  }
  return weight;
}

template <int D>
typename Tool<D>::Pose Tool<D>::waypoint_pose(double t) const {
  const auto& w = spec_.waypoints;
  Pose p{};
  const std::vector<double> weight = waypoint_weights(t);
  p.position = Vec<double, D>::zero();
  for (std::size_t k = 0; k < w.size(); ++k) p.position += weight[k] * to_vec<D>(w[k].position);
  // Rotation: eased interpolation between the two keys around t.
  std::size_t i = 0, j = 0;
  double s = 0;
  waypoint_segment(t, i, j, s);
  if constexpr (D == 3) {
    p.rotation = rotation::from_quaternion(rotation::slerp(rotation::to_quaternion(tool_rotation<3>(w[i].rotation_deg)),
                                                           rotation::to_quaternion(tool_rotation<3>(w[j].rotation_deg)), s));
  } else {
    const double angle = (w[i].rotation_deg[0] + s * (w[j].rotation_deg[0] - w[i].rotation_deg[0])) * M_PI / 180.0;
    p.rotation = rotation::planar(angle);
    p.angular[0] = angle;  // stashed for the angular velocity below
  }
  return p;
}

template <int D>
void Tool<D>::waypoint_segment(double t, std::size_t& i, std::size_t& j, double& s) const {
  const auto& w = spec_.waypoints;
  i = 0, s = 0;
  if (w.size() > 1 && t > w.front().time) {
    if (t >= w.back().time) {
      i = w.size() - 2, s = 1;
    } else {
      while (t >= w[i + 1].time) ++i;
      s = smoothstep((t - w[i].time) / (w[i + 1].time - w[i].time));
    }
  }
  j = std::min(i + 1, w.size() - 1);
}

template <int D>
const typename Tool<D>::Pose& Tool<D>::pose(long step) const {
  if (step < 0) throw std::logic_error("Tool::pose: negative step");
  while (long(plan_.size()) <= step) {
    const long n = long(plan_.size());
    Pose p{};
    switch (spec_.motion) {
      case ToolMotion::Static:
        p.position = to_vec<D>(spec_.position);
        p.rotation = tool_rotation<D>(spec_.rotation_deg);
        p.velocity = Vec<double, D>::zero();
        p.angular = Vec<double, A>::zero();
        break;
      case ToolMotion::Velocity:
        if (n == 0) {
          p.position = to_vec<D>(spec_.position);
          p.rotation = tool_rotation<D>(spec_.rotation_deg);
        } else {
          const Pose& q = plan_.back();
          p.position = q.position + dt_ * q.velocity;
          p.rotation = step_rotation(q.angular, dt_) * q.rotation;
        }
        p.velocity = limited_linear(n);
        p.angular = limited_angular(n);
        break;
      case ToolMotion::Waypoints: {
        const Pose a = waypoint_pose(n * dt_), b = waypoint_pose((n + 1) * dt_);
        p.position = a.position;
        p.rotation = a.rotation;
        p.velocity = (b.position - a.position) * (1.0 / dt_);
        if constexpr (D == 3) {
          p.angular = rotation::log_map(b.rotation * transpose(a.rotation)) * (1.0 / dt_);
        } else {
          p.angular[0] = (b.angular[0] - a.angular[0]) / dt_;
        }
        break;
      }
    }
    plan_.push_back(p);
  }
  return plan_[std::size_t(step)];
}

template <int D>
template <class Real>
ToolState<Real, D> Tool<D>::state(long step, const Real* field) const {
  const Pose& p = pose(step);
  ToolState<Real, D> t{};
  t.geometry.shape = spec_.shape;
  for (int a = 0; a < D; ++a) t.geometry.half[a] = Real(spec_.half_extents[a]);
  t.geometry.radius = Real(spec_.radius);
  t.geometry.half_height = Real(spec_.half_height);
  if (spec_.shape == ToolShape::Mesh && spec_.mesh) {
    const MeshSdf& m = *spec_.mesh;
    t.geometry.grid.values = field;
    for (int a = 0; a < 3; ++a) {
      t.geometry.grid.res[a] = m.res[a];
      t.geometry.grid.origin[a] = Real(m.origin[a]);
    }
    t.geometry.grid.spacing = Real(m.spacing);
  }
  t.mode = spec_.mode;
  t.friction = Real(spec_.friction);
  t.stiffness = Real(spec_.stiffness);
  t.softness = Real(spec_.softness > 0 ? spec_.softness : 1.0);
  t.smoothing = Real(spec_.smoothing);
  t.position = p.position.template cast<Real>();
  t.rotation = p.rotation.template cast<Real>();
  t.velocity = p.velocity.template cast<Real>();
  t.angular = p.angular.template cast<Real>();
  return t;
}

template <int D>
void Tool<D>::adjoint_begin(long first, long end) {
  adj_first_ = first;
  adj_next_ = end - 1;
  carry_position_ = Vec<double, D>::zero();
  carry_rotation_ = Mat<double, D>::zero();
  grad_ = ToolGradients<D>{};
  if (spec_.motion == ToolMotion::Velocity) grad_.actions.assign(spec_.actions.size(), ToolAction<D>{});
  if (spec_.motion == ToolMotion::Waypoints) {
    grad_.waypoint_positions.assign(spec_.waypoints.size(), {});
    grad_.waypoint_rotations.assign(spec_.waypoints.size(), {});
  }
}

template <int D>
void Tool<D>::adjoint_step(long step, const double* block) {
  using I = ToolAdjointIndex<D>;
  if (step != adj_next_)
    throw std::logic_error("Tool::adjoint_step: expected step " + std::to_string(adj_next_) + ", got " +
                           std::to_string(step));
  --adj_next_;
  grad_.friction += block[I::friction];
  grad_.stiffness += block[I::stiffness];
  Vec<double, D> g_pos, g_vel;
  Mat<double, D> g_rot;
  Vec<double, A> g_ang;
  for (int a = 0; a < D; ++a) g_pos[a] = block[I::position + a], g_vel[a] = block[I::velocity + a];
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) g_rot(i, j) = block[I::rotation + i * D + j];
  for (int a = 0; a < A; ++a) g_ang[a] = block[I::angular + a];
  const Pose& p = pose(step);

  switch (spec_.motion) {
    case ToolMotion::Static:
      // The pose is the initial pose at every step.
      carry_position_ += g_pos;
      carry_rotation_ += g_rot;
      break;
    case ToolMotion::Velocity: {
      // c_{n+1} = c_n + dt u_n,  R_{n+1} = E(omega_n) R_n
      const Vec<double, D> g_u = g_vel + dt_ * carry_position_;
      Mat<double, D> dE[A];
      step_rotation_derivative(p.angular, dt_, dE);
      Vec<double, A> g_w = g_ang;
      for (int k = 0; k < A; ++k) g_w[k] += ddot(carry_rotation_, dE[k] * p.rotation);
      const Mat<double, D> E = step_rotation(p.angular, dt_);
      carry_rotation_ = g_rot + transpose(E) * carry_rotation_;
      carry_position_ += g_pos;
      if (step < long(spec_.actions.size())) {
        const auto& raw = spec_.actions[std::size_t(step)];
        const Vec<double, D> gl = adj_clamp_norm(to_vec<D>(raw.linear), spec_.max_speed, g_u);
        const Vec<double, A> ga = adj_clamp_norm(to_vec<A>(raw.angular), spec_.max_angular_speed, g_w);
        for (int a = 0; a < D; ++a) grad_.actions[std::size_t(step)].linear[a] += gl[a];
        for (int a = 0; a < A; ++a) grad_.actions[std::size_t(step)].angular[a] += ga[a];
      }
      break;
    }
    case ToolMotion::Waypoints: {
      // c_n = sum_k w_k(n dt) P_k,  u_n = (c_{n+1} - c_n) / dt.
      const std::vector<double> w0 = waypoint_weights(step * dt_), w1 = waypoint_weights((step + 1) * dt_);
      for (std::size_t k = 0; k < w0.size(); ++k)
        for (int a = 0; a < D; ++a)
          grad_.waypoint_positions[k][a] += w0[k] * g_pos[a] + (w1[k] - w0[k]) / dt_ * g_vel[a];
      adjoint_waypoint_rotations(step, g_rot, g_ang);
      break;
    }
  }
}

// Rotation keys.  3D: R_n = slerp(q_i, q_j, s(n dt)) and omega_n = log(q_{n+1} q_n^*) / dt
// (the forward's log_map of R_{n+1} R_n^T, through quaternions); each key's
// derivative along exp([eps e_a]x) R_k is one Dual evaluation of both
// (waypoint_rotation.hpp).  2D: the angle is linear in the key angles,
// theta_n = (1 - s) theta_i + s theta_j, omega_n = (theta_{n+1} - theta_n) / dt,
// and dR/dtheta = G R (G the generator).
template <int D>
void Tool<D>::adjoint_waypoint_rotations(long step, const Mat<double, D>& g_rot, const Vec<double, A>& g_ang) {
  const auto& w = spec_.waypoints;
  const double t0 = step * dt_, t1 = (step + 1) * dt_;
  std::size_t i0, j0, i1, j1;
  double s0, s1;
  waypoint_segment(t0, i0, j0, s0);
  waypoint_segment(t1, i1, j1, s1);
  const std::size_t keys[4] = {i0, j0, i1, j1};
  if constexpr (D == 3) {
    namespace wr = waypoint_rotation;
    auto key_quaternion = [&](std::size_t k) { return rotation::to_quaternion(tool_rotation<3>(w[k].rotation_deg)); };
    for (int u = 0; u < 4; ++u) {
      const std::size_t key = keys[u];
      if (std::find(keys, keys + u, key) != keys + u) continue;  // each key once
      for (int a = 0; a < 3; ++a) {
        auto at = [&](std::size_t i, std::size_t j, double s) {
          const wr::Quat<Dual<double>> qi = i == key ? wr::perturbed(key_quaternion(i), a) : wr::constant(key_quaternion(i));
          const wr::Quat<Dual<double>> qj = j == key ? wr::perturbed(key_quaternion(j), a) : wr::constant(key_quaternion(j));
          return wr::slerp(qi, qj, s);
        };
        const wr::Quat<Dual<double>> q0 = at(i0, j0, s0), q1 = at(i1, j1, s1);
        const Mat<Dual<double>, 3> R = wr::matrix(q0);
        const Vec<Dual<double>, 3> omega = wr::log(wr::multiply(q1, wr::conjugate(q0)));
        double d = 0;
        for (int r = 0; r < 3; ++r)
          for (int c = 0; c < 3; ++c) d += g_rot(r, c) * R(r, c).d;
        for (int c = 0; c < 3; ++c) d += g_ang[c] * omega[c].d / dt_;
        grad_.waypoint_rotations[key][std::size_t(a)] += d;
      }
    }
  } else {
    Mat<double, 2> G[1];
    generators(G);
    const double g_angle = ddot(g_rot, G[0] * pose(step).rotation);  // dL/dtheta_n through R_n
    auto weight = [](std::size_t k, std::size_t i, std::size_t j, double s) {
      return (k == i ? (i == j ? 1.0 : 1 - s) : 0.0) + (k == j && j != i ? s : 0.0);
    };
    for (int u = 0; u < 4; ++u) {
      const std::size_t key = keys[u];
      if (std::find(keys, keys + u, key) != keys + u) continue;
      const double a0 = weight(key, i0, j0, s0), a1 = weight(key, i1, j1, s1);
      grad_.waypoint_rotations[key][0] += a0 * g_angle + (a1 - a0) / dt_ * g_ang[0];
    }
  }
}

template <int D>
ToolGradients<D> Tool<D>::adjoint_end() {
  if (adj_next_ != adj_first_ - 1)
    throw std::logic_error("Tool::adjoint_end: steps " + std::to_string(adj_next_) + " .. " + std::to_string(adj_first_) +
                           " were not visited");
  if (spec_.motion != ToolMotion::Waypoints) {
    for (int a = 0; a < D; ++a) grad_.initial_position[a] = carry_position_[a];
    Mat<double, D> G[A];
    generators(G);
    const Mat<double, D> R0 = pose(adj_first_).rotation;
    for (int k = 0; k < A; ++k) grad_.initial_rotation[k] = ddot(carry_rotation_, G[k] * R0);
  }
  return grad_;
}

template class Tool<2>;
template class Tool<3>;
template ToolState<float, 2> Tool<2>::state<float>(long, const float*) const;
template ToolState<double, 2> Tool<2>::state<double>(long, const double*) const;
template ToolState<float, 3> Tool<3>::state<float>(long, const float*) const;
template ToolState<double, 3> Tool<3>::state<double>(long, const double*) const;

}  // namespace pl
