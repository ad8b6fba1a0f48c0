// Grid-to-particle transfer (APIC), deformation update, plasticity and the
// per-particle health check.  One particle per call.
//
// Source: Jiang et al. 2015 (APIC) eq. (10) with quadratic B-splines,
// Hu et al. 2018 (MLS-MPM) eq. (17)-(18):
//   v_p = sum_i w_ip v_i
//   C_p = (4 / dx^2) sum_i w_ip v_i (x_i - x_p)^T
//   x_p += dt v_p
//   F_p  = (I + dt C_p) F_p,  then the model's plastic projection of F_p.
// A particle whose state is not finite or whose stencil would leave the grid
// records a fault (lowest particle index wins) and keeps its old state, so the
// host can stop the run with a message naming the particle's body.
#pragma once

#include <cstdint>

#include "kernels/math/bspline.hpp"
#include "kernels/mpm/nested_stencil.hpp"
#include "kernels/mpm/atomic.hpp"
#include "kernels/mpm/constitutive.hpp"

namespace pl {

/// The APIC gather: v_p and C_p from the velocities of the particle's 3^D
/// stencil nodes.  `velocity_at(off)` returns the velocity of the node at
/// stencil offset `off` (from the global grid on the CPU, from a shared-memory
/// tile in the CUDA block kernels, engine/mpm/cuda_block_kernels.cuh).
/// sum_i w_i v_i dpos_i^T comes from NestedStencil's offset moments
/// (nested_stencil.hpp); AdjG2P gathers v_p and C_p the same way.
template <class Real, int D, class VelocityAt>
PL_HD PL_INLINE void g2p_gather(const QuadraticStencil<Real, D>& stencil, Real dx, Real inv_dx,
                                const VelocityAt& velocity_at, Vec<Real, D>& v, Mat<Real, D>& C) {
  const Real c_scale = Real(4) * inv_dx * inv_dx;
  NestedStencil<Real, D> nodes(stencil);
  auto leaf = [&](const int(&off)[D], Real w, const Vec<Real, D>& /*grad_w*/,
                  const Vec<Real, D>& /*value*/) PL_STENCIL_INLINE { return w * velocity_at(off); };
  v = nodes.template visit<true>(leaf);
  C = c_scale * nodes.outer_with_dpos(v, dx);
}

/// A particle's state after G2P.
template <class Real, int D>
struct G2PState {
  Vec<Real, D> x, v;
  Mat<Real, D> C, F;
  Real plastic;
};

/// Advects the particle with the gathered v and C, updates F and the plastic
/// state, and checks the result.  Returns kFaultNone when `out` may be stored,
/// else the fault (the caller keeps the old state and reports it).
template <class Real, int D>
PL_HD PL_INLINE ParticleFault g2p_update(const MaterialSlot<Real>& material, const GridView<Real, D>& grid, Real dt,
                                         const Vec<Real, D>& x, const Mat<Real, D>& F_old, Real plastic_old,
                                         const Vec<Real, D>& v, const Mat<Real, D>& C, G2PState<Real, D>& out) {
  out.x = x + dt * v;
  out.F = (Mat<Real, D>::identity() + dt * C) * F_old;
  out.plastic = plastic_old;
  plastic_projection(material, out.F, out.plastic, dt);
  out.v = v;
  out.C = C;
  if (!all_finite(v)) return kFaultVelocityNotFinite;
  if (!all_finite(out.x)) return kFaultPositionNotFinite;
  if (!all_finite(out.F) || !all_finite(C)) return kFaultDeformationNotFinite;
  if (!isfinite(out.plastic)) return kFaultPlasticNotFinite;
  if (!grid.stencil_inside(grid.to_grid(out.x))) return kFaultLeftDomain;
  return kFaultNone;
}

template <class Real, int D>
struct G2P {
  ParticleView<Real, D> particles;
  GridView<Real, D> grid;
  const MaterialSlot<Real>* materials;
  Real dt;
  std::uint64_t* fault;  // one word, atomic-min of fault_key()

  PL_HD void operator()(std::size_t p) const {
    const Vec<Real, D> x = particles.x[p];
    const Vec<Real, D> xg = grid.to_grid(x);
    if (!grid.stencil_inside(xg)) {  // before the stencil's float-to-int conversion
      atomic_min(fault, fault_key(p, all_finite(x) ? kFaultLeftDomain : kFaultPositionNotFinite));
      return;
    }
    const auto stencil = QuadraticStencil<Real, D>::at(xg, Real(1));
    Vec<Real, D> v;
    Mat<Real, D> C;
    g2p_gather(stencil, grid.dx, grid.inv_dx,
               [&](const int(&off)[D]) { return grid.velocity[grid.node_index(stencil.base, off)]; }, v, C);

    G2PState<Real, D> next;
    const ParticleFault f =
        g2p_update(materials[particles.material[p]], grid, dt, x, particles.F[p], particles.plastic[p], v, C, next);
    if (f != kFaultNone) {
      atomic_min(fault, fault_key(p, f));
      return;
    }
    particles.x[p] = next.x;
    particles.v[p] = next.v;
    particles.C[p] = next.C;
    particles.F[p] = next.F;
    particles.plastic[p] = next.plastic;
  }
};

/// Adjoint of G2P, one particle per call.  Reads dL/ds_{n+1} (adj_in) and
/// ACCUMULATES dL/ds_n (adj_out: x, F, plastic; G2P does not read v_n or C_n),
/// dL/d(grid velocity) (scattered through `Accumulate`: atomics on the GPU,
/// per-thread private grids on the CPU) and the particle's row of the
/// parameter gradient (through the model's adj_project).
///
/// Source: the chain rule through the forward above (Hu et al. 2018, MLS-MPM,
/// eq. (17)-(18); the same adjoint DiffTaichi / ChainQueen (Hu et al. 2019)
/// derive by autodiff).  With c = 4/dx^2, dpos_i = x_i - x_p, w_i = w(x_p):
///   F_trial = (I + dt C') F_n;  (F', plastic') = project(F_trial, plastic_n)
///   adj_F_trial, adj_plastic_n  <- adj_project(adj_F', adj_plastic')
///   adj_F_n  += (I + dt C')^T adj_F_trial
///   adj_C'    = adj_in.C + dt adj_F_trial F_n^T
///   adj_v'    = adj_in.v + dt adj_in.x                  (x' = x_n + dt v')
///   adj_v_i  += w_i adj_v' + c w_i adj_C' dpos_i
///   adj_w_i   = adj_v'.v_i + c v_i.(adj_C' dpos_i)
///   adj_x_n  += adj_in.x + sum_i [adj_w_i grad w_i - c w_i adj_C'^T v_i]   (d dpos / d x_p = -I)
///             = adj_in.x + sum_i adj_w_i grad w_i - c adj_C'^T v'      (the last sum in closed form)
/// The grid velocities are those of the grid update recomputed from s_n.
template <class Real, int D, class Accumulate = AtomicAccumulate>
struct AdjG2P {
  ParticleView<Real, D> particles;  // s_n, read only
  GridView<Real, D> grid;           // grid velocity recomputed from s_n
  const MaterialSlot<Real>* materials;
  Real dt;
  ParticleAdjointView<Real, D> adj_in;   // dL/ds_{n+1}, read only
  ParticleAdjointView<Real, D> adj_out;  // dL/ds_n, +=
  Vec<Real, D>* adj_grid_velocity;       // +=, through Accumulate
  Real* adj_params;                      // N x kMaxParams, row p +=
  std::uint64_t* fault;                  // atomic-min of adjoint_fault_key

  PL_HD void operator()(std::size_t p) const {
    AdjointQuantity bad = kAdjQuantityX;
    if (!particle_adjoint_finite(adj_in, p, bad)) {
      atomic_min(fault, adjoint_fault_key(kAdjKernelG2P, p, bad));
      return;
    }
    const Vec<Real, D> xg = grid.to_grid(particles.x[p]);
    // The forward reported such a particle and kept its state: there is no
    // substep through it to differentiate (adjoint_substep is only meaningful
    // for a substep that ran without fault).
    if (!grid.stencil_inside(xg)) return;
    const auto stencil = QuadraticStencil<Real, D>::at(xg, Real(1));
    const MaterialSlot<Real>& slot = materials[particles.material[p]];
    if (model_has_plasticity(slot.model_id))
      adjoint<true>(p, stencil, slot);
    else
      adjoint<false>(p, stencil, slot);
  }

 private:
  /// kTrialFirst: the model's return mapping has a VJP that reads F_trial =
  /// (I + dt C') F_n, so v' and C' are gathered in a first pass over the
  /// stencil (the forward G2P's arithmetic).  Without plasticity project() is
  /// the identity and its VJP does not read F_trial (ModelDefaults::adj_project),
  /// so v' and C' are gathered in the scatter pass itself: one pass over the
  /// stencil instead of two (C' then regrouped by NestedStencil: equal to
  /// rounding).
  template <bool kTrialFirst>
  PL_HD PL_INLINE void adjoint(std::size_t p, const QuadraticStencil<Real, D>& stencil,
                               const MaterialSlot<Real>& slot) const {
    const Real c_scale = Real(4) * grid.inv_dx * grid.inv_dx;
    const Mat<Real, D>& F_n = particles.F[p];
    Real* adj_p = adj_params + p * std::size_t(materials::kMaxParams);
    Vec<Real, D> v_new = Vec<Real, D>::zero();
    Mat<Real, D> C = Mat<Real, D>::zero();

    Mat<Real, D> adj_F_trial = Mat<Real, D>::zero();
    Real adj_plastic = Real(0);
    if constexpr (kTrialFirst) {
      g2p_gather(stencil, grid.dx, grid.inv_dx,
                 [&](const int(&off)[D]) { return grid.velocity[grid.node_index(stencil.base, off)]; }, v_new, C);
      const Mat<Real, D> F_trial = (Mat<Real, D>::identity() + dt * C) * F_n;
      adj_plastic_projection(slot, F_trial, particles.plastic[p], dt, adj_in.F[p], adj_in.plastic[p], adj_F_trial,
                             adj_plastic, adj_p);
    } else {
      adj_F_trial = adj_in.F[p];  // = ModelDefaults::adj_project
      adj_plastic = adj_in.plastic[p];
    }
    const Mat<Real, D> adj_C = adj_in.C[p] + dt * (adj_F_trial * transpose(F_n));
    const Vec<Real, D> adj_v = adj_in.v[p] + dt * adj_in.x[p];

    // Per node: u_i = adj_v + c adj_C' dpos_i (an affine function of dpos_i),
    //   adj_v_i += w_i u_i,   adj_w_i = v_i . u_i   (= adj_v'.v_i + c v_i.(adj_C' dpos_i))
    // visited by NestedStencil (nested_stencil.hpp), which also gathers v' and
    // C' = c sum_i w_i v_i dpos_i^T when they were not gathered first.
    NestedStencil<Real, D> nodes(stencil, adj_v, c_scale * adj_C, grid.dx);
    Vec<Real, D> adj_x_nodes = Vec<Real, D>::zero();
    auto leaf = [&](const int(&off)[D], Real w, const Vec<Real, D>& grad_w, const Vec<Real, D>& u) PL_STENCIL_INLINE {
      const std::size_t node = grid.node_index(stencil.base, off);
      const Vec<Real, D> vi = grid.velocity[node];
      const Vec<Real, D> adj_vi = w * u;
      for (int a = 0; a < D; ++a) Accumulate::add(&adj_grid_velocity[node][a], adj_vi[a]);
      adj_x_nodes += dot(vi, u) * grad_w;
      return w * vi;
    };
    if constexpr (kTrialFirst) {
      nodes.template visit<false>(leaf);
    } else {
      v_new = nodes.template visit<true>(leaf);
      C = c_scale * nodes.outer_with_dpos(v_new, grid.dx);
    }
    // The dpos term of adj_x summed over the stencil: sum_i c w_i adj_C'^T v_i = c adj_C'^T v'.
    adj_out.x[p] += (adj_in.x[p] - c_scale * (transpose(adj_C) * v_new)) + grid.inv_dx * adj_x_nodes;
    adj_out.F[p] += transpose(Mat<Real, D>::identity() + dt * C) * adj_F_trial;
    adj_out.plastic[p] += adj_plastic;
  }
};

}  // namespace pl
