// The optimization variables: every control's values in one flat vector u,
// each entry mapped onto [0, 1] between its bounds.
//
// Why [0, 1]: controls mix units (m/s, N, Pa) and magnitudes (1 vs 1e5); in
// these coordinates one learning rate and one CMA-ES step size fit all, and
// the bounds are the box [0, 1]^n (projection for Adam, repair + penalty for
// CMA-ES).  Per entry, with t(p) = p, or t(p) = ln p for a control with
// `log: true`:
//   p(u) = t^-1( t(lo) + u (t(hi) - t(lo)) )
//   dp/du = (t(hi) - t(lo)) * (log ? p : 1)         (chain rule through t^-1)
// so dL/du = dL/dp * dp/du (tests/optim/test_controls.cpp checks this by FD).
//
// Control kinds (how a value acts on a world, and where its gradient comes
// from) live in evaluate.cpp's apply_controls / control_gradients; their
// scene keys in optimize_loader.cpp.
#pragma once

#include <string>
#include <vector>

#include "engine/scene/optimize_desc.hpp"

namespace pl::optim {

class ControlLayout {
 public:
  explicit ControlLayout(const std::vector<scene::ControlDesc>& controls);

  int size() const { return size_; }
  const std::vector<scene::ControlDesc>& controls() const { return controls_; }
  /// Index of control c's first value in u.
  int offset(int c) const { return offsets_[std::size_t(c)]; }

  /// Physical values for u (entries outside [0, 1] are clamped first).
  std::vector<double> to_physical(const std::vector<double>& u) const;
  /// u for physical values (clamped to the bounds).
  std::vector<double> to_unit(const std::vector<double>& physical) const;
  /// dp_i/du_i at u (clamped), for the chain rule dL/du = dL/dp dp/du.
  std::vector<double> dphysical_du(const std::vector<double>& u) const;
  /// The scene's initial guesses, as u.
  std::vector<double> initial_unit() const;
  /// "jelly_v[1]" for entry i of u.
  std::string entry_name(int i) const;

 private:
  std::vector<scene::ControlDesc> controls_;
  std::vector<int> offsets_;
  int size_ = 0;
};

}  // namespace pl::optim
