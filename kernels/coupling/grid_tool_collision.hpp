// Grid-node collision of MPM material against rigid SDF tools, forward and
// adjoint, one node at a time (called from the grid update, before the
// domain walls).
//
// Source: the grid-based collision of the MPM course notes (Jiang et al.
// 2016, Sec. 9.3: relative velocity, normal projection, Coulomb friction),
// with moving colliders as in Stomakhin et al. 2013 Sec. 8 (the collider's
// velocity at the node, v_co = u + omega x (x - c)); the soft variant is a
// penalty in the spirit of PlasticineLab (Huang et al. 2021), written here as
// a softplus so that it and its gradient are smooth everywhere.
//
// Forward, for a node at x with velocity v (after gravity) and tool
// (c, R, u, omega):
//   r = x - c,  x_l = R^T r,  (phi, g) = sdf(x_l),  n = R g / |g|
//   v_co = u + omega x r,   v_rel = v - v_co
//   sticky    phi < 0:               v_rel' = 0
//   slip      phi < 0, v_n < 0:      v_rel' = v_rel - v_n n          (v_n = v_rel . n)
//   friction  phi < 0, v_n < 0:      t = v_rel - v_n n,
//                                    v_rel' = max(0, 1 + mu v_n / |t|) t
//   soft      always:                p = h log(1 + exp(-phi / h))   (smooth depth)
//                                    dv = dt k p,   w = v_rel + dv n
//                                    t = w - (w.n) n,  q = sqrt(|t|^2 + eps^2)
//                                    v_rel' = (w.n) n + t / (1 + mu dv / q)
//   v' = v_co + v_rel'
// The soft friction factor 1 / (1 + mu dv / q) is a smooth stand-in for
// Coulomb's max(0, 1 - mu dv / |t|): equal to first order for small mu dv / |t|,
// never negative, and -> |t| / (mu dv) (sticking) when the normal impulse
// dominates.
//
// Adjoint: the exact reverse of the lines above inside the branch the forward
// took (the contact tests phi < 0, v_n < 0, s > 0 are one-sided on their
// measure-zero switching surfaces, like the domain walls' adjoint).  The normal's
// derivative with respect to the query point needs the SDF Hessian; it is
// applied as a Hessian-vector product by evaluating the gradient at a dual
// point (dual.hpp).  Gradients flow to v, c, R, u, omega, mu and k.
#pragma once

#include "kernels/coupling/tool_state.hpp"
#include "kernels/math/mat.hpp"

namespace pl {

namespace tool_detail {

template <class Real>
PL_HD PL_INLINE Vec<Real, 3> spin(const Vec<Real, 3>& w, const Vec<Real, 3>& r) {
  return cross(w, r);
}
template <class Real>
PL_HD PL_INLINE Vec<Real, 2> spin(const Vec<Real, 1>& w, const Vec<Real, 2>& r) {
  return {{-w[0] * r[1], w[0] * r[0]}};
}
// (w x r) . a = w . (r x a) = r . (a x w)
template <class Real>
PL_HD PL_INLINE void adj_spin(const Vec<Real, 3>& w, const Vec<Real, 3>& r, const Vec<Real, 3>& a,
                              Vec<Real, 3>& adj_w, Vec<Real, 3>& adj_r) {
  adj_w += cross(r, a);
  adj_r += cross(a, w);
}
template <class Real>
PL_HD PL_INLINE void adj_spin(const Vec<Real, 1>& w, const Vec<Real, 2>& r, const Vec<Real, 2>& a,
                              Vec<Real, 1>& adj_w, Vec<Real, 2>& adj_r) {
  adj_w[0] += r[0] * a[1] - r[1] * a[0];
  adj_r[0] += w[0] * a[1];
  adj_r[1] -= w[0] * a[0];
}

/// Numerically stable softplus log(1 + e^z) and the logistic sigma(z) = its derivative.
template <class Real>
PL_HD PL_INLINE Real softplus(Real z) {
  return z > Real(0) ? z + log1p(exp(-z)) : log1p(exp(z));
}
template <class Real>
PL_HD PL_INLINE Real logistic(Real z) {
  return z >= Real(0) ? Real(1) / (Real(1) + exp(-z)) : exp(z) / (Real(1) + exp(z));
}

/// The geometric part of a contact: everything that depends only on the
/// node position and the tool pose.
template <class Real, int D>
struct ContactGeometry {
  Vec<Real, D> r, x_local;
  Real phi;
  Vec<Real, D> g;  // local SDF gradient
  Real g_norm;
  Vec<Real, D> n_local, n;
  Vec<Real, D> v_tool;  // u + omega x r
};

template <class Real, int D>
PL_HD PL_INLINE ContactGeometry<Real, D> contact_geometry(const ToolState<Real, D>& t, const Vec<Real, D>& x) {
  ContactGeometry<Real, D> c;
  c.r = x - t.position;
  c.x_local = transpose(t.rotation) * c.r;
  c.phi = tool_sdf(t.geometry, c.x_local, c.g);
  c.g_norm = norm(c.g);
  c.n_local = c.g_norm > Real(0) ? c.g * (Real(1) / c.g_norm) : Vec<Real, D>::unit(1);
  c.n = t.rotation * c.n_local;
  c.v_tool = t.velocity + spin(t.angular, c.r);
  return c;
}

}  // namespace tool_detail

/// True when the tool may change this node's velocity (soft tools act everywhere).
template <class Real, int D>
PL_HD PL_INLINE bool tool_touches(const ToolState<Real, D>& t, const tool_detail::ContactGeometry<Real, D>& c) {
  return t.mode == ContactMode::Soft || c.phi < Real(0);
}

/// v' of one node under one tool (see the header comment).
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> collide_tool(const ToolState<Real, D>& t, const Vec<Real, D>& x, const Vec<Real, D>& v,
                                          Real dt) {
  using namespace tool_detail;
  const ContactGeometry<Real, D> c = contact_geometry(t, x);
  if (!tool_touches(t, c)) return v;
  const Vec<Real, D> v_rel = v - c.v_tool;
  const Real vn = dot(v_rel, c.n);
  switch (t.mode) {
    case ContactMode::Sticky:
      return c.v_tool;
    case ContactMode::Slip:
      return vn < Real(0) ? v - vn * c.n : v;
    case ContactMode::Friction: {
      if (!(vn < Real(0))) return v;
      const Vec<Real, D> tan = v_rel - vn * c.n;
      const Real tan_norm = norm(tan);
      if (!(tan_norm > Real(0))) return c.v_tool + tan;
      const Real s = Real(1) + t.friction * vn / tan_norm;
      return s > Real(0) ? c.v_tool + s * tan : c.v_tool;
    }
    case ContactMode::Soft: {
      const Real depth = t.softness * softplus(-c.phi / t.softness);
      const Real dv = dt * t.stiffness * depth;
      const Vec<Real, D> w = v_rel + dv * c.n;
      const Real wn = dot(w, c.n);
      const Vec<Real, D> tan = w - wn * c.n;
      const Real q = sqrt(dot(tan, tan) + t.smoothing * t.smoothing);
      const Real s = Real(1) / (Real(1) + t.friction * dv / q);
      return c.v_tool + wn * c.n + s * tan;
    }
  }
  return v;
}

/// Adjoint of collide_tool: given adj_out = dL/dv', ACCUMULATES dL/dv into
/// adj_v and the tool's gradient block (ToolAdjointIndex<D>) into adj_tool
/// (kToolAdjointSize<D> local entries, +=).  Returns false when the node is
/// untouched (then adj_v += adj_out and adj_tool is unchanged).
template <class Real, int D>
PL_HD PL_INLINE bool adj_collide_tool(const ToolState<Real, D>& t, const Vec<Real, D>& x, const Vec<Real, D>& v,
                                      Real dt, const Vec<Real, D>& adj_out, Vec<Real, D>& adj_v, Real* adj_tool) {
  using namespace tool_detail;
  using Index = ToolAdjointIndex<D>;
  const ContactGeometry<Real, D> c = contact_geometry(t, x);
  if (!tool_touches(t, c)) {
    adj_v += adj_out;
    return false;
  }
  const Vec<Real, D> v_rel = v - c.v_tool;
  const Real vn = dot(v_rel, c.n);
  Vec<Real, D> adj_vtool = Vec<Real, D>::zero(), adj_vrel = Vec<Real, D>::zero(), adj_n = Vec<Real, D>::zero();
  Real adj_phi = Real(0);
  switch (t.mode) {
    case ContactMode::Sticky:  // v' = v_co
      adj_vtool += adj_out;
      break;
    case ContactMode::Slip:  // v' = v - vn n, vn = v_rel . n
      if (vn < Real(0)) {
        const Real an = dot(adj_out, c.n);
        adj_v += adj_out;
        adj_vrel -= an * c.n;                // vn = v_rel . n
        adj_n -= vn * adj_out + an * v_rel;  // d/dn of -(v_rel . n) n
      } else {
        adj_v += adj_out;
      }
      break;
    case ContactMode::Friction: {
      if (!(vn < Real(0))) {
        adj_v += adj_out;
        break;
      }
      const Vec<Real, D> tan = v_rel - vn * c.n;
      const Real tan_norm = norm(tan);
      adj_vtool += adj_out;  // v' = v_co + (...)
      if (!(tan_norm > Real(0))) {  // v' = v_co + tan
        const Real an = dot(adj_out, c.n);
        adj_vrel += adj_out - an * c.n;
        adj_n -= vn * adj_out + an * v_rel;
        break;
      }
      const Real s = Real(1) + t.friction * vn / tan_norm;
      if (!(s > Real(0))) break;  // v' = v_co
      // v' = v_co + s tan
      const Real a_tan = dot(adj_out, tan);
      const Real inv = Real(1) / tan_norm;
      Vec<Real, D> adj_tan = s * adj_out - (t.friction * vn * a_tan * inv * inv * inv) * tan;
      Real adj_vn = t.friction * a_tan * inv;
      adj_tool[Index::friction] += vn * a_tan * inv;
      // tan = v_rel - vn n
      adj_vrel += adj_tan;
      adj_vn -= dot(adj_tan, c.n);
      adj_n -= vn * adj_tan;
      // vn = v_rel . n
      adj_vrel += adj_vn * c.n;
      adj_n += adj_vn * v_rel;
      break;
    }
    case ContactMode::Soft: {
      const Real z = -c.phi / t.softness;
      const Real depth = t.softness * softplus(z);
      const Real dv = dt * t.stiffness * depth;
      const Vec<Real, D> w = v_rel + dv * c.n;
      const Real wn = dot(w, c.n);
      const Vec<Real, D> tan = w - wn * c.n;
      const Real q = sqrt(dot(tan, tan) + t.smoothing * t.smoothing);
      const Real s = Real(1) / (Real(1) + t.friction * dv / q);
      // v' = v_co + wn n + s tan
      adj_vtool += adj_out;
      Real adj_wn = dot(adj_out, c.n);
      adj_n += wn * adj_out;
      const Real adj_s = dot(adj_out, tan);
      Vec<Real, D> adj_tan = s * adj_out;
      // s = 1 / (1 + mu dv / q)
      const Real adj_ratio = -s * s * adj_s;  // d s / d(mu dv / q) = -s^2
      adj_tool[Index::friction] += adj_ratio * dv / q;
      Real adj_dv = adj_ratio * t.friction / q;
      const Real adj_q = -adj_ratio * t.friction * dv / (q * q);
      adj_tan += (adj_q / q) * tan;
      // tan = w - wn n
      Vec<Real, D> adj_w = adj_tan;
      adj_wn -= dot(adj_tan, c.n);
      adj_n -= wn * adj_tan;
      // wn = w . n
      adj_w += adj_wn * c.n;
      adj_n += adj_wn * w;
      // w = v_rel + dv n
      adj_vrel += adj_w;
      adj_dv += dot(adj_w, c.n);
      adj_n += dv * adj_w;
      // dv = dt k depth, depth = h softplus(-phi / h): d depth / d phi = -sigma(z)
      adj_tool[Index::stiffness] += adj_dv * dt * depth;
      adj_phi -= adj_dv * dt * t.stiffness * logistic(z);
      break;
    }
  }
  // v_rel = v - v_co
  adj_v += adj_vrel;
  adj_vtool -= adj_vrel;
  // v_co = u + omega x r
  Vec<Real, D> adj_r = Vec<Real, D>::zero();
  Vec<Real, kAngularDim<D>> adj_w = Vec<Real, kAngularDim<D>>::zero();
  adj_spin(t.angular, c.r, adj_vtool, adj_w, adj_r);
  for (int a = 0; a < D; ++a) adj_tool[Index::velocity + a] += adj_vtool[a];
  for (int a = 0; a < kAngularDim<D>; ++a) adj_tool[Index::angular + a] += adj_w[a];
  // n = R n_l
  const Vec<Real, D> adj_nl = transpose(t.rotation) * adj_n;
  Mat<Real, D> adj_R = outer(adj_n, c.n_local);
  // n_l = g / |g|
  Vec<Real, D> adj_xl = adj_phi * c.g;
  if (c.g_norm > Real(0)) {
    const Vec<Real, D> adj_g = (adj_nl - dot(adj_nl, c.n_local) * c.n_local) * (Real(1) / c.g_norm);
    // (phi, g) = sdf(x_l): adj_x_l += adj_phi g + H adj_g, H adj_g by a dual evaluation
    Vec<Dual<Real>, D> xd, gd;
    for (int a = 0; a < D; ++a) xd[a] = Dual<Real>(c.x_local[a], adj_g[a]);
    tool_sdf(t.geometry, xd, gd);
    for (int a = 0; a < D; ++a) adj_xl[a] += gd[a].d;
  }
  // x_l = R^T r: adj_R += r adj_x_l^T, adj_r += R adj_x_l
  adj_R += outer(c.r, adj_xl);
  adj_r += t.rotation * adj_xl;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) adj_tool[Index::rotation + i * D + j] += adj_R(i, j);
  // r = x - c
  for (int a = 0; a < D; ++a) adj_tool[Index::position + a] -= adj_r[a];
  return true;
}


/// All tools of a substep on one node, in index order.  When `impulse` is not
/// null it receives, per tool, the momentum the tool gave the node,
/// mass * (v_after - v_before) [kg m/s] (the tool feels the opposite).
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> apply_tools(const ToolSet<Real, D>& tools, const Vec<Real, D>& x, Real mass,
                                         Vec<Real, D> v, Real dt, Vec<Real, D>* impulse) {
  for (int k = 0; k < tools.count; ++k) {
    const Vec<Real, D> out = collide_tool(tools.tool[k], x, v, dt);
    if (impulse) impulse[k] = mass * (out - v);
    v = out;
  }
  return v;
}

/// The reaction's share of a loss on tool k's wrench (tool_reaction.hpp): with
/// I = m (v_out - v_in) the node's impulse, r = x - c,
///   F = -I / dt,   tau = -r x I / dt   (2D: tau_z = -(r_0 I_1 - r_1 I_0) / dt)
/// so for seeds a_F = dL/dF, a_tau = dL/dtau:
///   dL/dI = -(a_F + a_tau x r) / dt,   dL/dc = -dL/dr = (I x a_tau) / dt
/// (2D: dL/dI = -(a_F + a_z (-r_1, r_0)) / dt, dL/dc = a_z (I_1, -I_0) / dt).
/// Returns dL/dI and ACCUMULATES dL/dc into adj_c.
template <class Real, int D>
PL_HD PL_INLINE Vec<Real, D> adj_node_reaction(const Real (&seed)[6], const Vec<Real, D>& r, const Vec<Real, D>& impulse,
                                               Real dt, Vec<Real, D>& adj_c) {
  const Real inv_dt = Real(1) / dt;
  Vec<Real, D> g;
  for (int a = 0; a < D; ++a) g[a] = -seed[a] * inv_dt;
  if constexpr (D == 3) {
    const Vec<Real, 3> a_tau{{seed[3], seed[4], seed[5]}};
    g -= cross(a_tau, r) * inv_dt;
    adj_c += cross(impulse, a_tau) * inv_dt;
  } else {
    const Real az = seed[5];
    g[0] += az * r[1] * inv_dt;
    g[1] -= az * r[0] * inv_dt;
    adj_c[0] += az * impulse[1] * inv_dt;
    adj_c[1] -= az * impulse[0] * inv_dt;
  }
  return g;
}

/// Adjoint of apply_tools: replays the chain, then reverses it.  adj_v +=
/// dL/dv; tool k's gradient block is added into adj_tools[k * kToolAdjointSize<D> ...]
/// through `Accumulate` (a per-thread buffer on the CPU, atomics on the GPU).
/// With tools.has_reaction_adjoint (a loss on the reactions, issue 6) the
/// impulses I_k = mass (v_k+1 - v_k) feed their seeds back too: into the
/// velocities on both sides of tool k, the tool position (through the
/// torque) and adj_mass (+=, dL/d node mass).
template <class Real, int D, class Accumulate>
PL_HD PL_INLINE void adj_apply_tools(const ToolSet<Real, D>& tools, const Vec<Real, D>& x, Real mass,
                                     const Vec<Real, D>& v, Real dt, const Vec<Real, D>& adj_out, Vec<Real, D>& adj_v,
                                     Real& adj_mass, Real* adj_tools) {
  constexpr int K = kToolAdjointSize<D>;
  using Index = ToolAdjointIndex<D>;
  Vec<Real, D> seen[kMaxTools + 1];  // seen[k]: velocity into tool k; seen[count]: the result
  seen[0] = v;
  for (int k = 0; k < tools.count; ++k) seen[k + 1] = collide_tool(tools.tool[k], x, seen[k], dt);
  Vec<Real, D> g = adj_out;
  for (int k = tools.count - 1; k >= 0; --k) {
    Real local[K];
    for (int e = 0; e < K; ++e) local[e] = Real(0);
    Vec<Real, D> g_reaction = Vec<Real, D>::zero();  // dL/dI_k
    if (tools.has_reaction_adjoint) {
      const Vec<Real, D> dv = seen[k + 1] - seen[k];
      Vec<Real, D> adj_c = Vec<Real, D>::zero();
      g_reaction = adj_node_reaction(tools.reaction_adjoint[k], x - tools.tool[k].position, mass * dv, dt, adj_c);
      for (int a = 0; a < D; ++a) local[Index::position + a] += adj_c[a];
      adj_mass += dot(g_reaction, dv);
      g += mass * g_reaction;  // I_k = m v_k+1 - ...
    }
    Vec<Real, D> g_in = Vec<Real, D>::zero();
    adj_collide_tool(tools.tool[k], x, seen[k], dt, g, g_in, local);
    g = g_in - mass * g_reaction;  // ... - m v_k
    for (int e = 0; e < K; ++e)
      if (local[e] != Real(0)) Accumulate::add(&adj_tools[k * K + e], local[e]);
  }
  adj_v += g;
}

/// adj_apply_tools without a loss on the reactions (node mass not needed).
template <class Real, int D, class Accumulate>
PL_HD PL_INLINE void adj_apply_tools(const ToolSet<Real, D>& tools, const Vec<Real, D>& x, const Vec<Real, D>& v,
                                     Real dt, const Vec<Real, D>& adj_out, Vec<Real, D>& adj_v, Real* adj_tools) {
  Real unused_adj_mass = Real(0);  // with mass 0 the impulses, and so their seeds' effect, vanish
  adj_apply_tools<Real, D, Accumulate>(tools, x, Real(0), v, dt, adj_out, adj_v, unused_adj_mass, adj_tools);
}

}  // namespace pl
