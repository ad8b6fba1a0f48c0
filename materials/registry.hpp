// Registry: the ONLY place where a model name from a scene file (or a Python
// call) becomes a model type.  Host only.
//
// It is generated from AllModels (model_list.hpp): adding a model there is all it
// takes for make_material / model_names / model_info to know it.
//
// Errors (InputError, every message prefixed by `context`, e.g.
// "scene.yaml: materials.jelly"):
//   unknown model      -> lists the valid names, and suggests the nearest one
//   unknown parameter  -> names it, suggests the nearest, lists the model's parameters
//   invalid value      -> the model's validate() message (names the parameter and range)
//   density <= 0       -> names 'density'
// A parameter that is not given takes its default (ParamSpec::default_value).
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "materials/model_base.hpp"

namespace pl::materials {

struct MaterialDesc {
  std::string label;                        // user's name for this material, e.g. "jelly"
  int model_id = -1;                        // index in AllModels
  std::string model_name;                   // registry name, e.g. "fixed_corotated"
  double density = 1000;                    // kg/m^3
  std::array<double, kMaxParams> params{};  // packed in the model's enum order, defaults filled
};

MaterialDesc make_material(const std::string& label, const std::string& model_name,
                           const std::map<std::string, double>& params, double density,
                           const std::string& context);

/// Registry names in AllModels order (index = model id).
std::vector<std::string> model_names();

struct ModelInfo {
  const char* name;
  int num_params;
  const ParamSpec* params;
  bool has_plasticity;
  bool is_fluid;
};
/// Static description of a model; throws std::out_of_range for an invalid id.
ModelInfo model_info(int model_id);

/// Fastest elastic wave speed [m/s] at rest (for the dt stability guard).
double wave_speed(const MaterialDesc& m);
/// Initial value of the per-particle `plastic` scalar.
double initial_plastic_state(const MaterialDesc& m);

}  // namespace pl::materials
