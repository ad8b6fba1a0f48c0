// Grid blocks and shared-memory tiles for the CUDA fast path
// (engine/mpm/cuda_block_kernels.cuh).  Plain PL_HD index arithmetic, no CUDA:
// the CPU tests check its invariants (tests/mpm/test_mpm_cuda_equivalence.cpp).
//
// The scheme is Gao et al. 2018 ("GPU optimization of material point
// methods", Sec. 4: particles sorted by grid block, block-local P2G) with the
// fused G2P2G and the "arena" tile of Wang et al. 2020 (Claymore, Sec. 3-4):
//
//  * The grid is cut into blocks of kBlockEdge^D cells.  A particle belongs to
//    the block that holds its stencil base, floor(xg - 0.5) (the same base the
//    B-spline stencil uses, kernels/math/bspline.hpp), so all 3^D nodes it
//    touches lie in [origin, origin + edge + 2) per axis.
//  * One CUDA thread block serves the particles of one grid block and keeps a
//    tile of nodes [origin - 1, origin + edge + 3) per axis in shared memory:
//    edge + 4 nodes.  G2P reads the velocities of step n from the inner part;
//    the fused P2G of step n + 1 scatters at the particle's NEW position, whose
//    base moved by at most one cell per axis when the particle moved less than
//    one cell (the CFL condition dt |v| < dx that stability.hpp enforces), so it
//    still lands in the tile.  A particle that moved farther is not wrong,
//    only slower: tile_index() says "outside" and the kernel adds to the global
//    grid with atomics instead.
//  * Particles whose stencil is not inside the grid get kInvalid, sort after
//    every real block, and take the per-particle fault path (G2P reports them,
//    P2G skips them, exactly as in the reference kernels).
#pragma once

#include <cstdint>

#include "kernels/mpm/views.hpp"

namespace pl {

template <int D>
struct BlockLayout {
  static_assert(kValidDim<D>, "D must be 2 or 3");
  /// Cells per block edge: 4^3 = 64 cells in 3D (Claymore's block), 8^2 in 2D.
  static constexpr int kEdge = D == 3 ? 4 : 8;
  /// Nodes per tile edge: one halo node below, two stencil nodes and one drift
  /// node above (see the header comment).
  static constexpr int kTileEdge = kEdge + 4;
  static constexpr int kTileNodes = D == 3 ? kTileEdge * kTileEdge * kTileEdge : kTileEdge * kTileEdge;

  int blocks[D];  // blocks per axis, ceil(res / kEdge)

  template <class Real>
  PL_HD PL_INLINE static BlockLayout of(const GridView<Real, D>& grid) {
    BlockLayout b;
    for (int a = 0; a < D; ++a) b.blocks[a] = (grid.res[a] + kEdge - 1) / kEdge;
    return b;
  }
  PL_HD PL_INLINE std::uint32_t num_blocks() const {
    std::uint32_t n = 1;
    for (int a = 0; a < D; ++a) n *= std::uint32_t(blocks[a]);
    return n;
  }
  /// The key of particles whose stencil leaves the grid (sorts last).
  PL_HD PL_INLINE std::uint32_t invalid_key() const { return num_blocks(); }
  /// Bits a radix sort needs to order keys in [0, invalid_key()].
  PL_HD PL_INLINE int key_bits() const {
    int bits = 0;
    for (std::uint32_t k = invalid_key(); k != 0; k >>= 1) ++bits;
    return bits;
  }

  /// The block of the particle at grid-space position xg (grid.to_grid(x)).
  /// The float test comes first: floor of NaN or of a huge value must never
  /// reach the int conversion (GridView::stencil_inside).
  template <class Real>
  PL_HD PL_INLINE std::uint32_t key_of(const GridView<Real, D>& grid, const Vec<Real, D>& xg) const {
    if (!grid.stencil_inside(xg)) return invalid_key();
    std::uint32_t key = 0;
    for (int a = 0; a < D; ++a) {
      const int base = int(floor(xg[a] - Real(0.5)));  // as QuadraticStencil::at(xg, 1)
      key = key * std::uint32_t(blocks[a]) + std::uint32_t(base / kEdge);
    }
    return key;
  }
  /// First cell (node) of block `key` per axis.
  PL_HD PL_INLINE void block_origin(std::uint32_t key, int (&origin)[D]) const {
    for (int a = D - 1; a >= 0; --a) {
      origin[a] = int(key % std::uint32_t(blocks[a])) * kEdge;
      key /= std::uint32_t(blocks[a]);
    }
  }
};

/// The shared-memory tile of one block: nodes lo[a] .. lo[a] + kTileEdge - 1,
/// lo = block origin - 1, row-major like the grid (last axis fastest).
template <int D>
struct BlockTile {
  static constexpr int kTileEdge = BlockLayout<D>::kTileEdge;
  static constexpr int kTileNodes = BlockLayout<D>::kTileNodes;
  int lo[D];

  PL_HD PL_INLINE static BlockTile around(const BlockLayout<D>& layout, std::uint32_t key) {
    BlockTile t;
    layout.block_origin(key, t.lo);
    for (int a = 0; a < D; ++a) t.lo[a] -= 1;
    return t;
  }
  /// Tile index of the node at stencil offset `off` from `base`; false when
  /// that node is outside the tile.
  PL_HD PL_INLINE bool index(const int (&base)[D], const int (&off)[D], int& t) const {
    t = 0;
    for (int a = 0; a < D; ++a) {
      const int local = base[a] + off[a] - lo[a];
      if (local < 0 || local >= kTileEdge) return false;
      t = t * kTileEdge + local;
    }
    return true;
  }
  /// Grid coordinates of tile node t.
  PL_HD PL_INLINE void node_of(int t, int (&ijk)[D]) const {
    for (int a = D - 1; a >= 0; --a) {
      ijk[a] = lo[a] + t % kTileEdge;
      t /= kTileEdge;
    }
  }
  /// Linear grid index of tile node t; false when the node is outside the grid
  /// (tiles of border blocks hang over the edge).
  template <class Real>
  PL_HD PL_INLINE bool grid_index(const GridView<Real, D>& grid, int t, std::size_t& node) const {
    int ijk[D];
    node_of(t, ijk);
    node = 0;
    for (int a = 0; a < D; ++a) {
      if (ijk[a] < 0 || ijk[a] >= grid.res[a]) return false;
      node = node * std::size_t(grid.res[a]) + std::size_t(ijk[a]);
    }
    return true;
  }
};

}  // namespace pl
