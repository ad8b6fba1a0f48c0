// FemWorld's tool members (issue 6, FEM <-> tool contact): kept out of
// fem_world.cpp so the world's core stays about time stepping.
#include <stdexcept>

#include "engine/core/error.hpp"
#include "engine/fem/fem_tool_contact.hpp"
#include "engine/fem/fem_world.hpp"

namespace pl::fem {

template <class Real>
int FemWorld<Real>::add_tool(const ToolSpec<3>& spec, const std::string& context) {
  if (settings_.integrator != FemIntegrator::kImplicitEuler)
    throw InputError(context + ": tool '" + spec.name +
                     "': tools act on FEM bodies through the implicit integrator's incremental potential; "
                     "set fem.integrator: implicit");
  // The FEM-side Tool is planned with the FEM dt, so pose(n + 1) is the pose
  // at the end of FEM step n (fem_tool_contact.hpp explains the timing).
  tools_.push_back(std::make_shared<FemToolContact<Real>>(spec, settings_.dt, context));
  return int(tools_.size()) - 1;
}

template <class Real>
void FemWorld<Real>::begin_tool_adjoint(long first_step, long end_step) {
  for (auto& t : tools_) t->adjoint_begin(first_step, end_step);
}

template <class Real>
std::vector<ToolGradients<3>> FemWorld<Real>::end_tool_adjoint() {
  std::vector<ToolGradients<3>> out;
  for (auto& t : tools_) out.push_back(t->adjoint_end());
  return out;
}

#define PL_FEM_TOOLS(Real)                                                                \
  template int FemWorld<Real>::add_tool(const ToolSpec<3>&, const std::string&);        \
  template void FemWorld<Real>::begin_tool_adjoint(long, long);                         \
  template std::vector<ToolGradients<3>> FemWorld<Real>::end_tool_adjoint();
PL_FEM_TOOLS(float)
PL_FEM_TOOLS(double)

}  // namespace pl::fem
