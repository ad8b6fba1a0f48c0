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
#include "kernels/mpm/atomic.hpp"
#include "kernels/mpm/constitutive.hpp"

namespace pl {

template <class Real, int D, class Accumulate = AtomicAccumulate>
struct P2G {
  ParticleView<Real, D> particles;
  GridView<Real, D> grid;
  const MaterialSlot<Real>* materials;
  Real dt;

  PL_HD void operator()(std::size_t p) const {
    const Vec<Real, D> x = particles.x[p];
    const Vec<Real, D> xg = grid.to_grid(x);
    // A particle whose stencil leaves the grid (or whose position is not
    // finite) is reported by G2P (kFaultLeftDomain / kFaultPositionNotFinite); skipping it keeps the
    // scatter in bounds.  Checked before the stencil's float-to-int conversion.
    if (!grid.stencil_inside(xg)) return;
    const auto stencil = QuadraticStencil<Real, D>::at(xg, Real(1));

    const Mat<Real, D>& F = particles.F[p];
    const Mat<Real, D>& C = particles.C[p];
    const Real m = particles.mass[p];
    const Mat<Real, D> tau = kirchhoff_stress(materials[particles.material[p]], F, particles.plastic[p], C);
    const Mat<Real, D> affine = (-dt * particles.volume[p] * Real(4) * grid.inv_dx * grid.inv_dx) * tau + m * C;
    Vec<Real, D> momentum = m * particles.v[p];
    if (particles.force) momentum += dt * particles.force[p];

    for_each_stencil_offset<D>([&](const int(&off)[D]) {
      const Real w = stencil.weight(off);
      const Vec<Real, D> dpos = stencil.node_offset_cells(off) * grid.dx;
      const Vec<Real, D> contribution = w * (momentum + affine * dpos);
      const std::size_t node = grid.node_index(stencil.base, off);
      for (int a = 0; a < D; ++a) Accumulate::add(&grid.momentum[node][a], contribution[a]);
      Accumulate::add(&grid.mass[node], w * m);
    });
  }
};

}  // namespace pl
