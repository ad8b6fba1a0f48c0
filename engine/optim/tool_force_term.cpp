#include "engine/optim/tool_force_term.hpp"

#include <cmath>

#include "engine/coupling/tool.hpp"
#include "engine/core/error.hpp"

namespace pl::optim {

namespace {

/// Over the N substeps of the term's frames (frame f covers substeps
/// (f - 1) spf .. f spf - 1):
///   value = 1/N sum_n |F_n|^2 [N^2],   dvalue/dF_n = 2 F_n / N
/// with F_n the force the material exerted on the tool in substep n; the
/// metric is the RMS force sqrt(value) [N].  Torques are not read.
class ToolForceTerm final : public ObjectiveTerm {
 public:
  ToolForceTerm(const scene::ObjectiveTermDesc& d, const scene::SceneDesc& scene)
      : ObjectiveTerm(d), spf_(scene.simulation.substeps_per_frame) {
    if (d.tool_index < 0 || d.tool_index >= int(scene.tools.size()))
      throw InputError(d.loc + ": objective." + d.name + ".tool: no such tool");
  }
  std::vector<int> frames() const override { return {}; }  // reads no particle state
  int reaction_tool() const override { return desc_.tool_index; }
  std::string metric_name() const override { return "rms_force_N"; }

  double reaction_value(const std::vector<ToolReaction>& reactions, std::vector<ToolReaction>* grad,
                        double* metric) const override {
    std::vector<std::size_t> steps;
    for (int f : desc_.frames)
      for (int n = (f - 1) * spf_; f >= 1 && n < f * spf_; ++n)
        if (std::size_t(n) < reactions.size()) steps.push_back(std::size_t(n));
    if (grad) grad->assign(reactions.size(), ToolReaction{});
    if (steps.empty()) {
      if (metric) *metric = 0;
      return 0;
    }
    const double inv_n = 1.0 / double(steps.size());
    double v = 0;
    for (std::size_t n : steps)
      for (int a = 0; a < 3; ++a) {
        const double F = reactions[n].force[a];
        v += F * F * inv_n;
        if (grad) (*grad)[n].force[a] += 2 * F * inv_n;
      }
    if (metric) *metric = std::sqrt(v);
    return v;
  }

 private:
  int spf_;
};

}  // namespace

std::unique_ptr<ObjectiveTerm> make_tool_force_term(const scene::ObjectiveTermDesc& desc, const scene::SceneDesc& scene) {
  return std::make_unique<ToolForceTerm>(desc, scene);
}

}  // namespace pl::optim
