#include "engine/optim/tool_controls.hpp"

#include <cmath>

#include "engine/coupling/rotation.hpp"

namespace pl::optim {

namespace {

bool is_tool_control(const scene::ControlDesc& c) {
  return c.kind == "tool_velocity" || c.kind == "tool_waypoints" || c.kind == "tool_contact";
}

int angular_dim(int dim) { return dim == 3 ? 3 : 1; }

/// First substep of piece k + 1, i.e. one past piece k's last substep, for
/// the piece map floor(n segments / steps) (evaluate.cpp's actuation).
long piece_end(int k, int segments, long steps) { return ((long(k) + 1) * steps + segments - 1) / segments; }

/// Euler XYZ angles [deg] of R = Rz(z) Ry(y) Rx(x) (rotation::from_euler_deg's
/// convention): R(2,0) = -sin y, R(2,1) = cos y sin x, R(2,2) = cos y cos x,
/// R(1,0) = sin z cos y, R(0,0) = cos z cos y.
std::array<double, 3> euler_deg(const Mat<double, 3>& R) {
  const double deg = 180.0 / M_PI;
  const double y = std::asin(std::max(-1.0, std::min(1.0, -R(2, 0))));
  return {std::atan2(R(2, 1), R(2, 2)) * deg, y * deg, std::atan2(R(1, 0), R(0, 0)) * deg};
}

void apply_velocity(const scene::ControlDesc& c, const double* v, const scene::SimulationDesc& sim, scene::ToolDesc& t) {
  const int D = sim.dim, A = angular_dim(D);
  const long steps = long(sim.frames) * sim.substeps_per_frame;
  const int per = (c.linear ? D : 0) + (c.angular ? A : 0);
  t.motion = scene::ToolMotionType::Velocity;
  t.segments.clear();
  for (int k = 0; k < c.segments; ++k) {
    scene::ToolSegmentDesc s;
    s.until = double(piece_end(k, c.segments, steps)) * sim.dt;  // make_spec maps substep n to the segment holding n dt
    const double* piece = v + k * per;
    if (c.linear)
      for (int a = 0; a < D; ++a) s.linear[std::size_t(a)] = piece[a];
    if (c.angular)
      for (int a = 0; a < A; ++a) s.angular[std::size_t(a)] = piece[(c.linear ? D : 0) + a];
    t.segments.push_back(s);
  }
}

/// The pivot's rotation [deg] at key k (`key` = its values): the control's
/// value, or the pivot's initial rotation when the control has no rotations.
std::array<double, 3> key_rotation(const scene::ControlDesc& c, const double* key, const scene::ToolDesc& pivot, int D) {
  std::array<double, 3> theta = pivot.rotation_deg;
  if (c.rotation)
    for (int a = 0; a < angular_dim(D); ++a) theta[std::size_t(a)] = key[(c.position ? D : 0) + a];
  return theta;
}

template <int D>
void apply_waypoints(const scene::ControlDesc& c, const double* v, std::vector<scene::ToolDesc>& tools) {
  constexpr int A = kAngularDim<D>;
  const scene::ToolDesc& pivot = tools[std::size_t(c.tool_indices[0])];
  const Mat<double, D> pivot_rotation0 = tool_rotation<D>(pivot.rotation_deg);
  const int per = (c.position ? D : 0) + (c.rotation ? A : 0);
  // Read the initial poses first: the pivot's entry is rewritten below.
  std::vector<scene::ToolDesc> initial;
  for (int i : c.tool_indices) initial.push_back(tools[std::size_t(i)]);
  for (std::size_t m = 0; m < initial.size(); ++m) {
    const scene::ToolDesc& t0 = initial[m];
    scene::ToolDesc& t = tools[std::size_t(c.tool_indices[m])];
    Vec<double, D> offset;
    for (int a = 0; a < D; ++a) offset[a] = t0.position[std::size_t(a)] - pivot.position[std::size_t(a)];
    const Mat<double, D> rotation0 = tool_rotation<D>(t0.rotation_deg);
    t.motion = scene::ToolMotionType::Waypoints;
    t.waypoints.assign(1, scene::ToolWaypointDesc{0.0, t0.position, t0.rotation_deg});
    for (std::size_t k = 0; k < c.times.size(); ++k) {
      const double* key = v + k * std::size_t(per);
      const std::array<double, 3> pivot_deg = key_rotation(c, key, pivot, D);
      const Mat<double, D> Q = tool_rotation<D>(pivot_deg) * transpose(pivot_rotation0);
      const Vec<double, D> turned = Q * offset;
      scene::ToolWaypointDesc w;
      w.time = c.times[k];
      for (int a = 0; a < D; ++a)
        w.position[std::size_t(a)] = (c.position ? key[a] : pivot.position[std::size_t(a)]) + turned[a];
      if constexpr (D == 3) {
        w.rotation_deg = euler_deg(Q * rotation0);
      } else {
        w.rotation_deg = t0.rotation_deg;
        w.rotation_deg[0] += pivot_deg[0] - pivot.rotation_deg[0];  // planar angles add
      }
      t.waypoints.push_back(w);
    }
  }
}

/// Rotation vectors (world axes, radians per degree) of d theta_j for the
/// Euler angles theta [deg]: dE/dtheta_j E^T = [omega_j]x.  With E = Rz Ry Rx
/// (rotation::from_euler_deg): omega_z = e_z, omega_y = Rz e_y,
/// omega_x = Rz Ry e_x.  2D: the z axis.
template <int D>
std::array<Vec<double, 3>, kAngularDim<D>> euler_axes(const std::array<double, 3>& theta_deg) {
  const double rad = M_PI / 180.0;
  if constexpr (D == 2) {
    return {Vec<double, 3>{{0.0, 0.0, rad}}};
  } else {
    const Mat<double, 3> Rz = rotation::from_euler_deg({0, 0, theta_deg[2]});
    const Mat<double, 3> Rzy = Rz * rotation::from_euler_deg({0, theta_deg[1], 0});
    std::array<Vec<double, 3>, 3> w;
    for (int a = 0; a < 3; ++a) w[0][a] = Rzy(a, 0) * rad, w[1][a] = Rz(a, 1) * rad, w[2][a] = (a == 2 ? rad : 0.0);
    return w;
  }
}

/// dL/d(key values) of a tool_waypoints control.  Tool i of the group at key
/// k: c_i = P + Q r_i, R_i = Q R_i(0), with Q = E(theta) R_pivot(0)^T.
///   dL/dP        = sum_i dL/dc_i
///   dL/dtheta_j  = omega_j . sum_i (g_i + (Q r_i) x dL/dc_i)
/// where g_i = dL/d delta for R_i -> exp([delta]x) R_i (Tool's key-rotation
/// gradient; 2D: dL/d angle) and dE/dtheta_j E^T = [omega_j]x (euler_axes),
/// since then dR_i = [omega_j]x R_i and dc_i = omega_j x (Q r_i).
template <int D>
void add_waypoint_gradients(const scene::ControlDesc& c, const std::vector<scene::ToolDesc>& desc, const double* v,
                            const std::vector<ToolGradients<D>>& tools, double* g) {
  constexpr int A = kAngularDim<D>;
  const int per = (c.position ? D : 0) + (c.rotation ? A : 0);
  const scene::ToolDesc& pivot = desc[std::size_t(c.tool_indices[0])];
  const Mat<double, D> pivot_rotation0_t = transpose(tool_rotation<D>(pivot.rotation_deg));
  for (std::size_t k = 0; k < c.times.size(); ++k) {
    const std::array<double, 3> theta = key_rotation(c, v + k * std::size_t(per), pivot, D);
    const Mat<double, D> Q = tool_rotation<D>(theta) * pivot_rotation0_t;
    double* key = g + k * std::size_t(per);
    Vec<double, 3> moment = Vec<double, 3>::zero();
    for (int i : c.tool_indices) {
      const ToolGradients<D>& t = tools[std::size_t(i)];
      if (k + 1 >= t.waypoint_positions.size()) continue;  // waypoint 0 is the fixed initial pose
      const auto& gp = t.waypoint_positions[k + 1];
      if (c.position)
        for (int a = 0; a < D; ++a) key[a] += gp[std::size_t(a)];
      if (!c.rotation) continue;
      Vec<double, D> offset;
      for (int a = 0; a < D; ++a) offset[a] = desc[std::size_t(i)].position[std::size_t(a)] - pivot.position[std::size_t(a)];
      const Vec<double, D> arm = Q * offset;
      Vec<double, 3> arm3 = Vec<double, 3>::zero(), g3 = Vec<double, 3>::zero();
      for (int a = 0; a < D; ++a) arm3[a] = arm[a], g3[a] = gp[std::size_t(a)];
      moment += cross(arm3, g3);
      if (k + 1 < t.waypoint_rotations.size()) {
        if constexpr (D == 2) {
          moment[2] += t.waypoint_rotations[k + 1][0];
        } else {
          for (int a = 0; a < 3; ++a) moment[a] += t.waypoint_rotations[k + 1][std::size_t(a)];
        }
      }
    }
    if (!c.rotation) continue;
    const auto axes = euler_axes<D>(theta);
    for (int j = 0; j < A; ++j) key[(c.position ? D : 0) + j] += dot(axes[std::size_t(j)], moment);
  }
}

}  // namespace

bool has_tool_controls(const ControlLayout& layout) {
  for (const auto& c : layout.controls())
    if (is_tool_control(c)) return true;
  return false;
}

void apply_tool_controls(const ControlLayout& layout, const std::vector<double>& p, scene::SceneDesc& scene) {
  const auto& controls = layout.controls();
  for (std::size_t ci = 0; ci < controls.size(); ++ci) {
    const auto& c = controls[ci];
    if (!is_tool_control(c)) continue;
    const double* v = p.data() + layout.offset(int(ci));
    scene::ToolDesc& t = scene.tools[std::size_t(c.tool_indices[0])];
    if (c.kind == "tool_contact") {
      (c.parameter == "friction" ? t.friction : t.stiffness) = v[0];
    } else if (c.kind == "tool_velocity") {
      apply_velocity(c, v, scene.simulation, t);
    } else if (scene.simulation.dim == 2) {
      apply_waypoints<2>(c, v, scene.tools);
    } else {
      apply_waypoints<3>(c, v, scene.tools);
    }
  }
}

template <int D>
void add_tool_control_gradients(const ControlLayout& layout, const scene::SceneDesc& scene, const std::vector<double>& p,
                                const std::vector<ToolGradients<D>>& tools, std::vector<double>& dL_dp) {
  constexpr int A = kAngularDim<D>;
  const long steps = long(scene.simulation.frames) * scene.simulation.substeps_per_frame;
  const auto& controls = layout.controls();
  for (std::size_t ci = 0; ci < controls.size(); ++ci) {
    const auto& c = controls[ci];
    if (!is_tool_control(c)) continue;
    double* g = dL_dp.data() + layout.offset(int(ci));
    const ToolGradients<D>& first = tools[std::size_t(c.tool_indices[0])];
    if (c.kind == "tool_contact") {
      g[0] += c.parameter == "friction" ? first.friction : first.stiffness;
    } else if (c.kind == "tool_velocity") {
      const int per = (c.linear ? D : 0) + (c.angular ? A : 0);
      for (long n = 0; n < steps && n < long(first.actions.size()); ++n) {
        const long k = n * c.segments / steps;
        double* piece = g + k * per;
        const ToolAction<D>& a = first.actions[std::size_t(n)];
        if (c.linear)
          for (int i = 0; i < D; ++i) piece[i] += a.linear[std::size_t(i)];
        if (c.angular)
          for (int i = 0; i < A; ++i) piece[(c.linear ? D : 0) + i] += a.angular[std::size_t(i)];
      }
    } else {
      add_waypoint_gradients<D>(c, scene.tools, p.data() + layout.offset(int(ci)), tools, g);
    }
  }
}

template void add_tool_control_gradients<2>(const ControlLayout&, const scene::SceneDesc&, const std::vector<double>&,
                                            const std::vector<ToolGradients<2>>&, std::vector<double>&);
template void add_tool_control_gradients<3>(const ControlLayout&, const scene::SceneDesc&, const std::vector<double>&,
                                            const std::vector<ToolGradients<3>>&, std::vector<double>&);

}  // namespace pl::optim
