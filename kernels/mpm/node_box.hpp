// The box of grid nodes a substep can touch, and grid kernels run over it.
//
// Why: the grid-wide passes of a substep (zeroing, the grid update, the CPU's
// per-thread grid copies and their sums, the adjoint's five node buffers) cost
// the whole grid every substep, wherever the particles are.  The S3 3D soft
// robot fills ~2% of its 64^3 grid; those passes were ~15% of its
// forward+backward profile at 2 threads.  A particle's P2G scatter, G2P gather
// and their adjoints touch only its 3^D stencil, so every node a substep reads
// or writes lies in the box spanned by the particles' stencils.
//
// Invariant kept by MpmBackendImpl: outside the box of the last substep the
// grid buffers are zero.  A substep with box B therefore clears hull(B, B_prev)
// (the only place stale values can be) and runs the grid update over it (nodes
// outside B have no mass and get velocity 0), after which everything outside B
// is zero again.  Grid hooks (MPM-FEM coupling) may touch any node: substeps
// with one use the full grid.
#pragma once

#include <cstddef>

#include "kernels/mpm/views.hpp"

namespace pl {

template <int D>
struct NodeBox {
  int lo[D];  // first node per axis
  int hi[D];  // one past the last node per axis (hi <= lo: empty)

  PL_HD PL_INLINE static NodeBox full(const int (&res)[D]) {
    NodeBox b;
    for (int a = 0; a < D; ++a) b.lo[a] = 0, b.hi[a] = res[a];
    return b;
  }
  /// The identity of hull(): no nodes.
  PL_HD PL_INLINE static NodeBox none() {
    NodeBox b;
    for (int a = 0; a < D; ++a) b.lo[a] = 1 << 30, b.hi[a] = -(1 << 30);
    return b;
  }
  PL_HD PL_INLINE static NodeBox hull(const NodeBox& x, const NodeBox& y) {
    NodeBox b;
    for (int a = 0; a < D; ++a) {
      b.lo[a] = x.lo[a] < y.lo[a] ? x.lo[a] : y.lo[a];
      b.hi[a] = x.hi[a] > y.hi[a] ? x.hi[a] : y.hi[a];
    }
    return b;
  }
  PL_HD PL_INLINE bool empty() const {
    for (int a = 0; a < D; ++a)
      if (hi[a] <= lo[a]) return true;
    return false;
  }
  PL_HD PL_INLINE std::size_t count() const {
    if (empty()) return 0;
    std::size_t c = 1;
    for (int a = 0; a < D; ++a) c *= std::size_t(hi[a] - lo[a]);
    return c;
  }
  /// Rows: runs of nodes along the last axis, contiguous in the grid layout.
  PL_HD PL_INLINE std::size_t rows() const {
    if (empty()) return 0;
    std::size_t c = 1;
    for (int a = 0; a + 1 < D; ++a) c *= std::size_t(hi[a] - lo[a]);
    return c;
  }
  PL_HD PL_INLINE int row_length() const { return empty() ? 0 : hi[D - 1] - lo[D - 1]; }
  /// Grid node index of the first node of row r (rows row-major in the box).
  PL_HD PL_INLINE std::size_t row_start(std::size_t r, const int (&res)[D]) const {
    int ijk[D];
    ijk[D - 1] = lo[D - 1];
    for (int a = D - 2; a >= 0; --a) {
      const std::size_t extent = std::size_t(hi[a] - lo[a]);
      ijk[a] = lo[a] + int(r % extent);
      r /= extent;
    }
    std::size_t idx = 0;
    for (int a = 0; a < D; ++a) idx = idx * std::size_t(res[a]) + std::size_t(ijk[a]);
    return idx;
  }
  /// Grid node index (GridView::node_index's layout) of the box's b-th node,
  /// row-major in the box (the last axis fastest).  Divisions per call: the
  /// CPU walks rows instead (row_start; engine/mpm/cpu_parallel.hpp).
  PL_HD PL_INLINE std::size_t node(std::size_t b, const int (&res)[D]) const {
    const std::size_t length = std::size_t(row_length());
    return row_start(b / length, res) + b % length;
  }
};

/// The stencil box of one particle (its 3^D nodes), or none() when P2G skips it
/// (stencil not inside the grid, or a non-finite position).  Reduced with
/// NodeBox::hull over all particles.
template <class Real, int D>
struct ParticleStencilBox {
  GridView<Real, D> grid;
  const Vec<Real, D>* x;
  PL_HD NodeBox<D> operator()(std::size_t p) const {
    const Vec<Real, D> xg = grid.to_grid(x[p]);
    if (!grid.stencil_inside(xg)) return NodeBox<D>::none();
    NodeBox<D> b;
    for (int a = 0; a < D; ++a) {
      b.lo[a] = int(floor(xg[a] - Real(0.5)));  // QuadraticStencil's base
      b.hi[a] = b.lo[a] + 3;
    }
    return b;
  }
};
struct NodeBoxHull {
  template <int D>
  PL_HD NodeBox<D> operator()(const NodeBox<D>& x, const NodeBox<D>& y) const {
    return NodeBox<D>::hull(x, y);
  }
};

/// Runs a per-node kernel over the nodes of a box: launch with box.count()
/// (per node, for the GPU), or call row(r) for r < box.rows() (the CPU).
template <class Kernel, int D>
struct OverBox {
  Kernel kernel;
  NodeBox<D> box;
  int res[D];
  PL_HD void operator()(std::size_t b) const { kernel(box.node(b, res)); }
  PL_HD void row(std::size_t r) const {
    const std::size_t start = box.row_start(r, res);
    for (int k = 0, n = box.row_length(); k < n; ++k) kernel(start + std::size_t(k));
  }
};
/// Row r of an OverBox as a kernel of its own (launch with box.rows()).
template <class Kernel, int D>
struct OverBoxRows {
  OverBox<Kernel, D> nodes;
  PL_HD void operator()(std::size_t r) const { nodes.row(r); }
};
template <int D, class Kernel>
OverBox<Kernel, D> over_box(const Kernel& kernel, const NodeBox<D>& box, const int (&res)[D]) {
  OverBox<Kernel, D> o{kernel, box, {}};
  for (int a = 0; a < D; ++a) o.res[a] = res[a];
  return o;
}

}  // namespace pl
