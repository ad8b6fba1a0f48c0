// Plain pointer views of MPM state handed to kernels.  They own nothing; the
// backend (engine/mpm) owns the buffers and builds views for each launch.
#pragma once

#include <cstdint>
#include <string>

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

/// Adjoint of the particle state (x, v, F, C, plastic), same layout as
/// ParticleView: entry p holds dL/d(state of particle p).
template <class Real, int D>
struct ParticleAdjointView {
  Vec<Real, D>* x;
  Vec<Real, D>* v;
  Mat<Real, D>* F;
  Mat<Real, D>* C;
  Real* plastic;
};

/// Adjoint of the grid quantities of one substep: dL/d(grid velocity after
/// the walls), dL/d(P2G momentum), dL/d(P2G mass).
template <class Real, int D>
struct GridAdjointView {
  Vec<Real, D>* velocity;
  Vec<Real, D>* momentum;
  Real* mass;
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

// ---- adjoint faults ------------------------------------------------------------
// A non-finite adjoint stops (or warns in) the backward pass with the step,
// kernel and quantity named.  Adjoint keys have their own layout so one 64-bit
// atomic min still picks a deterministic first fault:
//   key = kernel << 60 | index << 5 | quantity
// kernel-major, so the kernel that ran first wins (the NaN's origin, not where
// it spread to), then the lowest particle / node index.  index is a particle
// for AdjG2P / AdjP2G and a grid node for AdjGridUpdate.  Forward keys
// (fault_key) never reach bit 60, so is_adjoint_fault tells the two apart.
enum AdjointKernel : std::uint64_t {
  kAdjKernelG2P = 1,         // checks its input, dL/ds_{n+1} (the incoming adjoint)
  kAdjKernelGridUpdate = 2,  // checks dL/d(grid velocity) in, dL/d(momentum, mass) out, friction
  kAdjKernelP2G = 3,         // checks its outputs, dL/ds_n and the parameter / mass / force gradients
};
enum AdjointQuantity : std::uint64_t {
  kAdjQuantityX = 1,
  kAdjQuantityV = 2,
  kAdjQuantityF = 3,
  kAdjQuantityC = 4,
  kAdjQuantityPlastic = 5,
  kAdjQuantityParams = 6,
  kAdjQuantityMass = 7,
  kAdjQuantityForce = 8,
  kAdjQuantityGridVelocity = 9,
  kAdjQuantityGridMomentum = 10,
  kAdjQuantityGridMass = 11,
  kAdjQuantityWallFriction = 12,
};
/// Marks every adjoint key (kernel codes start at 1).
constexpr std::uint64_t kFaultAdjointNotFinite = std::uint64_t(1) << 60;
PL_HD PL_INLINE std::uint64_t adjoint_fault_key(AdjointKernel kernel, std::size_t index, AdjointQuantity q) {
  return (std::uint64_t(kernel) << 60) | (std::uint64_t(index) << 5) | std::uint64_t(q);
}
PL_HD PL_INLINE bool is_adjoint_fault(std::uint64_t key) {
  return key != kNoFault && key >= kFaultAdjointNotFinite;
}
PL_HD PL_INLINE AdjointKernel adjoint_key_kernel(std::uint64_t key) { return AdjointKernel(key >> 60); }
PL_HD PL_INLINE std::size_t adjoint_key_index(std::uint64_t key) {
  return std::size_t((key >> 5) & ((std::uint64_t(1) << 55) - 1));
}
PL_HD PL_INLINE AdjointQuantity adjoint_key_quantity(std::uint64_t key) { return AdjointQuantity(key & 31u); }

/// True when every entry of the particle's adjoint entries is finite; else
/// sets `q` to the first bad quantity.
template <class Real, int D>
PL_HD PL_INLINE bool particle_adjoint_finite(const ParticleAdjointView<Real, D>& a, std::size_t p, AdjointQuantity& q) {
  if (!all_finite(a.x[p])) q = kAdjQuantityX;
  else if (!all_finite(a.v[p])) q = kAdjQuantityV;
  else if (!all_finite(a.F[p])) q = kAdjQuantityF;
  else if (!all_finite(a.C[p])) q = kAdjQuantityC;
  else if (!isfinite(a.plastic[p])) q = kAdjQuantityPlastic;
  else return true;
  return false;
}

/// Host-side names for messages ("AdjG2P", "dL/dF (deformation gradient)").
inline const char* adjoint_kernel_name(AdjointKernel k) {
  switch (k) {
    case kAdjKernelG2P: return "AdjG2P (input: dL/d state after the substep)";
    case kAdjKernelGridUpdate: return "AdjGridUpdate";
    case kAdjKernelP2G: return "AdjP2G (output: dL/d state before the substep)";
  }
  return "unknown adjoint kernel";
}
inline const char* adjoint_quantity_name(AdjointQuantity q) {
  switch (q) {
    case kAdjQuantityX: return "dL/dx (particle position)";
    case kAdjQuantityV: return "dL/dv (particle velocity)";
    case kAdjQuantityF: return "dL/dF (deformation gradient)";
    case kAdjQuantityC: return "dL/dC (affine velocity)";
    case kAdjQuantityPlastic: return "dL/dplastic (plastic state)";
    case kAdjQuantityParams: return "dL/dparams (material parameters)";
    case kAdjQuantityMass: return "dL/dmass (particle mass)";
    case kAdjQuantityForce: return "dL/dforce (external force)";
    case kAdjQuantityGridVelocity: return "dL/d(grid velocity)";
    case kAdjQuantityGridMomentum: return "dL/d(grid momentum)";
    case kAdjQuantityGridMass: return "dL/d(grid mass)";
    case kAdjQuantityWallFriction: return "dL/d(wall friction)";
  }
  return "unknown quantity";
}

/// "AdjG2P (input: ...), particle 7: dL/dF (deformation gradient) is not
/// finite (NaN/Inf)" -- everything the key says; the world adds the step and
/// the particle's body (index is a particle unless the kernel is AdjGridUpdate).
inline std::string describe_adjoint_key(std::uint64_t key) {
  if (!is_adjoint_fault(key)) return "not an adjoint fault";
  const AdjointKernel k = adjoint_key_kernel(key);
  return std::string(adjoint_kernel_name(k)) + (k == kAdjKernelGridUpdate ? ", grid node " : ", particle ") +
         std::to_string(adjoint_key_index(key)) + ": " + adjoint_quantity_name(adjoint_key_quantity(key)) +
         " is not finite (NaN/Inf)";
}

}  // namespace pl
