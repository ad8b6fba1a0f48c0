// `pliant gradcheck SCENE`: adjoint gradients of a scene against central finite
// differences, in double precision, for every differentiable quantity the
// scene exposes, printed as a table.
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
// Each finite difference is taken at h and h/2; when they disagree by more than
// the tolerance the row is marked "kink" (a particle crossed a yield surface,
// clamp or wall branch within h: the FD is unreliable, not the adjoint) instead
// of failing.  Differences below 1e-9 max(1, |L|) count as agreement (they are
// finite-difference round-off, e.g. for a parameter the loss does not depend
// on).  The same adjoint in float is reported next to it.
#pragma once

#include <cstdint>
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
};

struct GradcheckReport {
  std::string scene;
  int steps = 0;
  std::size_t particles = 0;
  double tolerance = 1e-6;
  std::vector<GradcheckRow> rows;
  bool passed() const;
  std::string table() const;
};

struct GradcheckOptions {
  int steps = 20;  // substeps of the rollout
  std::uint64_t seed = 1;
  double tolerance = 1e-6;
};

GradcheckReport gradcheck_scene(const scene::SceneDesc& scene, const GradcheckOptions& options);

}  // namespace pl
