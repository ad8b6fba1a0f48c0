// Contact of one FEM vertex with one moving rigid tool (an SDF of
// sdf_primitives.hpp, any shape: primitives and mesh grids), as a term of the
// implicit Euler incremental potential (engine/fem/fem_world.hpp), so Newton
// sees it and the implicit step's adjoint (implicit function theorem) can
// differentiate it.
//
// Model, for a vertex of mass m at y (end of the step) that was at x_prev
// (start of the step), tool pose (c0, R0) at the start and (c1, R1) at the
// end of the step, moving with (u, omega) during it:
//
//   Normal: a quadratic penalty on the SMOOTH depth (the MPM soft tool's
//   depth, grid_tool_collision.hpp), at the END pose:
//     phi1 = sdf(R1^T (y - c1)),  s = h softplus(-phi1 / h),
//     E_n = m k s^2 / 2,   dE_n/dy = -m k s sigma(-phi1/h) R1 grad(sdf).
//   k [1/s^2] is the same stiffness as the MPM soft tool's: deep in contact the
//   vertex feels the acceleration k * depth (s -> depth for depth >> h), so one
//   tool spec means the same thing to particles and vertices.  The softplus
//   length h makes the force (and every gradient) a smooth, non-vanishing
//   function of the distance while contact breaks (the ground's cubic ramp,
//   kernels/fem/tet_ground_contact.hpp, is C2 at contact but exactly zero
//   outside; a tool that should "feel" the body before touching it needs the
//   softplus).  Beyond phi = kCutoff * h the term is dropped (e^-30: below
//   double round-off relative to any contact force).
//
//   Friction: IPC's smoothed lazy friction (Li et al. 2020, Sec. 5), the
//   ground's f0 / a(y) smoothing reused (tet_ground_contact.hpp), relative to
//   the TOOL's surface velocity at the vertex, v_tool = u + omega x (y - c1):
//     u_rel = y - x_prev - dt v_tool,   T = I - n0 n0^T,
//     D = mu lambda f0(|T u_rel|),   eps = smoothing speed * dt,
//   with the normal force lambda = m k s(phi0) sigma(-phi0/h) and the normal n0
//   frozen at the start of the step (x_prev against the START pose: the
//   contact state the step begins with, as the ground freezes lambda at x_n).
//   u_rel is affine in y with du_rel/dy = A = I - dt [omega]x, so
//   dD/dy = A^T dD/du = g + dt omega x g  (g = mu lambda a(|u_T|) u_T), and
//   D(y) is a true potential (Newton needs no extra symmetrization).
//
// Derivatives: the per-vertex gradient is written once, templated on its
// scalar (Real or Dual<Real>, dual.hpp), as the SDFs are.  Its Jacobian with
// respect to y (the 3x3 Hessian block) and its vector-Jacobian products with
// respect to x_prev, both tool poses, the tool velocity, mu and k (the
// implicit adjoint's -(dg/dp)^T w) are forward-mode dual evaluations, one per
// input; exact to round-off in every branch the SDF takes (one-sided on the
// measure-zero medial axis, as in grid_tool_collision.hpp).
#pragma once

#include "kernels/coupling/grid_tool_collision.hpp"
#include "kernels/coupling/tool_state.hpp"
#include "kernels/fem/shell_psd_projection.hpp"
#include "kernels/fem/tet_ground_contact.hpp"

namespace pl {

/// Differentiable inputs of one vertex-tool pair (Real or Dual<Real>).
template <class T>
struct FemToolContactInputs {
  Vec<T, 3> y;                  // vertex at the end of the step [m]
  Vec<T, 3> x_prev;             // vertex at the start of the step [m]
  Vec<T, 3> c_end;              // tool position at the end of the step [m]
  Mat<T, 3> R_end;              // tool rotation at the end of the step
  Vec<T, 3> velocity;           // tool linear velocity during the step [m/s]
  Vec<T, 3> angular;            // tool angular velocity during the step [rad/s]
  Vec<T, 3> c_start;            // tool pose at the start of the step
  Mat<T, 3> R_start;
  T friction;                   // mu
  T stiffness;                  // k [1/s^2]
};

/// Flat layout of FemToolContactInputs (for seeding duals): offsets.
struct FemToolContactIndex {
  static constexpr int y = 0, x_prev = 3, c_end = 6, R_end = 9, velocity = 18, angular = 21, c_start = 24,
                       R_start = 27, friction = 36, stiffness = 37, size = 38;
};

/// Constants of one vertex-tool pair.
template <class Real>
struct FemToolContactConstants {
  Real mass;      // vertex mass [kg]
  Real softness;  // h [m], > 0
  Real slip_eps;  // eps = smoothing speed * dt [m]
  Real dt;        // [s]
};

/// Beyond phi > kFemToolCutoff * h a vertex feels nothing from the tool.
constexpr double kFemToolCutoff = 30.0;

namespace fem_tool_detail {

/// s = h softplus(-phi / h) and sigma = logistic(-phi / h) = -ds/dphi.
template <class Real>
PL_HD PL_INLINE void smooth_depth(Real phi, Real h, Real& s, Real& sigma) {
  const Real z = -phi / h;
  s = h * tool_detail::softplus(z);
  sigma = tool_detail::logistic(z);
}
/// The dual version: ds = -sigma dphi, dsigma = -sigma (1 - sigma) / h dphi.
template <class Real>
PL_HD PL_INLINE void smooth_depth(const Dual<Real>& phi, Real h, Dual<Real>& s, Dual<Real>& sigma) {
  Real sv, gv;
  smooth_depth(phi.v, h, sv, gv);
  s = Dual<Real>(sv, -gv * phi.d);
  sigma = Dual<Real>(gv, -gv * (Real(1) - gv) / h * phi.d);
}

template <class T>
PL_HD PL_INLINE Vec<T, 3> vec_from(const T* p) {
  return Vec<T, 3>{{p[0], p[1], p[2]}};
}
template <class T>
PL_HD PL_INLINE Mat<T, 3> mat_from(const T* p) {
  Mat<T, 3> m;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m(i, j) = p[3 * i + j];
  return m;
}

/// Signed distance of world point x to the tool at pose (c, R), with the
/// world-frame SDF gradient R grad_local.
template <class T, class Real>
PL_HD PL_INLINE T world_sdf(const ToolGeometry<Real, 3>& geometry, const Vec<T, 3>& c, const Mat<T, 3>& R,
                            const Vec<T, 3>& x, Vec<T, 3>& grad_world) {
  const Vec<T, 3> local = transpose(R) * (x - c);
  Vec<T, 3> grad_local;
  const T phi = tool_sdf(geometry, local, grad_local);
  grad_world = R * grad_local;
  return phi;
}

}  // namespace fem_tool_detail

template <class T>
PL_HD PL_INLINE FemToolContactInputs<T> fem_tool_inputs_from_flat(const T* p) {
  using namespace fem_tool_detail;
  using I = FemToolContactIndex;
  FemToolContactInputs<T> in;
  in.y = vec_from(p + I::y);
  in.x_prev = vec_from(p + I::x_prev);
  in.c_end = vec_from(p + I::c_end);
  in.R_end = mat_from(p + I::R_end);
  in.velocity = vec_from(p + I::velocity);
  in.angular = vec_from(p + I::angular);
  in.c_start = vec_from(p + I::c_start);
  in.R_start = mat_from(p + I::R_start);
  in.friction = p[I::friction];
  in.stiffness = p[I::stiffness];
  return in;
}

/// True when the pair contributes (either pose within the cutoff).
template <class Real>
PL_HD PL_INLINE bool fem_tool_in_range(const ToolGeometry<Real, 3>& geometry, const FemToolContactConstants<Real>& k,
                                       const FemToolContactInputs<Real>& in) {
  Vec<Real, 3> g;
  const Real cut = Real(kFemToolCutoff) * k.softness;
  return fem_tool_detail::world_sdf(geometry, in.c_end, in.R_end, in.y, g) < cut ||
         fem_tool_detail::world_sdf(geometry, in.c_start, in.R_start, in.x_prev, g) < cut;
}

/// Frozen friction data at the start of the step: lambda (normal force [N]) and n0.
template <class T, class Real>
PL_HD PL_INLINE T fem_tool_frozen_normal(const ToolGeometry<Real, 3>& geometry, const FemToolContactConstants<Real>& k,
                                         const FemToolContactInputs<T>& in, Vec<T, 3>& n0) {
  Vec<T, 3> g0;
  const T phi0 = fem_tool_detail::world_sdf(geometry, in.c_start, in.R_start, in.x_prev, g0);
  if (!(value_of(phi0) < Real(kFemToolCutoff) * k.softness)) return T(0);
  T s0, sig0;
  fem_tool_detail::smooth_depth(phi0, k.softness, s0, sig0);
  const T gn = norm(g0);
  if (value_of(gn) > Real(0)) {
    const T inv = T(1) / gn;
    n0 = inv * g0;
  } else {
    n0 = in.R_start * Vec<T, 3>::unit(1);
  }
  return in.stiffness * T(k.mass) * s0 * sig0;
}

/// E_n + D of the header (Real only: the objective's value).
template <class Real>
PL_HD PL_INLINE Real fem_tool_contact_energy(const ToolGeometry<Real, 3>& geometry,
                                             const FemToolContactConstants<Real>& k,
                                             const FemToolContactInputs<Real>& in) {
  using namespace fem_tool_detail;
  Real e = Real(0);
  Vec<Real, 3> g1;
  const Real phi1 = world_sdf(geometry, in.c_end, in.R_end, in.y, g1);
  if (phi1 < Real(kFemToolCutoff) * k.softness) {
    Real s, sig;
    smooth_depth(phi1, k.softness, s, sig);
    e += Real(0.5) * k.mass * in.stiffness * s * s;
  }
  Vec<Real, 3> n0;
  const Real lambda = fem_tool_frozen_normal(geometry, k, in, n0);
  if (lambda > Real(0)) {
    const Vec<Real, 3> v_tool = in.velocity + cross(in.angular, in.y - in.c_end);
    const Vec<Real, 3> u = in.y - in.x_prev - k.dt * v_tool;
    const Vec<Real, 3> ut = u - dot(n0, u) * n0;
    e += in.friction * lambda * fem::friction_f0(norm(ut), k.slip_eps);
  }
  return e;
}

/// dE/dy (the header's formulas), for T = Real or Dual<Real>.
template <class T, class Real>
PL_HD PL_INLINE Vec<T, 3> fem_tool_contact_gradient(const ToolGeometry<Real, 3>& geometry,
                                                    const FemToolContactConstants<Real>& k,
                                                    const FemToolContactInputs<T>& in) {
  using namespace fem_tool_detail;
  Vec<T, 3> out = Vec<T, 3>::zero();
  Vec<T, 3> g1;
  const T phi1 = world_sdf(geometry, in.c_end, in.R_end, in.y, g1);
  if (value_of(phi1) < Real(kFemToolCutoff) * k.softness) {
    T s, sig;
    smooth_depth(phi1, k.softness, s, sig);
    out -= (T(k.mass) * in.stiffness * s * sig) * g1;
  }
  Vec<T, 3> n0;
  const T lambda = fem_tool_frozen_normal(geometry, k, in, n0);
  if (value_of(lambda) > Real(0)) {
    const T dt = T(k.dt);
    const Vec<T, 3> v_tool = in.velocity + cross(in.angular, in.y - in.c_end);
    const Vec<T, 3> u = in.y - in.x_prev - dt * v_tool;
    const Vec<T, 3> ut = u - dot(n0, u) * n0;
    const Vec<T, 3> gu = (in.friction * lambda * fem::friction_a(norm(ut), T(k.slip_eps))) * ut;
    out += gu + dt * cross(in.angular, gu);  // A^T gu, A = I - dt [omega]x
  }
  return out;
}

/// The 3x3 block d^2E/dy^2 (row-major), PSD-projected when asked (mesh tools
/// are not convex, so the penalty's SDF-curvature part can be indefinite).
template <class Real>
PL_HD PL_INLINE void fem_tool_contact_hessian(const ToolGeometry<Real, 3>& geometry,
                                              const FemToolContactConstants<Real>& k, const Real (&flat)[38],
                                              bool project, Real (&H)[3][3]) {
  Dual<Real> p[FemToolContactIndex::size];
  for (int i = 0; i < FemToolContactIndex::size; ++i) p[i] = Dual<Real>(flat[i]);
  for (int b = 0; b < 3; ++b) {
    p[FemToolContactIndex::y + b].d = Real(1);
    const Vec<Dual<Real>, 3> g = fem_tool_contact_gradient(geometry, k, fem_tool_inputs_from_flat(p));
    for (int a = 0; a < 3; ++a) H[a][b] = g[a].d;
    p[FemToolContactIndex::y + b].d = Real(0);
  }
  for (int a = 0; a < 3; ++a)  // symmetric up to round-off; make it exact
    for (int b = a + 1; b < 3; ++b) H[a][b] = H[b][a] = Real(0.5) * (H[a][b] + H[b][a]);
  if (project) fem::project_psd<Real, 3>(H);
}

/// out[i] = w . d(dE/dy)/d(flat[i]) for every input i >= FemToolContactIndex::x_prev
/// (out[0..2] is left alone).  The implicit adjoint adds -out to the inputs' adjoints.
template <class Real>
PL_HD PL_INLINE void fem_tool_contact_gradient_vjp(const ToolGeometry<Real, 3>& geometry,
                                                   const FemToolContactConstants<Real>& k, const Real (&flat)[38],
                                                   const Vec<Real, 3>& w, Real (&out)[38]) {
  Dual<Real> p[FemToolContactIndex::size];
  for (int i = 0; i < FemToolContactIndex::size; ++i) p[i] = Dual<Real>(flat[i]);
  for (int i = FemToolContactIndex::x_prev; i < FemToolContactIndex::size; ++i) {
    p[i].d = Real(1);
    const Vec<Dual<Real>, 3> g = fem_tool_contact_gradient(geometry, k, fem_tool_inputs_from_flat(p));
    out[i] = w[0] * g[0].d + w[1] * g[1].d + w[2] * g[2].d;
    p[i].d = Real(0);
  }
}

}  // namespace pl
