// The backward pass's P2G: the forward P2G of substep n recomputed from s_n,
// keeping each particle's stress for AdjP2G.
//
// Why: for the SVD-based models (fixed corotated, snow, the Hencky family)
// factoring F is most of a substep's cost.  Without a record, one adjoint
// substep factored F four times per particle (the recomputed P2G, then AdjP2G's
// tau, P and the VJP); with it, once (profile of S3 in docs/benchmarks.md).
// Fixed corotated and snow keep polar factors instead (R, and the SVD only
// where the fast polar paths do not apply: kernels/math/polar.hpp).
// The record costs (2 D^2 + 2 D^2 + D) + (D^2 + 1) reals per particle,
// allocated only for backward passes, and is overwritten every adjoint substep.
//
// P2GRecordStress must give the grid bit for bit what the forward P2G gives
// (kernels/mpm/p2g.hpp) so the adjoint is the adjoint of the forward that ran:
// the same tau (kirchhoff_stress_factored is bit-identical to
// kirchhoff_stress), the same per-node contribution w (m v + dt f + A dpos),
// and the same summation order (the CPU runner uses the forward's particle
// chunks).  tests/mpm/test_adjoint_substep.cpp compares the two grids bitwise.
#pragma once

#include "kernels/math/bspline.hpp"
#include "kernels/mpm/atomic.hpp"
#include "kernels/mpm/constitutive.hpp"
#include "kernels/mpm/p2g_scatter.hpp"

namespace pl {

/// One particle's stress at s_n: Kirchhoff tau, first Piola-Kirchhoff P and
/// the factorization of F behind them (constitutive.hpp, StressFactors).
template <class Real, int D>
struct StressRecord {
  Mat<Real, D> tau;
  Mat<Real, D> P;
  StressFactors<Real, D> factors;
};

/// P2G (Hu et al. 2018, eq. (29); the forward in p2g.hpp) that also writes the
/// particle's StressRecord.  Particles whose stencil leaves the grid are
/// skipped, as by P2G; their record is left as it was (AdjP2G skips them too).
template <class Real, int D, class Accumulate = AtomicAccumulate>
struct P2GRecordStress {
  ParticleView<Real, D> particles;
  GridView<Real, D> grid;
  const MaterialSlot<Real>* materials;
  Real dt;
  StressRecord<Real, D>* record;  // [N], written

  PL_HD void operator()(std::size_t p) const {
    const Vec<Real, D> xg = grid.to_grid(particles.x[p]);
    if (!grid.stencil_inside(xg)) return;
    const auto stencil = QuadraticStencil<Real, D>::at(xg, Real(1));

    const Mat<Real, D>& F = particles.F[p];
    const Mat<Real, D>& C = particles.C[p];
    const Real m = particles.mass[p];
    StressRecord<Real, D>& r = record[p];
    r.tau = kirchhoff_stress_factored(materials[particles.material[p]], F, particles.plastic[p], C, r.P, r.factors);
    const Mat<Real, D> affine = (-dt * particles.volume[p] * Real(4) * grid.inv_dx * grid.inv_dx) * r.tau + m * C;
    Vec<Real, D> momentum = m * particles.v[p];
    if (particles.force) momentum += dt * particles.force[p];

    p2g_scatter<Accumulate>(grid, stencil, AffineAtNodes<Real, D>::make(momentum, affine, stencil.fx, grid.dx), m);
  }
};

}  // namespace pl
