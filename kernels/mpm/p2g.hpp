// Particle-to-grid transfer (MLS-MPM / APIC), one particle per call.
//
// Source: Hu et al. 2018 (MLS-MPM), eq. (29); taichi mls-mpm88.  With quadratic
// B-splines D_p^{-1} = 4 / dx^2 (APIC, Jiang et al. 2015, Sec. 5.3), so the
// stress and the affine momentum fuse into one matrix per particle:
//   A_p   = -dt V0_p (4 / dx^2) tau_p + m_p C_p
//   (m v)_i += w_ip (m_p v_p + dt f_p + A_p (x_i - x_p))
//   m_i     += w_ip m_p
// tau_p is the Kirchhoff stress (materials/model_base.hpp for the convention);
// f_p an optional external force on the particle.  `Accumulate` decides how
// the scatter adds (atomics on a shared grid, or plain adds into a grid the
// calling thread owns); with atomics the summation order, and so the last bits
// of float results, depends on the thread schedule.
#pragma once

#include "kernels/math/bspline.hpp"
#include "kernels/mpm/nested_stencil.hpp"
#include "kernels/mpm/atomic.hpp"
#include "kernels/mpm/constitutive.hpp"
#include "kernels/mpm/p2g_scatter.hpp"
#include "kernels/mpm/stress_record.hpp"

namespace pl {

/// What one particle scatters in P2G, everything that does not depend on the
/// node: its stencil, mom_p + A_p dpos at the nodes (from the fused affine
/// matrix A_p and the momentum mom_p = m_p v_p + dt f_p) and m_p.  Built from values (not a ParticleView) so the CPU P2G
/// below and the CUDA block kernels (engine/mpm/cuda_block_kernels.cuh, which
/// builds it from a G2P result still in registers) share one body.
template <class Real, int D>
struct P2GContribution {
  QuadraticStencil<Real, D> stencil;
  AffineAtNodes<Real, D> values;  // mom_p + A_p dpos at each node
  Real mass;

  /// xg = grid.to_grid(x), already checked with grid.stencil_inside(xg).
  /// `force` may be null (no external force).  inv_dx and dx: the grid's.
  PL_HD PL_INLINE static P2GContribution make(const MaterialSlot<Real>& material, const Vec<Real, D>& xg,
                                              const Vec<Real, D>& v, const Mat<Real, D>& F, const Mat<Real, D>& C,
                                              Real plastic, Real m, Real volume, const Vec<Real, D>* force, Real dt,
                                              Real inv_dx, Real dx) {
    P2GContribution q;
    q.stencil = QuadraticStencil<Real, D>::at(xg, Real(1));
    const Mat<Real, D> tau = kirchhoff_stress(material, F, plastic, C);
    const Mat<Real, D> affine = (-dt * volume * Real(4) * inv_dx * inv_dx) * tau + m * C;
    Vec<Real, D> momentum = m * v;
    if (force) momentum += dt * *force;
    q.values = AffineAtNodes<Real, D>::make(momentum, affine, q.stencil.fx, dx);
    q.mass = m;
    return q;
  }
  /// The momentum and mass added to the node at stencil offset `off` (the
  /// same values as p2g_scatter's nested visit, bit for bit).
  PL_HD PL_INLINE void at(const int (&off)[D], Vec<Real, D>& node_momentum, Real& node_mass) const {
    const Real w = stencil.weight(off);
    node_momentum = w * values.at(off);
    node_mass = w * mass;
  }
};

template <class Real, int D, class Accumulate = AtomicAccumulate>
struct P2G {
  ParticleView<Real, D> particles;
  GridView<Real, D> grid;
  const MaterialSlot<Real>* materials;
  Real dt;

  PL_HD void operator()(std::size_t p) const {
    const Vec<Real, D> xg = grid.to_grid(particles.x[p]);
    // A particle whose stencil leaves the grid (or whose position is not
    // finite) is reported by G2P (kFaultLeftDomain / kFaultPositionNotFinite); skipping it keeps the
    // scatter in bounds.  Checked before the stencil's float-to-int conversion.
    if (!grid.stencil_inside(xg)) return;
    const P2GContribution<Real, D> q = P2GContribution<Real, D>::make(
        materials[particles.material[p]], xg, particles.v[p], particles.F[p], particles.C[p], particles.plastic[p],
        particles.mass[p], particles.volume[p], particles.force ? &particles.force[p] : nullptr, dt, grid.inv_dx, grid.dx);
    p2g_scatter<Accumulate>(grid, q.stencil, q.values, q.mass);
  }
};

/// Adjoint of P2G, one particle per call.  A gather: reads dL/d(grid momentum)
/// and dL/d(grid mass) at the particle's stencil and ACCUMULATES into the
/// particle's own entries only (no scatter, no atomics): dL/ds_n (x, v, F, C,
/// plastic), its parameter-gradient row, dL/dmass and dL/dforce.
///
/// Source: chain rule through P2G above (Hu et al. 2018, eq. (29); the same
/// adjoint as DiffTaichi / ChainQueen, Hu et al. 2019).  With
/// q_i = mom + A dpos_i, mom = m v + dt f, A = k tau + m C, k = -dt V0 4/dx^2,
/// and g_i = dL/d(mv)_i, h_i = dL/dm_i:
///   adj_w_i   = g_i . q_i + h_i m
///   adj_mom   = sum_i w_i g_i;     adj_A = sum_i w_i g_i dpos_i^T
///   adj_x    += sum_i [adj_w_i grad w_i - w_i A^T g_i]        (d dpos / d x_p = -I)
///             = sum_i adj_w_i grad w_i - A^T adj_mom
///   adj_v    += m adj_mom;  adj_f += dt adj_mom
///   adj_m    += adj_mom . v + adj_A : C + sum_i w_i h_i
///   adj_C    += m adj_A;    adj_tau = k adj_A -> adj_kirchhoff_stress (F, plastic, C, params)
/// tau, P and the factorization of F come from the StressRecord that the
/// recomputed P2G of this substep wrote (stress_record.hpp): F is not factored again.
template <class Real, int D>
struct AdjP2G {
  ParticleView<Real, D> particles;  // s_n, read only
  GridView<Real, D> grid;
  GridAdjointView<Real, D> adj_grid;  // momentum and mass adjoints, read only here
  const MaterialSlot<Real>* materials;
  const StressRecord<Real, D>* record;  // from P2GRecordStress at s_n, read only
  Real dt;
  ParticleAdjointView<Real, D> adj_out;  // dL/ds_n, +=
  Real* adj_params;                      // N x kMaxParams, row p +=
  Real* adj_mass;                        // +=
  Vec<Real, D>* adj_force;               // +=
  std::uint64_t* fault;                  // atomic-min of adjoint_fault_key (checks p's outputs)

  PL_HD void operator()(std::size_t p) const {
    const Vec<Real, D> xg = grid.to_grid(particles.x[p]);
    if (!grid.stencil_inside(xg)) return;  // skipped by the forward P2G too
    const auto stencil = QuadraticStencil<Real, D>::at(xg, Real(1));

    const MaterialSlot<Real>& slot = materials[particles.material[p]];
    const Mat<Real, D>& F = particles.F[p];
    const Mat<Real, D>& C = particles.C[p];
    const Vec<Real, D>& v = particles.v[p];
    const Real m = particles.mass[p];
    const Real plastic = particles.plastic[p];
    const StressRecord<Real, D>& stress = record[p];
    const Real k = -dt * particles.volume[p] * Real(4) * grid.inv_dx * grid.inv_dx;
    const Mat<Real, D> affine = k * stress.tau + m * C;
    Vec<Real, D> momentum = m * v;
    if (particles.force) momentum += dt * particles.force[p];

    // Per node: q_i = mom + A dpos_i (affine in dpos_i), adj_w_i = g_i . q_i + h_i m;
    // adj_mom = sum_i w_i g_i and adj_A = sum_i w_i g_i dpos_i^T come out of
    // NestedStencil's moments (nested_stencil.hpp).
    Vec<Real, D> adj_x = Vec<Real, D>::zero();
    Real adj_m = Real(0);
    NestedStencil<Real, D> nodes(stencil, momentum, affine, grid.dx);
    auto leaf = [&](const int(&off)[D], Real w, const Vec<Real, D>& grad_w, const Vec<Real, D>& q) PL_STENCIL_INLINE {
      const std::size_t node = grid.node_index(stencil.base, off);
      const Vec<Real, D> g = adj_grid.momentum[node];
      const Real h = adj_grid.mass[node];
      adj_m += w * h;
      adj_x += (dot(g, q) + h * m) * grad_w;
      return w * g;
    };
    const Vec<Real, D> adj_momentum = nodes.template visit<true>(leaf);
    const Mat<Real, D> adj_affine = nodes.outer_with_dpos(adj_momentum, grid.dx);
    adj_x = grid.inv_dx * adj_x - transpose(affine) * adj_momentum;  // sum_i w_i A^T g_i, in closed form

    adj_m += dot(adj_momentum, v) + ddot(adj_affine, C);
    Mat<Real, D> adj_C = m * adj_affine;
    Mat<Real, D> adj_F = Mat<Real, D>::zero();
    Real adj_plastic = Real(0);
    Real* adj_p = adj_params + p * std::size_t(materials::kMaxParams);
    adj_kirchhoff_stress_factored(slot, F, plastic, C, stress.P, stress.factors, k * adj_affine, adj_F, adj_plastic,
                                  adj_C, adj_p);

    adj_out.x[p] += adj_x;
    adj_out.v[p] += m * adj_momentum;
    adj_out.F[p] += adj_F;
    adj_out.C[p] += adj_C;
    adj_out.plastic[p] += adj_plastic;
    adj_mass[p] += adj_m;
    adj_force[p] += dt * adj_momentum;

    AdjointQuantity bad = kAdjQuantityX;
    bool ok = particle_adjoint_finite(adj_out, p, bad);
    if (ok) {
      for (int i = 0; i < materials::kMaxParams; ++i)
        if (!isfinite(adj_p[i])) {
          bad = kAdjQuantityParams;
          ok = false;
        }
    }
    if (ok && !isfinite(adj_mass[p])) bad = kAdjQuantityMass, ok = false;
    if (ok && !all_finite(adj_force[p])) bad = kAdjQuantityForce, ok = false;
    if (!ok) atomic_min(fault, adjoint_fault_key(kAdjKernelP2G, p, bad));
  }
};

}  // namespace pl
