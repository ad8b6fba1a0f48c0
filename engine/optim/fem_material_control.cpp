#include "engine/optim/fem_material_control.hpp"

#include <algorithm>

namespace pl::optim {

template <class Real>
std::vector<FemParameterRef> set_fem_body_parameter(fem::FemWorld<Real>& world, const std::string& body,
                                                    const std::string& parameter, double value) {
  std::vector<FemParameterRef> refs;
  const std::string suffix = " '" + body + "'";
  const auto& terms = world.terms();
  for (std::size_t k = 0; k < terms.size(); ++k) {
    const std::string name = terms[k]->name();
    if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const auto names = terms[k]->parameter_names();
    const auto it = std::find(names.begin(), names.end(), parameter);
    if (it == names.end()) continue;
    std::vector<Real> theta = terms[k]->parameters();
    theta[std::size_t(it - names.begin())] = Real(value);
    terms[k]->set_parameters(theta);
    refs.push_back({k, std::size_t(it - names.begin())});
  }
  return refs;
}

template std::vector<FemParameterRef> set_fem_body_parameter(fem::FemWorld<float>&, const std::string&,
                                                             const std::string&, double);
template std::vector<FemParameterRef> set_fem_body_parameter(fem::FemWorld<double>&, const std::string&,
                                                             const std::string&, double);

}  // namespace pl::optim
