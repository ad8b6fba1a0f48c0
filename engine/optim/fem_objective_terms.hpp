// Objective terms on FEM bodies (issue 7, task "Fold"): functions of the FEM
// vertex positions at chosen frames, with their gradients.
//
//   fem_vertices  the vertices of a body inside a box (rest positions) to
//                 targets:  value = (1/n) sum_v |x_v - t_v|^2  [m^2],
//                 dvalue/dx_v = 2 (x_v - t_v) / n; metric: the RMS distance in mm.
//                 Targets: one position for all (a corner: one vertex) or the
//                 rows of a .npy (n x 3, in vertex order).
//   fem_crease    the hinges of a shell whose edge lies inside a box (a crease
//                 line) to a dihedral angle theta*:
//                 value = (1/n) sum_h (theta_h - theta*)^2  [rad^2],
//                 dvalue/dx = 2 (theta_h - theta*) dtheta_h/dx / n, with the
//                 signed angle and its gradient of kernels/fem/dihedral_angle.hpp
//                 (Bridson et al. 2003); a degenerate hinge adds its value but
//                 no gradient (its angle has no direction).  Metric: the mean
//                 angle in degrees.  Measured after a release, it says whether
//                 the crease holds (plastic rest angles, ThinShellLab).
//
// Each term resolves its vertices/hinges once (building the scene's FEM world),
// so a region that selects nothing or a target file of the wrong size is an
// InputError naming the scene key before any rollout.  The FEM evaluation
// (evaluate_fem.cpp) finds these terms by dynamic_cast.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "engine/optim/objective_terms.hpp"

namespace pl::optim {

/// The FEM state a term reads: all vertices' positions (3 per vertex, world numbering).
struct FemStateView {
  std::size_t num_vertices = 0;
  const double* x = nullptr;
  int frame = 0;
};

class FemObjectiveTerm : public ObjectiveTerm {
 public:
  using ObjectiveTerm::ObjectiveTerm;
  /// Unweighted value; adds dvalue/dx into grad_x (3 * num_vertices) when not null.
  virtual double fem_value(const FemStateView& s, double* grad_x, double* metric) const = 0;
};

/// fem_vertices / fem_crease (InputError naming the key for bad regions or files).
std::unique_ptr<ObjectiveTerm> make_fem_term(const scene::ObjectiveTermDesc& desc, const scene::SceneDesc& scene);

}  // namespace pl::optim
