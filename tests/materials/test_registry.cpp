// The registry: names -> models, parameter packing, defaults and error messages.
#include <gtest/gtest.h>

#include <set>

#include "engine/core/error.hpp"
#include "materials/model_list.hpp"
#include "materials/registry.hpp"

namespace pl::materials {
namespace {

/// The InputError message of make_material(...), or "" if it did not throw.
std::string error_of(const std::string& model, const std::map<std::string, double>& params,
                     double density = 1000) {
  try {
    make_material("jelly", model, params, density, "scene.yaml: materials.jelly");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(Registry, NamesFollowAllModels) {
  const std::vector<std::string> names = model_names();
  ASSERT_EQ(static_cast<int>(names.size()), kNumModels);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(names[model_id<FixedCorotated>()], "fixed_corotated");
  EXPECT_EQ(names[model_id<Snow>()], "snow");
  for (int id = 0; id < kNumModels; ++id) {
    const ModelInfo info = model_info(id);
    EXPECT_EQ(names[id], info.name);
    visit_model(id, [&](auto m) {
      using M = decltype(m);
      EXPECT_EQ(info.num_params, M::kNumParams);
      EXPECT_EQ(info.params, M::kParams);
      EXPECT_EQ(info.has_plasticity, M::kHasPlasticity);
      EXPECT_EQ(info.is_fluid, M::kIsFluid);
      EXPECT_EQ(model_id<M>(), id);
    });
  }
  EXPECT_THROW(model_info(-1), std::out_of_range);
  EXPECT_THROW(model_info(kNumModels), std::out_of_range);
}

TEST(Registry, VisitOutOfRangeIsNoOp) {
  int calls = 0;
  visit_model(-1, [&](auto) { ++calls; });
  visit_model(kNumModels, [&](auto) { ++calls; });
  EXPECT_EQ(calls, 0);
  for_each_model([&](auto) { ++calls; });
  EXPECT_EQ(calls, kNumModels);
}

TEST(Registry, DefaultsFilledAndOverridesPacked) {
  const MaterialDesc m = make_material("jelly", "von_mises", {{"yield_stress", 123.0}}, 1200, "");
  EXPECT_EQ(m.label, "jelly");
  EXPECT_EQ(m.model_name, "von_mises");
  EXPECT_EQ(m.model_id, model_id<VonMises>());
  EXPECT_EQ(m.density, 1200);
  EXPECT_EQ(m.params[VonMises::kE], VonMises::kParams[VonMises::kE].default_value);
  EXPECT_EQ(m.params[VonMises::kNu], VonMises::kParams[VonMises::kNu].default_value);
  EXPECT_EQ(m.params[VonMises::kYieldStress], 123.0);
  for (int i = VonMises::kNumParams; i < kMaxParams; ++i) EXPECT_EQ(m.params[i], 0.0);
}

TEST(Registry, EveryModelBuildsFromDefaults) {
  for (const std::string& name : model_names()) {
    const MaterialDesc m = make_material("x", name, {}, 1000, "ctx");
    EXPECT_GT(wave_speed(m), 0.0) << name;
    EXPECT_TRUE(std::isfinite(wave_speed(m))) << name;
  }
}

TEST(Registry, UnknownModelSuggestsNearest) {
  const std::string e = error_of("fixed_corotatd", {});
  EXPECT_TRUE(contains(e, "scene.yaml: materials.jelly: ")) << e;
  EXPECT_TRUE(contains(e, "'fixed_corotatd'")) << e;
  EXPECT_TRUE(contains(e, "did you mean 'fixed_corotated'")) << e;
  for (const std::string& name : model_names()) EXPECT_TRUE(contains(e, name)) << e;
  const std::string far = error_of("water", {});
  EXPECT_FALSE(contains(far, "did you mean")) << far;
  EXPECT_TRUE(contains(far, "weakly_compressible_fluid")) << far;
}

TEST(Registry, UnknownParameterNamed) {
  const std::string e = error_of("snow", {{"youngs_modulus", 1e5}});
  EXPECT_TRUE(contains(e, "scene.yaml: materials.jelly: ")) << e;
  EXPECT_TRUE(contains(e, "'youngs_modulus'")) << e;
  EXPECT_TRUE(contains(e, "critical_compression")) << e;
  EXPECT_TRUE(contains(e, "hardening")) << e;
  const std::string typo = error_of("drucker_prager", {{"friction_angel", 30}});
  EXPECT_TRUE(contains(typo, "did you mean 'friction_angle'")) << typo;
}

TEST(Registry, InvalidValuesRejected) {
  const std::string nu = error_of("fixed_corotated", {{"nu", 0.5}});
  EXPECT_TRUE(contains(nu, "scene.yaml: materials.jelly: ")) << nu;
  EXPECT_TRUE(contains(nu, "'nu'")) << nu;
  const std::string e_msg = error_of("stable_neo_hookean", {{"E", -3}});
  EXPECT_TRUE(contains(e_msg, "'E'")) << e_msg;
  const std::string y_msg = error_of("von_mises", {{"yield_stress", -1}});
  EXPECT_TRUE(contains(y_msg, "'yield_stress'")) << y_msg;
  const std::string v_msg = error_of("herschel_bulkley", {{"viscosity", std::nan("")}});
  EXPECT_TRUE(contains(v_msg, "'viscosity'")) << v_msg;
  for (double bad : {0.0, -1.0, std::nan("")})
    EXPECT_TRUE(contains(error_of("fixed_corotated", {}, bad), "'density'")) << bad;
  const std::string ok = error_of("fixed_corotated", {{"E", 5e4}, {"nu", 0.45}});
  EXPECT_EQ(ok, "");
}

TEST(Registry, WaveSpeedAndInitialPlasticState) {
  const MaterialDesc fluid =
      make_material("water", "weakly_compressible_fluid", {{"bulk_modulus", 1e5}}, 1000, "");
  EXPECT_NEAR(wave_speed(fluid), std::sqrt(7 * 1e5 / 1000), 1e-12);  // sqrt(gamma B / rho)
  EXPECT_EQ(initial_plastic_state(fluid), 0.0);
  const MaterialDesc snow = make_material("snow", "snow", {}, 400, "");
  EXPECT_EQ(initial_plastic_state(snow), 1.0);
  const MaterialDesc jelly =
      make_material("jelly", "fixed_corotated", {{"E", 1e4}, {"nu", 0.25}}, 1000, "");
  const double mu = 1e4 / 2.5, lambda = 1e4 * 0.25 / (1.25 * 0.5);
  EXPECT_NEAR(wave_speed(jelly), std::sqrt((lambda + 2 * mu) / 1000), 1e-12);
  MaterialDesc bad;
  EXPECT_THROW(wave_speed(bad), std::out_of_range);
}

}  // namespace
}  // namespace pl::materials
