// `pliant gradcheck SCENE`: adjoint gradients of a scene against central finite
// differences, in double precision, for every differentiable quantity the
// scene exposes, printed as a table.  (issue 6, gc_fem: scenes of FEM bodies
// only and coupled MPM + FEM scenes are dispatched to
// engine/diff/fem_scene_gradcheck.hpp and coupled_scene_gradcheck.hpp.)
//
// The scene has no objective yet (a later scene-format version adds one), so
// the check uses a random linear loss of the state at the middle and the last
// step, L = sum_p (w_x . x_p + w_v . v_p) / N, with weights from `seed`.  A
// linear loss is enough: the backward pass is linear in dL/ds, so a random one
// exercises every path.  Directions checked:
//   initial positions, initial velocities        (random directions)
//   every parameter of every material, density   (relative steps)
//   friction of every separating wall face (with friction > 0)
//   per-step external forces                     (a random force field, at zero)
//   per tool (issue 6): velocity actions (linear, angular), waypoint positions
//   and rotations, or the initial pose (random directions); friction (friction
//   and soft contact); soft penalty stiffness (relative step)
// Each finite difference is taken at h and h/2, from L(0), L(+-h), L(+-h/2).
// A row whose adjoint disagrees with the central difference is marked "kink"
// (neither passed nor failed, with a note saying why) instead of "FAIL" when
// the finite differences themselves show the loss is not smooth there:
//  * kink within the stencil: the central differences at h and h/2 disagree (a
//    particle crossed a yield surface, clamp or wall branch within h);
//  * kink AT the base point: a branch boundary passes through the unperturbed
//    state, so both central differences straddle it symmetrically and agree,
//    but average two different one-sided slopes.  Smooth L has
//    forward - backward = h L'' + O(h^3), which halves with h; a slope jump J
//    at 0 gives J at every h, so (asym(h/2) - asym(h)/2) ~ J/2 detects it.
//    Typical: sand grains at rest (F = I) sit exactly on the apex of the
//    Drucker-Prager cone, free-falling grains return to it every substep, and
//    nodes with v = 0 on a separating wall sit between "leaving" and "stuck".
//    The adjoint then takes the branch the state is on; no finite difference
//    can confirm it there.
// A "FAIL" row carries the finite differences in its note (they agree with
// each other, so the adjoint is suspect).  Differences below 1e-9 max(1, |L|)
// count as agreement (they are finite-difference round-off, e.g. for a
// parameter the loss does not depend on).  The same adjoint in float is
// reported next to it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/scene/scene_desc.hpp"

namespace pl {

struct GradcheckRow {
  std::string quantity;
  double adjoint = 0;            // directional derivative from the backward pass (double)
  double finite_difference = 0;  // central difference at h (double)
  double rel_error = 0;          // |adjoint - fd| / max(|fd|, |adjoint|, floor)
  double float_rel_error = 0;    // |adjoint_float - adjoint| / max(|adjoint|, floor)
  std::string status;            // "ok", "FAIL" or "kink"
  double one_sided_forward = 0;  // (L(h/2) - L(0)) / (h/2)
  double one_sided_backward = 0; // (L(0) - L(-h/2)) / (h/2)
  std::string note;              // why a row is "kink"
};

struct GradcheckReport {
  std::string scene;
  int steps = 0;
  std::size_t particles = 0;
  double tolerance = 1e-6;
  // issue 6 (gc_fem) begin: the header line's wording (FEM checks count vertices, read the final state only)
  std::string counted = "particles";
  std::string loss = "random linear loss at the middle and last step";
  // issue 6 (gc_fem) end
  std::vector<GradcheckRow> rows;
  bool passed() const;
  std::string table() const;
};

/// What a row's adjoint is compared with: the central difference D(h), or the
/// Richardson extrapolation (4 D(h/2) - D(h)) / 3 (O(h^4) truncation error;
/// the FEM and coupled checks use it: stiff contact penalties have third
/// derivatives large enough that D(h) alone is off by ~1e-6 relative).
enum class FdEstimate { Central, Richardson };

/// One row by the rules above: the adjoint directional derivative `adjoint`
/// against differences of `loss(t)` (the loss with the quantity moved by t
/// along the direction; loss(0) = base_loss) at h and h/2, classified ok /
/// kink / FAIL.  `loss` may throw InputError for t < 0 at the edge of a
/// parameter's range (then the one-sided (-3 L(0) + 4 L(h) - L(2h)) / 2h).
/// float_rel_error is left NaN (the caller fills it in when it has one).
GradcheckRow gradcheck_row(const std::string& quantity, double adjoint, double base_loss,
                           const std::function<double(double)>& loss, double h, double tolerance,
                           FdEstimate estimate);

struct GradcheckOptions {
  int steps = 20;  // substeps of the rollout
  std::uint64_t seed = 1;
  double tolerance = 1e-6;
};

GradcheckReport gradcheck_scene(const scene::SceneDesc& scene, const GradcheckOptions& options);

// issue 6 (gc_fem): the tool-rotation perturbation, shared with engine/diff/fem_scene_gradcheck.cpp.
/// Euler XYZ angles [deg] of exp([h d]x) R(rotation_deg) (the scene convention R = Rz Ry Rx).
std::array<double, 3> rotated_euler_deg(const std::array<double, 3>& rotation_deg, const std::array<double, 3>& d,
                                        double h);

}  // namespace pl
