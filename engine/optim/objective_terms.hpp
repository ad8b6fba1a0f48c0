// The terms of an objective: each a function of the particle state at chosen
// frames (or of the control values), with its gradient.  The loss is
//   L = sum_terms weight * ( sum_{f in frames} value(state_f) + value(controls) ).
//
// State terms see positions and masses in double whatever the world's Real,
// read only the particles of their body (all particles when none is named),
// and add dvalue/dx into a flat n x dim array; tests/optim/test_objective_terms.cpp
// checks every gradient against central finite differences.
//
// Adding a term type: a class here, a branch in make_term, a row in
// optimize_loader.cpp's kTermTypes.  Tool forces and mesh-vertex terms (FEM)
// will read more than particle positions: StateView grows a field then.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/optim/controls.hpp"
#include "engine/scene/scene_desc.hpp"

namespace pl {
struct ToolReaction;  // engine/coupling/tool.hpp (issue 6: terms on tool reactions)
}

namespace pl::optim {

/// One frame's particle state, flattened (x[p * dim + a]).
struct StateView {
  int dim = 3;
  std::size_t n = 0;
  const double* x = nullptr;
  const double* mass = nullptr;
  const int* body = nullptr;
  int frame = 0;
};

class ObjectiveTerm {
 public:
  explicit ObjectiveTerm(const scene::ObjectiveTermDesc& desc) : desc_(desc) {}
  virtual ~ObjectiveTerm() = default;
  const scene::ObjectiveTermDesc& desc() const { return desc_; }

  /// Frames whose state the term reads (empty: the term reads only controls).
  virtual std::vector<int> frames() const { return desc_.frames; }
  /// Unweighted value at one frame; adds dvalue/dx into grad_x (n * dim) when
  /// not null.  *metric (when not null) receives a number worth reporting in
  /// the term's own unit (metric_name()).
  virtual double state_value(const StateView&, double* /*grad_x*/, double* /*metric*/) const { return 0; }
  /// Unweighted value on the controls' physical values; adds dvalue/dp into grad_p.
  virtual double control_value(const std::vector<double>& /*p*/, double* /*grad_p*/) const { return 0; }
  /// Name of the metric, e.g. "distance_m"; "" when the term has none.
  virtual std::string metric_name() const { return ""; }
  // ---- issue 6: terms on a tool's reactions (tool_force_term.cpp) ----
  /// The tool (index into SceneDesc::tools, the world's tool order) whose
  /// per-substep reactions the term reads; -1: none.
  virtual int reaction_tool() const { return -1; }
  /// Unweighted value of that tool's reactions (one per substep of the run);
  /// sets *grad to dvalue/d(reaction) (same length) when not null.
  virtual double reaction_value(const std::vector<ToolReaction>& /*reactions*/, std::vector<ToolReaction>* /*grad*/,
                                double* /*metric*/) const {
    return 0;
  }

 protected:
  /// Whether particle i belongs to the term (its body, or every particle).
  bool selects(const StateView& s, std::size_t i) const { return desc_.body_index < 0 || s.body[i] == desc_.body_index; }

  scene::ObjectiveTermDesc desc_;
};

/// Builds the term (reads target files: InputError naming the scene key).
std::unique_ptr<ObjectiveTerm> make_term(const scene::ObjectiveTermDesc& desc, const scene::SceneDesc& scene,
                                         const ControlLayout& layout);

}  // namespace pl::optim
