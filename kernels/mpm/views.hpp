// Plain pointer views of MPM state handed to kernels.  They own nothing; the
// backend (engine/mpm) owns the buffers and builds views for each launch.
#pragma once

#include <cstdint>

#include "kernels/math/mat.hpp"
#include "materials/model_base.hpp"

namespace pl {

/// Structure-of-arrays particle state.  `force` may be null (no external
/// per-particle forces).  `plastic` is the model's internal scalar.
template <class Real, int D>
struct ParticleView {
  Vec<Real, D>* x;
  Vec<Real, D>* v;
  Mat<Real, D>* F;
  Mat<Real, D>* C;  // APIC affine velocity field (~ velocity gradient)
  Real* plastic;
  const Real* mass;
  const Real* volume;  // reference volume V0
  const int* material;
  const Vec<Real, D>* force;  // external force [N], may be null
};

/// A dense grid of res[0] x ... x res[D-1] nodes; node (i,j,k) sits at
/// origin + (i,j,k) * dx and has linear index ((i * res1) + j) * res2 + k.
template <class Real, int D>
struct GridView {
  Vec<Real, D>* momentum;  // P2G output
  Real* mass;              // P2G output
  Vec<Real, D>* velocity;  // grid-update output, G2P input
  int res[D];
  Vec<Real, D> origin;
  Real dx;
  Real inv_dx;

  PL_HD PL_INLINE bool stencil_inside(const int (&base)[D]) const {
    for (int a = 0; a < D; ++a)
      if (base[a] < 0 || base[a] > res[a] - 3) return false;  // not base + 2: no overflow at INT_MAX
    return true;
  }
  /// Same test on a grid-space position (to_grid(x)), done in floating point
  /// BEFORE the stencil converts floor(xg - 0.5) to int: that conversion is
  /// undefined for NaN or out-of-range values (GPUs saturate to INT_MAX or give
  /// 0 for NaN, which the integer test would let through).  False for NaN/Inf.
  PL_HD PL_INLINE bool stencil_inside(const Vec<Real, D>& xg) const {
    for (int a = 0; a < D; ++a) {
      const Real b = xg[a] - Real(0.5);  // floor(b) is the stencil base
      if (!(b >= Real(0) && b < Real(res[a] - 2))) return false;
    }
    return true;
  }
  PL_HD PL_INLINE std::size_t node_index(const int (&base)[D], const int (&off)[D]) const {
    std::size_t idx = 0;
    for (int a = 0; a < D; ++a) idx = idx * std::size_t(res[a]) + std::size_t(base[a] + off[a]);
    return idx;
  }
  PL_HD PL_INLINE void node_coords(std::size_t idx, int (&ijk)[D]) const {
    for (int a = D - 1; a >= 0; --a) {
      ijk[a] = int(idx % std::size_t(res[a]));
      idx /= std::size_t(res[a]);
    }
  }
  /// Particle position in grid units (node spacing 1, node 0 at 0).
  PL_HD PL_INLINE Vec<Real, D> to_grid(const Vec<Real, D>& x) const { return (x - origin) * inv_dx; }
};

/// One entry of the material table: which model and its packed parameters.
template <class Real>
struct MaterialSlot {
  int model_id;
  Real params[materials::kMaxParams];
};

/// Why a particle stopped a run; packed with the particle index into one
/// 64-bit key so an atomic min keeps the lowest failing particle (a
/// deterministic report whatever the thread schedule).
enum ParticleFault : std::uint64_t {
  kFaultNone = 0,
  kFaultPositionNotFinite = 1,
  kFaultVelocityNotFinite = 2,
  kFaultDeformationNotFinite = 3,
  kFaultLeftDomain = 4,
  kFaultPlasticNotFinite = 5,
};
constexpr std::uint64_t kNoFault = ~std::uint64_t(0);
PL_HD PL_INLINE std::uint64_t fault_key(std::size_t particle, ParticleFault f) {
  return (std::uint64_t(particle) << 3) | std::uint64_t(f);
}

}  // namespace pl
