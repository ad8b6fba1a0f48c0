// Properties every constitutive model must have, checked for ALL models in
// AllModels (a model added there is tested here automatically), in double,
// D = 2 and 3: zero stress at rest, frame indifference, P = dPsi/dF (finite
// differences), project() sanity, viscous stress symmetry, validate(), and a
// float-vs-double instantiation check.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "material_test_util.hpp"

namespace pl::materials {
namespace {

using namespace testing;

template <class List>
struct ToGTest;
template <class... Ms>
struct ToGTest<ModelList<Ms...>> {
  using type = ::testing::Types<Ms...>;
};

template <class M>
class ModelTest : public ::testing::Test {};

struct ModelNames {
  template <class M>
  static std::string GetName(int) {
    return M::kName;
  }
};
TYPED_TEST_SUITE(ModelTest, typename ToGTest<AllModels>::type, ModelNames);

/// A plastic state to evaluate energies at: the initial one, and for models whose
/// state matters (snow: J_P) a perturbed one too.
template <class M>
double some_plastic_state(const double* p, std::mt19937& rng) {
  const double p0 = M::template initial_plastic_state<double>(p);
  return p0 == 0 ? 0.0 : p0 * uniform(rng, 0.85, 1.15);
}

template <class M, int D>
void check_rest(const double* p) {
  const Matd<D> I = Matd<D>::identity();
  const double plastic = M::template initial_plastic_state<double>(p);
  const double scale = modulus<M>(p);
  const Matd<D> P = M::template first_piola<double, D>(p, I, plastic);
  EXPECT_LE(frobenius_norm(P), 1e-12 * scale) << M::kName << " D=" << D << ": P(I) != 0";
  const double psi = M::template energy_density<double, D>(p, I, plastic);
  EXPECT_NEAR(psi, 0.0, 1e-12 * scale) << M::kName << " D=" << D << ": Psi(I) != 0";
}

TYPED_TEST(ModelTest, ZeroStressAtRest) {
  using M = TypeParam;
  const auto p = default_params<M>();
  check_rest<M, 2>(p.data());
  check_rest<M, 3>(p.data());
}

template <class M, int D>
void check_rotation_invariance(const double* p, std::mt19937& rng) {
  const double scale = modulus<M>(p);
  for (int trial = 0; trial < 20; ++trial) {
    const Matd<D> F = random_f_near_identity<D>(rng);
    const Matd<D> R = random_rotation<D>(rng);
    const double plastic = some_plastic_state<M>(p, rng);
    const double psi = M::template energy_density<double, D>(p, F, plastic);
    const double psi_r = M::template energy_density<double, D>(p, R * F, plastic);
    EXPECT_NEAR(psi_r, psi, 1e-10 * (std::fabs(psi) + 1e-3 * scale))
        << M::kName << " D=" << D << " trial " << trial;
    const Matd<D> P = M::template first_piola<double, D>(p, F, plastic);
    const Matd<D> P_r = M::template first_piola<double, D>(p, R * F, plastic);
    EXPECT_LE(max_abs_diff(P_r, R * P), 1e-9 * (frobenius_norm(P) + 1e-3 * scale))
        << M::kName << " D=" << D << " trial " << trial;
  }
}

TYPED_TEST(ModelTest, RotationInvariance) {
  using M = TypeParam;
  const auto p = default_params<M>();
  std::mt19937 rng(7);
  check_rotation_invariance<M, 2>(p.data(), rng);
  check_rotation_invariance<M, 3>(p.data(), rng);
}

template <class M, int D>
void check_fd(const double* p, const Matd<D>& F, double plastic, const char* what, int trial) {
  const Matd<D> P = M::template first_piola<double, D>(p, F, plastic);
  const Matd<D> G = fd_first_piola<M, D>(p, F, plastic);
  const double denom = std::fmax(frobenius_norm(P), 1e-3 * modulus<M>(p));
  EXPECT_LE(frobenius_norm(P - G) / denom, 1e-6)
      << M::kName << " D=" << D << " " << what << " trial " << trial;
}

template <class M, int D>
void check_first_piola_is_gradient(const double* p, std::mt19937& rng) {
  for (int trial = 0; trial < 20; ++trial)
    check_fd<M, D>(p, random_f_near_identity<D>(rng), some_plastic_state<M>(p, rng), "det>0",
                   trial);
  // Larger deformations (stretch up to 2x, compression to 0.5x).
  for (int trial = 0; trial < 10; ++trial) {
    Vec<double, D> s;
    for (int i = 0; i < D; ++i) s[i] = uniform(rng, 0.5, 2.0);
    check_fd<M, D>(p, f_from_singular_values<D>(rng, s), some_plastic_state<M>(p, rng), "large",
                   trial);
  }
  if constexpr (M::kHandlesInversion)
    for (int trial = 0; trial < 10; ++trial)
      check_fd<M, D>(p, random_inverted_f<D>(rng), some_plastic_state<M>(p, rng), "det<0", trial);
}

TYPED_TEST(ModelTest, FirstPiolaIsEnergyGradient) {
  using M = TypeParam;
  const auto p = default_params<M>();
  std::mt19937 rng(11);
  check_first_piola_is_gradient<M, 2>(p.data(), rng);
  check_first_piola_is_gradient<M, 3>(p.data(), rng);
}

template <class M, int D>
void check_project_sanity(const double* p, std::mt19937& rng) {
  const double dt = 1e-3;
  // At rest nothing happens.
  {
    Matd<D> F = Matd<D>::identity();
    double plastic = M::template initial_plastic_state<double>(p);
    const double plastic0 = plastic;
    M::template project<double, D>(p, F, plastic, dt);
    EXPECT_LE(max_abs_diff(F, Matd<D>::identity()), 1e-14) << M::kName << " D=" << D;
    EXPECT_EQ(plastic, plastic0) << M::kName << " D=" << D;
  }
  for (int trial = 0; trial < 20; ++trial) {
    const Matd<D> F0 = random_f_near_identity<D>(rng, 0.4);
    Matd<D> F = F0;
    double plastic = M::template initial_plastic_state<double>(p);
    const double plastic0 = plastic;
    M::template project<double, D>(p, F, plastic, dt);
    if constexpr (!M::kHasPlasticity) {
      EXPECT_EQ(max_abs_diff(F, F0), 0.0) << M::kName << ": elastic model changed F";
      EXPECT_EQ(plastic, plastic0) << M::kName << ": elastic model changed its state";
    }
    EXPECT_TRUE(all_finite(F)) << M::kName << " D=" << D;
    EXPECT_TRUE(std::isfinite(plastic)) << M::kName << " D=" << D;
    EXPECT_GT(determinant(F), 0.0) << M::kName << " D=" << D;
    EXPECT_TRUE(all_finite(M::template first_piola<double, D>(p, F, plastic)));
  }
}

TYPED_TEST(ModelTest, ProjectSanity) {
  using M = TypeParam;
  const auto p = default_params<M>();
  std::mt19937 rng(13);
  check_project_sanity<M, 2>(p.data(), rng);
  check_project_sanity<M, 3>(p.data(), rng);
}

template <class M, int D>
void check_viscous(const double* p, std::mt19937& rng) {
  for (int trial = 0; trial < 10; ++trial) {
    const Matd<D> F = random_f_near_identity<D>(rng);
    const Matd<D> zero = M::template viscous_kirchhoff<double, D>(p, F, Matd<D>::zero());
    EXPECT_EQ(frobenius_norm(zero), 0.0) << M::kName << ": viscous stress at rest";
    Matd<D> grad_v;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) grad_v(i, j) = uniform(rng, -10, 10);
    const Matd<D> tau = M::template viscous_kirchhoff<double, D>(p, F, grad_v);
    EXPECT_LE(max_abs_diff(tau, transpose(tau)), 1e-14 * (frobenius_norm(tau) + 1))
        << M::kName << ": viscous Kirchhoff stress not symmetric";
    if constexpr (!M::kIsFluid) {
      EXPECT_EQ(frobenius_norm(tau), 0.0) << M::kName;
    }
  }
}

TYPED_TEST(ModelTest, ViscousKirchhoff) {
  using M = TypeParam;
  const auto p = default_params<M>();
  std::mt19937 rng(17);
  check_viscous<M, 2>(p.data(), rng);
  check_viscous<M, 3>(p.data(), rng);
}

TYPED_TEST(ModelTest, ParameterTable) {
  using M = TypeParam;
  static_assert(M::kNumParams >= 1 && M::kNumParams <= kMaxParams);
  for (int i = 0; i < M::kNumParams; ++i) {
    const ParamSpec& s = M::kParams[i];
    ASSERT_NE(s.name, nullptr);
    EXPECT_GT(std::strlen(s.name), 0u);
    EXPECT_GT(std::strlen(s.unit), 0u) << s.name;
    EXPECT_GT(std::strlen(s.meaning), 0u) << s.name;
    for (int j = 0; j < i; ++j) EXPECT_STRNE(s.name, M::kParams[j].name) << "duplicate name";
  }
  const auto p = default_params<M>();
  EXPECT_EQ(M::validate(p.data()), "") << M::kName << ": defaults must be valid";
  EXPECT_GT(M::wave_speed(p.data(), 1000.0), 0.0);
  EXPECT_TRUE(std::isfinite(M::wave_speed(p.data(), 1000.0)));
}

/// validate() must reject `value` for parameter `name` (if M has it) and name it.
template <class M>
void expect_rejected(const char* name, double value) {
  for (int i = 0; i < M::kNumParams; ++i) {
    if (std::string(M::kParams[i].name) != name) continue;
    auto p = default_params<M>();
    p[i] = value;
    const std::string message = M::validate(p.data());
    EXPECT_NE(message, "") << M::kName << ": " << name << " = " << value << " accepted";
    EXPECT_NE(message.find(std::string("'") + name + "'"), std::string::npos)
        << M::kName << ": message does not name '" << name << "': " << message;
  }
}

TYPED_TEST(ModelTest, ValidateRejectsBadValues) {
  using M = TypeParam;
  for (int i = 0; i < M::kNumParams; ++i) {
    expect_rejected<M>(M::kParams[i].name, std::nan(""));
    expect_rejected<M>(M::kParams[i].name, HUGE_VAL);
  }
  expect_rejected<M>("E", 0.0);
  expect_rejected<M>("E", -1.0);
  expect_rejected<M>("nu", 0.5);
  expect_rejected<M>("nu", -1.0);
  expect_rejected<M>("nu", 0.7);
  expect_rejected<M>("yield_stress", -1.0);
  expect_rejected<M>("bulk_modulus", 0.0);
  expect_rejected<M>("viscosity", -1.0);
  expect_rejected<M>("friction_angle", -1.0);
  expect_rejected<M>("friction_angle", 90.0);
  expect_rejected<M>("cohesion", -1.0);
  expect_rejected<M>("gamma", 0.0);
  expect_rejected<M>("flow_index", 0.0);
  expect_rejected<M>("critical_compression", 1.0);
  expect_rejected<M>("critical_stretch", -0.1);
  expect_rejected<M>("hardening", -1.0);
}

/// Float instantiation agrees with double (catches Real-specific constants).
template <class M, int D>
void check_float(const double* p, std::mt19937& rng) {
  float pf[kMaxParams];
  for (int i = 0; i < kMaxParams; ++i) pf[i] = static_cast<float>(p[i]);
  const double scale = modulus<M>(p);
  for (int trial = 0; trial < 10; ++trial) {
    const Matd<D> F = random_f_near_identity<D>(rng);
    const double plastic = some_plastic_state<M>(p, rng);
    const Matd<D> P = M::template first_piola<double, D>(p, F, plastic);
    const Mat<float, D> Pf = M::template first_piola<float, D>(pf, F.template cast<float>(),
                                                               static_cast<float>(plastic));
    EXPECT_LE(max_abs_diff(Pf.template cast<double>(), P),
              1e-4 * (frobenius_norm(P) + 1e-3 * scale))
        << M::kName << " D=" << D;
    Matd<D> Fd = F * 1.3;  // some plastic models need to leave the elastic region
    Mat<float, D> Ff = Fd.template cast<float>();
    double sd = plastic;
    float sf = static_cast<float>(plastic);
    M::template project<double, D>(p, Fd, sd, 1e-3);
    M::template project<float, D>(pf, Ff, sf, 1e-3f);
    EXPECT_LE(max_abs_diff(Ff.template cast<double>(), Fd), 1e-4) << M::kName << " D=" << D;
    EXPECT_NEAR(sf, sd, 1e-4 * (std::fabs(sd) + 1)) << M::kName << " D=" << D;
  }
}

TYPED_TEST(ModelTest, FloatMatchesDouble) {
  using M = TypeParam;
  const auto p = default_params<M>();
  std::mt19937 rng(19);
  check_float<M, 2>(p.data(), rng);
  check_float<M, 3>(p.data(), rng);
}

}  // namespace
}  // namespace pl::materials
