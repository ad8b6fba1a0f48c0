// What a grid kernel needs to know about the rigid tools during one substep:
// shape, contact model, pose and velocity.  Plain aggregates, passed by value
// inside the kernel functor (no device allocation for analytic shapes; mesh
// tools point at a grid the backend holds).
//
// Pose: a point x_local in the tool frame is at x = c + R x_local in the
// world.  Velocity of the tool at a world point x: u + omega x (x - c), with
// omega a 3-vector in 3D and a scalar (about z) in 2D.
#pragma once

#include "kernels/coupling/sdf_primitives.hpp"
#include "kernels/math/mat.hpp"

namespace pl {

/// How a grid node inside (or near) a tool is corrected.
///   sticky    inside: the node moves with the tool
///   slip      inside and approaching: the normal relative velocity is removed
///   friction  inside and approaching: as slip, with Coulomb friction mu on the
///             tangential relative velocity (the normal impulse bounds it)
///   soft      everywhere: a smooth penalty acceleration k * softplus depth
///             along the normal, with smoothed Coulomb friction (gradients
///             stay non-zero while contact breaks); see grid_tool_collision.hpp
enum class ContactMode : int { Sticky = 0, Slip = 1, Friction = 2, Soft = 3 };

/// Components of the angular velocity: 3 in 3D, 1 (about z) in 2D.
template <int D>
constexpr int kAngularDim = D == 3 ? 3 : 1;

template <class Real, int D>
struct ToolState {
  ToolGeometry<Real, D> geometry;
  ContactMode mode;
  Real friction;     // Coulomb coefficient mu (friction, soft)
  Real stiffness;    // penalty k [1/s^2]: acceleration per metre of depth (soft)
  Real softness;     // softplus length h [m] (soft)
  Real smoothing;    // friction smoothing speed eps [m/s] (soft)
  Vec<Real, D> position;   // c [m]
  Mat<Real, D> rotation;   // R: local -> world
  Vec<Real, D> velocity;   // u [m/s]
  Vec<Real, kAngularDim<D>> angular;  // omega [rad/s]
};

constexpr int kMaxTools = 4;

/// The tools of one substep, applied to each node in index order.
template <class Real, int D>
struct ToolSet {
  int count = 0;
  ToolState<Real, D> tool[kMaxTools];
  // ---- issue 6: a loss on the reactions (adjoint only; unused by the forward) ----
  // dL/d(force[3], torque[3]) of tool k's reaction in this substep
  // (tool_reaction.hpp), seeded by the rollout before the adjoint grid update.
  bool has_reaction_adjoint = false;
  Real reaction_adjoint[kMaxTools][6] = {};
};

/// Layout of the per-tool gradient block (kToolAdjointSize<D> entries):
/// dL/dc, dL/dR (row-major), dL/du, dL/domega, dL/dmu, dL/dk.
template <int D>
struct ToolAdjointIndex {
  static constexpr int position = 0;
  static constexpr int rotation = D;
  static constexpr int velocity = D + D * D;
  static constexpr int angular = 2 * D + D * D;
  static constexpr int friction = angular + kAngularDim<D>;
  static constexpr int stiffness = friction + 1;
  static constexpr int size = stiffness + 1;
};
template <int D>
constexpr int kToolAdjointSize = ToolAdjointIndex<D>::size;

}  // namespace pl
