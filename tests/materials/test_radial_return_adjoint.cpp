// The radial returns (von Mises; Drucker-Prager's cone return) near the apex,
// where the deviatoric strain is as small as the SVD adjoint's band of
// near-equal singular values (eps^(1/3) = 6e-6 in double).  There the band's
// Jacobian-limit divided difference was off by O(1) (it assumes g varies on
// scales much larger than the band; a radial return varies on the scale of
// ||dev eps||), which made gradcheck of sand_pile_3d fail by 1e-4..1e-3.
// adj_hencky_compose_radial uses exact, well-conditioned divided differences
// (materials/stvk_hencky.hpp).  Checked against central finite differences in
// double with a step far below ||dev eps|| (h = 1e-11; truncation ~h/||dev||,
// round-off ~1e-16/h, both ~1e-5 relative), 2D and 3D.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "material_test_util.hpp"
#include "materials/drucker_prager.hpp"
#include "materials/von_mises.hpp"

namespace pl::materials {
namespace {

using namespace testing;

/// F = R1 diag(exp(eps)) R2 with principal strains eps = mean + dev.
template <int D>
Matd<D> f_from_strain(std::mt19937& rng, const Vec<double, D>& eps) {
  Vec<double, D> s;
  for (int i = 0; i < D; ++i) s[i] = std::exp(eps[i]);
  return f_from_singular_values<D>(rng, s);
}

template <class M, int D>
void check(const std::array<double, kMaxParams>& p, const Vec<double, D>& eps, const char* what) {
  std::mt19937 rng(3 + D);
  const Matd<D> F = f_from_strain<D>(rng, eps);
  Matd<D> a;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) a(i, j) = uniform(rng, -1, 1);
  auto loss = [&](const Matd<D>& f) {
    Matd<D> out = f;
    double plastic = 0;
    M::template project<double, D>(p.data(), out, plastic, 1e-3);
    return ddot(a, out);
  };
  // The point must be on the return branch (F changed by project).
  Matd<D> projected = F;
  double plastic = 0;
  M::template project<double, D>(p.data(), projected, plastic, 1e-3);
  ASSERT_GT(ddot(projected - F, projected - F), 1e-24) << what;

  Matd<D> adj = Matd<D>::zero();
  double adj_plastic = 0;
  double adj_p[kMaxParams] = {};
  M::template adj_project<double, D>(p.data(), F, 0.0, 1e-3, a, 0.0, adj, adj_plastic, adj_p);
  const double h = 1e-11;
  double worst = 0, scale = 0;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) scale = std::max(scale, std::abs(adj(i, j)));
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      Matd<D> fp = F, fm = F;
      fp(i, j) += h;
      fm(i, j) -= h;
      const double fd = (loss(fp) - loss(fm)) / (2 * h);
      worst = std::max(worst, std::abs(fd - adj(i, j)) / scale);
    }
  EXPECT_LE(worst, 1e-4) << M::kName << " " << what << " D=" << D;
}

template <int D>
Vec<double, D> apex_strain(double tr) {
  // dev = (2e-6, 0, -2e-6) (3D) / (2e-6, -2e-6) (2D): singular values 2e-6 apart
  // (inside the band), ||dev|| ~ 3e-6.
  Vec<double, D> eps;
  for (int i = 0; i < D; ++i) eps[i] = tr / D;
  eps[0] += 2e-6;
  eps[D - 1] -= 2e-6;
  return eps;
}

TEST(RadialReturnAdjoint, DruckerPragerConeReturnNearTheApexMatchesFiniteDifferences) {
  auto p = default_params<DruckerPrager>();
  check<DruckerPrager, 2>(p, apex_strain<2>(-2e-6), "cone return, tr = -2e-6");
  check<DruckerPrager, 3>(p, apex_strain<3>(-2e-6), "cone return, tr = -2e-6");
}

TEST(RadialReturnAdjoint, VonMisesReturnWithATinyRadiusMatchesFiniteDifferences) {
  auto p = default_params<VonMises>();
  p[VonMises::kYieldStress] = 1e-3;  // radius ~1e-7: returns from ||dev|| ~ 3e-6
  check<VonMises, 2>(p, apex_strain<2>(1e-6), "return, radius 1e-7");
  check<VonMises, 3>(p, apex_strain<3>(1e-6), "return, radius 1e-7");
}

}  // namespace
}  // namespace pl::materials
