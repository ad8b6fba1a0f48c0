#include "materials/registry.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "engine/core/error.hpp"
#include "materials/model_list.hpp"

namespace pl::materials {

namespace {

template <class M>
constexpr bool check_model_declaration() {
  static_assert(M::kNumParams <= kMaxParams, "a model has more than kMaxParams parameters");
  static_assert(sizeof(M::kParams) / sizeof(ParamSpec) == M::kNumParams,
                "kParams must describe every parameter");
  return true;
}

template <class... Ms>
constexpr bool check_all(ModelList<Ms...>) {
  return (check_model_declaration<Ms>() && ...);
}
static_assert(check_all(AllModels{}), "model declarations");

ModelInfo info_of_id(int id) {
  ModelInfo info{nullptr, 0, nullptr, false, false};
  visit_model(id, [&](auto m) {
    using M = decltype(m);
    info = ModelInfo{M::kName, M::kNumParams, M::kParams, M::kHasPlasticity, M::kIsFluid};
  });
  return info;
}

/// Levenshtein distance (case-insensitive), for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

/// " (did you mean 'x'?)" when a candidate is close enough to be a typo, else "".
std::string suggestion(const std::string& given, const std::vector<std::string>& candidates) {
  std::size_t best = std::string::npos;
  std::string best_name;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(given, c);
    if (d < best) {
      best = d;
      best_name = c;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, given.size() / 2);
  if (best_name.empty() || best > limit) return "";
  return " (did you mean '" + best_name + "'?)";
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s;
}

std::string prefixed(const std::string& context, const std::string& message) {
  return context.empty() ? message : context + ": " + message;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for_each_model([&](auto m) { names.emplace_back(decltype(m)::kName); });
  return names;
}

ModelInfo model_info(int model_id) {
  if (model_id < 0 || model_id >= kNumModels)
    throw std::out_of_range("model_info: model id " + std::to_string(model_id) + " is not in [0, " +
                            std::to_string(kNumModels) + ")");
  return info_of_id(model_id);
}

MaterialDesc make_material(const std::string& label, const std::string& model_name,
                           const std::map<std::string, double>& params, double density,
                           const std::string& context) {
  const std::vector<std::string> names = model_names();
  const auto found = std::find(names.begin(), names.end(), model_name);
  if (found == names.end())
    throw InputError(prefixed(context, "unknown material model '" + model_name + "'" +
                                           suggestion(model_name, names) +
                                           "; valid models: " + join(names)));

  MaterialDesc desc;
  desc.label = label;
  desc.model_id = static_cast<int>(found - names.begin());
  desc.model_name = model_name;
  const ModelInfo info = info_of_id(desc.model_id);

  std::vector<std::string> param_names;
  for (int i = 0; i < info.num_params; ++i) {
    param_names.emplace_back(info.params[i].name);
    desc.params[i] = info.params[i].default_value;
  }
  for (const auto& [name, value] : params) {
    const auto it = std::find(param_names.begin(), param_names.end(), name);
    if (it == param_names.end())
      throw InputError(prefixed(context, "unknown parameter '" + name + "' for model '" +
                                             model_name + "'" + suggestion(name, param_names) +
                                             "; its parameters are: " + join(param_names)));
    desc.params[it - param_names.begin()] = value;
  }

  if (!(std::isfinite(density) && density > 0)) {
    std::ostringstream os;
    os << "parameter 'density' must be a finite number > 0 [kg/m^3], got " << density;
    throw InputError(prefixed(context, os.str()));
  }
  desc.density = density;

  std::string message;
  visit_model(desc.model_id, [&](auto m) { message = decltype(m)::validate(desc.params.data()); });
  throw_if_invalid(context, message);
  return desc;
}

namespace {
void require_valid_id(const MaterialDesc& m, const char* what) {
  if (m.model_id < 0 || m.model_id >= kNumModels)
    throw std::out_of_range(std::string(what) + ": material '" + m.label +
                            "' has no valid model id (" + std::to_string(m.model_id) +
                            "); build it with make_material()");
}
}  // namespace

double wave_speed(const MaterialDesc& m) {
  require_valid_id(m, "wave_speed");
  double c = 0;
  visit_model(m.model_id,
              [&](auto model) { c = decltype(model)::wave_speed(m.params.data(), m.density); });
  return c;
}

double initial_plastic_state(const MaterialDesc& m) {
  require_valid_id(m, "initial_plastic_state");
  double v = 0;
  visit_model(m.model_id, [&](auto model) {
    v = decltype(model)::template initial_plastic_state<double>(m.params.data());
  });
  return v;
}

}  // namespace pl::materials
