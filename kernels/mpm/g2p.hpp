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
#include "kernels/mpm/atomic.hpp"
#include "kernels/mpm/constitutive.hpp"

namespace pl {

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

    Vec<Real, D> v = Vec<Real, D>::zero();
    Mat<Real, D> C = Mat<Real, D>::zero();
    const Real c_scale = Real(4) * grid.inv_dx * grid.inv_dx;
    for_each_stencil_offset<D>([&](const int(&off)[D]) {
      const Real w = stencil.weight(off);
      const Vec<Real, D> dpos = stencil.node_offset_cells(off) * grid.dx;
      const Vec<Real, D> vi = grid.velocity[grid.node_index(stencil.base, off)];
      v += w * vi;
      C += (w * c_scale) * outer(vi, dpos);
    });

    const Vec<Real, D> x_new = x + dt * v;
    Mat<Real, D> F = (Mat<Real, D>::identity() + dt * C) * particles.F[p];
    Real plastic = particles.plastic[p];
    plastic_projection(materials[particles.material[p]], F, plastic, dt);

    ParticleFault f = kFaultNone;
    if (!all_finite(v)) f = kFaultVelocityNotFinite;
    else if (!all_finite(x_new)) f = kFaultPositionNotFinite;
    else if (!all_finite(F) || !all_finite(C)) f = kFaultDeformationNotFinite;
    else if (!isfinite(plastic)) f = kFaultPlasticNotFinite;
    else if (!grid.stencil_inside(grid.to_grid(x_new))) f = kFaultLeftDomain;
    if (f != kFaultNone) {
      atomic_min(fault, fault_key(p, f));
      return;
    }
    particles.x[p] = x_new;
    particles.v[p] = v;
    particles.C[p] = C;
    particles.F[p] = F;
    particles.plastic[p] = plastic;
  }
};

}  // namespace pl
