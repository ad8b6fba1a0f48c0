// CUDA kernels of the fast path: block keys, block-local P2G in shared memory,
// and G2P fused with the next substep's P2G (G2P2G).
//
// Sources: Gao et al. 2018, "GPU optimization of material point methods"
// (particles sorted by grid block, P2G accumulated per block in shared memory
// and flushed once); Wang et al. 2020, "A massively parallel and scalable
// multi-GPU material point method" (Claymore: G2P of step n and P2G of step
// n + 1 in one kernel, tiles of a block plus halo).  Block and tile geometry:
// kernels/mpm/block_layout.hpp.
//
// The physics of a particle is not here: the gather, the F / plastic update
// and its checks, and what a particle scatters are the PL_HD helpers the CPU
// runs (g2p_gather, g2p_update in kernels/mpm/g2p.hpp; P2GContribution in
// kernels/mpm/p2g.hpp).  These kernels only decide where node values live
// (shared tile or global grid) and in which order particles are visited.
//
// One CUDA thread block serves one bucket: the particles of one grid block, in
// sorted order.  Launches have one thread block per possible bucket (an upper
// bound known on the host) and blocks past the actual bucket count, read from
// device memory, return at once: no device-to-host copy between sort and use.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/mpm/atomic.hpp"
#include "kernels/mpm/block_layout.hpp"
#include "kernels/mpm/g2p.hpp"
#include "kernels/mpm/p2g.hpp"

namespace pl::cuda_fast {

constexpr int kThreadsPerBucket = 128;

/// Particles in block order: bucket r holds order[offset[r] .. offset[r] + count[r])
/// (slots into the particle arrays) and lives in grid block key[r].
struct Buckets {
  const std::uint32_t* order;
  const std::uint32_t* key;
  const std::uint32_t* offset;
  const std::uint32_t* count;
  const std::uint32_t* num_buckets;  // one device word (written by the run-length encode)
};

/// keys[i] = block of particle slot i (BlockLayout::invalid_key() when its
/// stencil is not inside the grid), slots[i] = i: the input of the radix sort.
template <class Real, int D>
__global__ void block_keys_kernel(const Vec<Real, D>* x, std::uint32_t n, GridView<Real, D> grid,
                                  BlockLayout<D> layout, std::uint32_t* keys, std::uint32_t* slots) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  keys[i] = layout.key_of(grid, grid.to_grid(x[i]));
  slots[i] = i;
}

/// Adds what particle q scatters: into the shared tile where the node is in
/// it (shared-memory atomics), else straight into the global grid.
template <class Real, int D>
__device__ PL_INLINE void scatter_to_tile(const P2GContribution<Real, D>& q, const BlockTile<D>& tile,
                                          Real* tile_momentum, Real* tile_mass, const GridView<Real, D>& grid) {
  for_each_stencil_offset<D>([&](const int(&off)[D]) {
    Vec<Real, D> momentum;
    Real mass;
    q.at(off, momentum, mass);
    int t;
    if (tile.index(q.stencil.base, off, t)) {
      for (int a = 0; a < D; ++a) atomicAdd(&tile_momentum[t * D + a], momentum[a]);
      atomicAdd(&tile_mass[t], mass);
    } else {  // moved a cell or more in one substep: correct, only slower
      const std::size_t node = grid.node_index(q.stencil.base, off);
      for (int a = 0; a < D; ++a) atomic_add(&grid.momentum[node][a], momentum[a]);
      atomic_add(&grid.mass[node], mass);
    }
  });
}

template <class Real, int D>
__device__ PL_INLINE void zero_tile(Real* tile_momentum, Real* tile_mass) {
  for (int t = threadIdx.x; t < BlockTile<D>::kTileNodes; t += blockDim.x) {
    for (int a = 0; a < D; ++a) tile_momentum[t * D + a] = Real(0);
    tile_mass[t] = Real(0);
  }
}

/// One global atomic per touched tile node and component: the whole point of
/// the tile (Gao et al. 2018 Sec. 4.2).  Nodes outside the grid never received
/// anything (every scattering particle's stencil is inside the grid).
template <class Real, int D>
__device__ PL_INLINE void flush_tile(const BlockTile<D>& tile, const Real* tile_momentum, const Real* tile_mass,
                                     const GridView<Real, D>& grid) {
  for (int t = threadIdx.x; t < BlockTile<D>::kTileNodes; t += blockDim.x) {
    bool touched = tile_mass[t] != Real(0);
    for (int a = 0; a < D; ++a) touched = touched || tile_momentum[t * D + a] != Real(0);
    std::size_t node;
    if (!touched || !tile.grid_index(grid, t, node)) continue;
    for (int a = 0; a < D; ++a) atomic_add(&grid.momentum[node][a], tile_momentum[t * D + a]);
    atomic_add(&grid.mass[node], tile_mass[t]);
  }
}

/// P2G of the current state, bucket by bucket.  `grid.momentum` / `grid.mass`
/// must be zeroed.  Particles of the invalid bucket are skipped, as by P2G.
template <class Real, int D>
__global__ void __launch_bounds__(kThreadsPerBucket)
    block_p2g_kernel(ParticleView<Real, D> particles, GridView<Real, D> grid, const MaterialSlot<Real>* materials,
                     Real dt, BlockLayout<D> layout, Buckets buckets) {
  __shared__ Real tile_momentum[BlockTile<D>::kTileNodes * D];
  __shared__ Real tile_mass[BlockTile<D>::kTileNodes];
  const std::uint32_t r = blockIdx.x;
  if (r >= *buckets.num_buckets) return;
  const std::uint32_t key = buckets.key[r];
  if (key == layout.invalid_key()) return;
  const BlockTile<D> tile = BlockTile<D>::around(layout, key);
  const std::uint32_t begin = buckets.offset[r], count = buckets.count[r];

  zero_tile<Real, D>(tile_momentum, tile_mass);
  __syncthreads();
  for (std::uint32_t i = threadIdx.x; i < count; i += blockDim.x) {
    const std::uint32_t p = buckets.order[begin + i];
    const P2GContribution<Real, D> q = P2GContribution<Real, D>::make(
        materials[particles.material[p]], grid.to_grid(particles.x[p]), particles.v[p], particles.F[p],
        particles.C[p], particles.plastic[p], particles.mass[p], particles.volume[p],
        particles.force ? &particles.force[p] : nullptr, dt, grid.inv_dx, grid.dx);
    scatter_to_tile(q, tile, tile_momentum, tile_mass, grid);
  }
  __syncthreads();
  flush_tile(tile, tile_momentum, tile_mass, grid);
}

/// G2P of substep n (velocities from `grid`), and with kScatter the P2G of
/// substep n + 1 (time step next_dt) from the updated particle still in
/// registers, into `next` (zeroed momentum / mass).  A particle whose update
/// faults keeps its state and scatters nothing (the host discards `next`).
/// Faults are keyed by the particle's ORIGINAL index ids[p] so the report
/// names the same particle as the reference path would.
template <class Real, int D, bool kScatter>
__global__ void __launch_bounds__(kThreadsPerBucket)
    block_g2p2g_kernel(ParticleView<Real, D> particles, const std::uint32_t* ids, GridView<Real, D> grid,
                       GridView<Real, D> next, const MaterialSlot<Real>* materials, Real dt, Real next_dt,
                       BlockLayout<D> layout, Buckets buckets, std::uint64_t* fault) {
  constexpr int kNodes = BlockTile<D>::kTileNodes;
  __shared__ Real tile_velocity[kNodes * D];
  __shared__ Real tile_momentum[kScatter ? kNodes * D : 1];
  __shared__ Real tile_mass[kScatter ? kNodes : 1];
  const std::uint32_t r = blockIdx.x;
  if (r >= *buckets.num_buckets) return;
  const std::uint32_t key = buckets.key[r];
  const std::uint32_t begin = buckets.offset[r], count = buckets.count[r];
  if (key == layout.invalid_key()) {  // G2P's report for a stencil outside the grid
    for (std::uint32_t i = threadIdx.x; i < count; i += blockDim.x) {
      const std::uint32_t p = buckets.order[begin + i];
      atomic_min(fault, fault_key(ids[p], all_finite(particles.x[p]) ? kFaultLeftDomain : kFaultPositionNotFinite));
    }
    return;
  }
  const BlockTile<D> tile = BlockTile<D>::around(layout, key);

  // The velocities G2P reads: tile-local coordinates 1 .. kEdge + 2 per axis.
  for (int t = threadIdx.x; t < kNodes; t += blockDim.x) {
    int ijk[D];
    tile.node_of(t, ijk);
    bool needed = true;
    for (int a = 0; a < D; ++a) {
      const int local = ijk[a] - tile.lo[a];
      needed = needed && local >= 1 && local <= BlockLayout<D>::kEdge + 2;
    }
    std::size_t node;
    const bool load = needed && tile.grid_index(grid, t, node);
    for (int a = 0; a < D; ++a) tile_velocity[t * D + a] = load ? grid.velocity[node][a] : Real(0);
  }
  if constexpr (kScatter) zero_tile<Real, D>(tile_momentum, tile_mass);
  __syncthreads();

  for (std::uint32_t i = threadIdx.x; i < count; i += blockDim.x) {
    const std::uint32_t p = buckets.order[begin + i];
    const Vec<Real, D> x = particles.x[p];
    const auto stencil = QuadraticStencil<Real, D>::at(grid.to_grid(x), Real(1));
    Vec<Real, D> v;
    Mat<Real, D> C;
    g2p_gather(stencil, grid.dx, grid.inv_dx,
               [&](const int(&off)[D]) {
                 int t = 0;
                 tile.index(stencil.base, off, t);  // always inside: the particle's key is this block
                 Vec<Real, D> vi;
                 for (int a = 0; a < D; ++a) vi[a] = tile_velocity[t * D + a];
                 return vi;
               },
               v, C);
    const MaterialSlot<Real>& material = materials[particles.material[p]];
    G2PState<Real, D> s;
    const ParticleFault f = g2p_update(material, grid, dt, x, particles.F[p], particles.plastic[p], v, C, s);
    if (f != kFaultNone) {
      atomic_min(fault, fault_key(ids[p], f));
      continue;
    }
    particles.x[p] = s.x;
    particles.v[p] = s.v;
    particles.C[p] = s.C;
    particles.F[p] = s.F;
    particles.plastic[p] = s.plastic;
    if constexpr (kScatter) {
      const P2GContribution<Real, D> q = P2GContribution<Real, D>::make(
          material, grid.to_grid(s.x), s.v, s.F, s.C, s.plastic, particles.mass[p], particles.volume[p],
          particles.force ? &particles.force[p] : nullptr, next_dt, grid.inv_dx, grid.dx);
      scatter_to_tile(q, tile, tile_momentum, tile_mass, next);
    }
  }
  if constexpr (kScatter) {
    __syncthreads();
    flush_tile(tile, tile_momentum, tile_mass, next);
  }
}

}  // namespace pl::cuda_fast
