// The reaction of the material on a tool during one substep, summed over the
// grid nodes the tool touched: the tool receives the opposite of the momentum
// it gave them (Newton's third law), so
//   F = -sum_i I_i / dt,   tau = -sum_i (x_i - c) x I_i / dt
// with I_i = m_i (v_i' - v_i) the impulse on node i (apply_tools) and c the
// tool position.  In 2D the torque has a z component only.
#pragma once

#include "kernels/coupling/tool_state.hpp"

namespace pl {

template <class Real>
struct ToolWrench {
  Real force[3];   // [N]
  Real torque[3];  // [N m] about the tool position
};

template <class Real>
PL_HD PL_INLINE ToolWrench<Real> operator+(const ToolWrench<Real>& a, const ToolWrench<Real>& b) {
  ToolWrench<Real> r;
  for (int i = 0; i < 3; ++i) r.force[i] = a.force[i] + b.force[i], r.torque[i] = a.torque[i] + b.torque[i];
  return r;
}

/// Node -> its contribution to tool `tool`'s wrench (for a transform-reduce
/// over nodes).  `impulse` holds `count` impulses per node.
template <class Real, int D>
struct NodeWrench {
  const Vec<Real, D>* impulse;
  int count, tool;
  Vec<Real, D> origin;
  Real dx;
  int res[D];
  Vec<Real, D> center;
  Real inv_dt;

  PL_HD ToolWrench<Real> operator()(std::size_t node) const {
    ToolWrench<Real> w;
    for (int i = 0; i < 3; ++i) w.force[i] = w.torque[i] = Real(0);
    const Vec<Real, D> I = impulse[node * std::size_t(count) + std::size_t(tool)];
    Vec<Real, D> r;
    std::size_t rest = node;
    for (int a = D - 1; a >= 0; --a) {
      r[a] = origin[a] + Real(int(rest % std::size_t(res[a]))) * dx - center[a];
      rest /= std::size_t(res[a]);
    }
    for (int a = 0; a < D; ++a) w.force[a] = -I[a] * inv_dt;
    if constexpr (D == 3) {
      const Vec<Real, 3> t = cross(r, I);
      for (int a = 0; a < 3; ++a) w.torque[a] = -t[a] * inv_dt;
    } else {
      w.torque[2] = -(r[0] * I[1] - r[1] * I[0]) * inv_dt;
    }
    return w;
  }
};

}  // namespace pl
