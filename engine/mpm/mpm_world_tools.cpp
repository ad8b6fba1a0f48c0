// MpmWorld's rigid tools (issue 6): the tool list, the per-substep tool
// states handed to the grid update, and the per-substep reaction record.
// Kept apart from mpm_world.cpp so the world's core stays about particles.
#include <string>

#include "engine/core/error.hpp"
#include "engine/mpm/mpm_world.hpp"

namespace pl {

template <class Real, int D>
int MpmWorld<Real, D>::add_tool(Tool<D> tool) {
  if (tools_.size() >= std::size_t(kMaxTools))
    throw InputError(context_ + ": tool '" + tool.name() + "': at most " + std::to_string(kMaxTools) +
                     " tools act on one world");
  for (const auto& t : tools_)
    if (t.name() == tool.name()) throw InputError(context_ + ": two tools are named '" + tool.name() + "'");
  // The grid speed limit (tool.hpp): a tool faster than half a cell per substep would let material tunnel through.
  std::array<double, D> lo, hi;
  for (int a = 0; a < D; ++a)
    lo[a] = settings_.origin[a], hi[a] = settings_.origin[a] + settings_.dx * (settings_.resolution[a] - 1);
  tool.check_grid_speed(settings_.dx, lo, hi);
  const Real* field = nullptr;
  if (tool.spec().shape == ToolShape::Mesh && tool.spec().mesh) {
    const std::vector<double>& values = tool.spec().mesh->values;
    field = backend_->upload_tool_field(std::vector<Real>(values.begin(), values.end()));
  }
  tools_.push_back(std::move(tool));
  tool_fields_.push_back(field);
  tool_reactions_.emplace_back();
  return int(tools_.size()) - 1;
}

template <class Real, int D>
SubstepParams<Real, D> MpmWorld<Real, D>::substep_params(long step) const {
  SubstepParams<Real, D> params = substep_params();
  params.tools.count = int(tools_.size());
  for (std::size_t k = 0; k < tools_.size(); ++k)
    params.tools.tool[k] = tools_[k].template state<Real>(step, tool_fields_[k]);
  return params;
}

template <class Real, int D>
void MpmWorld<Real, D>::record_tool_reactions(long step) {
  if (tools_.empty()) return;
  std::vector<ToolWrench<Real>> w;
  backend_->download_tool_reactions(w);
  for (std::size_t k = 0; k < tools_.size() && k < w.size(); ++k) {
    ToolReaction r;
    for (int a = 0; a < 3; ++a) r.force[a] = double(w[k].force[a]), r.torque[a] = double(w[k].torque[a]);
    auto& record = tool_reactions_[k];
    if (record.size() <= std::size_t(step)) record.resize(std::size_t(step) + 1);
    record[std::size_t(step)] = r;
  }
}

template <class Real, int D>
void MpmWorld<Real, D>::set_grid_coupling(GridCouplingHook<Real, D>* hook) {
  if (hook && backend_kind_ != Backend::Cpu)
    throw InputError(context_ + ": MPM <-> FEM coupling runs on the CPU backend only (its hook reads the grid in host memory)");
  grid_hook_ = hook;
}

#define PL_INSTANTIATE_WORLD_TOOLS(Real, D)                                                       \
  template void MpmWorld<Real, D>::set_grid_coupling(GridCouplingHook<Real, D>*);                \
  template int MpmWorld<Real, D>::add_tool(Tool<D>);                                              \
  template SubstepParams<Real, D> MpmWorld<Real, D>::substep_params(long) const;                  \
  template void MpmWorld<Real, D>::record_tool_reactions(long);
PL_INSTANTIATE_WORLD_TOOLS(float, 2)
PL_INSTANTIATE_WORLD_TOOLS(float, 3)
PL_INSTANTIATE_WORLD_TOOLS(double, 2)
PL_INSTANTIATE_WORLD_TOOLS(double, 3)
#undef PL_INSTANTIATE_WORLD_TOOLS

}  // namespace pl
