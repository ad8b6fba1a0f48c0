// Factored stress (materials/model_base.hpp): the backward pass factors F once
// per particle and reuses the SVD in the adjoint (kernels/mpm/stress_record.hpp).
// That is only right if the factored pair gives exactly what the plain pair
// gives, so this compares them BITWISE, for every model with kFactoredStress,
// in float and double, 2D and 3D, on F near identity, stretched, repeated
// singular values (F = I, a rotation) and inverted.  The FD checks of the
// plain pair (test_adjoints.cpp) then cover the factored one too.  Models
// without kFactoredStress go through the same entry points
// (kirchhoff_stress_factored / adj_kirchhoff_stress_factored), checked here
// against kirchhoff_stress / adj_kirchhoff_stress.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/mpm/constitutive.hpp"
#include "material_test_util.hpp"

namespace pl::materials {
namespace {

using namespace testing;

template <class T>
bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <class Real, int D>
std::vector<Mat<Real, D>> sample_deformations(std::mt19937& rng) {
  std::vector<Mat<double, D>> Fs = {Mat<double, D>::identity(), random_rotation<D>(rng)};
  for (int k = 0; k < 6; ++k) Fs.push_back(random_f_near_identity<D>(rng));
  for (int k = 0; k < 3; ++k) Fs.push_back(random_inverted_f<D>(rng));
  Vec<double, D> repeated = Vec<double, D>::constant(1.2);
  repeated[0] = 0.7;
  Fs.push_back(f_from_singular_values<D>(rng, repeated));
  std::vector<Mat<Real, D>> out;
  for (const auto& F : Fs) {
    Mat<Real, D> f;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) f(i, j) = Real(F(i, j));
    out.push_back(f);
  }
  return out;
}

template <class M, class Real, int D>
void check_model(std::mt19937& rng, int& factored_models) {
  const auto params = default_params<M>();
  MaterialSlot<Real> slot{};
  slot.model_id = model_id<M>();
  for (int k = 0; k < kMaxParams; ++k) slot.params[k] = Real(params[std::size_t(k)]);
  const Real plastic = M::template initial_plastic_state<Real>(slot.params);
  if constexpr (M::kFactoredStress || M::kPolarFactoredStress) ++factored_models;
  for (const Mat<Real, D>& F : sample_deformations<Real, D>(rng)) {
    Mat<Real, D> grad_v, adj_tau;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) {
        grad_v(i, j) = Real(uniform(rng, -1, 1));
        adj_tau(i, j) = Real(uniform(rng, -1, 1));
      }
    // Forward: tau (and P for the factored models) bit for bit.
    Mat<Real, D> P;
    StressFactors<Real, D> factors;
    const Mat<Real, D> tau = kirchhoff_stress_factored(slot, F, plastic, grad_v, P, factors);
    ASSERT_TRUE(same_bits(tau, kirchhoff_stress(slot, F, plastic, grad_v))) << M::kName << " D=" << D;
    ASSERT_TRUE(same_bits(P, M::template first_piola<Real, D>(slot.params, F, plastic))) << M::kName;
    if constexpr (!M::kHasAdjoint) continue;
    // Adjoint from the kept factors vs the plain adjoint (which factors F itself).
    Mat<Real, D> adj_F_a = Mat<Real, D>::zero(), adj_F_b = Mat<Real, D>::zero();
    Mat<Real, D> adj_G_a = Mat<Real, D>::zero(), adj_G_b = Mat<Real, D>::zero();
    Real adj_pl_a = 0, adj_pl_b = 0;
    Real adj_p_a[kMaxParams] = {}, adj_p_b[kMaxParams] = {};
    adj_kirchhoff_stress_factored(slot, F, plastic, grad_v, P, factors, adj_tau, adj_F_a, adj_pl_a, adj_G_a, adj_p_a);
    Real adj_pl_c = 0;
    Real adj_p_c[kMaxParams] = {};
    Mat<Real, D> adj_F_c = transpose(adj_tau) * M::template first_piola<Real, D>(slot.params, F, plastic);
    M::template adj_first_piola<Real, D>(slot.params, F, plastic, adj_tau * F, adj_F_c, adj_p_c, adj_pl_c);
    Mat<Real, D> adj_G_c = Mat<Real, D>::zero();
    M::template adj_viscous_kirchhoff<Real, D>(slot.params, F, grad_v, adj_tau, adj_F_c, adj_G_c, adj_p_c);
    adj_kirchhoff_stress(slot, F, plastic, grad_v, adj_tau, adj_F_b, adj_pl_b, adj_G_b, adj_p_b);
    EXPECT_TRUE(same_bits(adj_F_a, adj_F_c)) << M::kName << " D=" << D << ": factored adjoint differs from the plain one";
    EXPECT_TRUE(same_bits(adj_F_b, adj_F_c)) << M::kName;
    EXPECT_TRUE(same_bits(adj_G_a, adj_G_c)) << M::kName;
    EXPECT_TRUE(same_bits(adj_pl_a, adj_pl_c)) << M::kName;
    for (int k = 0; k < kMaxParams; ++k) EXPECT_TRUE(same_bits(adj_p_a[k], adj_p_c[k])) << M::kName << " param " << k;
  }
}

template <class Real, int D>
void check_all() {
  std::mt19937 rng(7 + D);
  int factored = 0;
  for_each_model([&](auto m) { check_model<decltype(m), Real, D>(rng, factored); });
  // The SVD-based models (fixed corotated, snow, the Hencky family) use it.
  EXPECT_GE(factored, 5);
}

TEST(FactoredStress, BitIdenticalToThePlainStressAndAdjointFloat2D) { check_all<float, 2>(); }
TEST(FactoredStress, BitIdenticalToThePlainStressAndAdjointFloat3D) { check_all<float, 3>(); }
TEST(FactoredStress, BitIdenticalToThePlainStressAndAdjointDouble2D) { check_all<double, 2>(); }
TEST(FactoredStress, BitIdenticalToThePlainStressAndAdjointDouble3D) { check_all<double, 3>(); }

}  // namespace
}  // namespace pl::materials
