// Tests for kernels/math/svd_adjoint.hpp: every VJP against central finite
// differences in double, D = 2 and 3, at generic, near-degenerate and exactly
// degenerate singular values, plus the regularized values at the poles.
//
// Finite differences: central, step h = 1e-6 on each entry of F (entries are
// O(1)) unless a case says otherwise; the error measure is the Frobenius norm
// of (adjoint - FD) over the Frobenius norm of FD, required <= 1e-6.
#include "kernels/math/svd_adjoint.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using pl::Mat;
using pl::Svd;
using pl::Vec;

template <int D>
using Matd = Mat<double, D>;
template <int D>
using Vecd = Vec<double, D>;

constexpr double kFdStep = 1e-6;
constexpr double kRelTol = 1e-6;
constexpr double kTau = pl::svd_adjoint_rel_tol<double>();

double uniform(std::mt19937& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

template <int D>
Matd<D> random_matrix(std::mt19937& rng, double amplitude = 1.0) {
  Matd<D> m;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) m(i, j) = uniform(rng, -amplitude, amplitude);
  return m;
}

template <int D>
Matd<D> random_rotation(std::mt19937& rng) {
  if constexpr (D == 2) {
    const double a = uniform(rng, -M_PI, M_PI);
    return {{{std::cos(a), -std::sin(a)}, {std::sin(a), std::cos(a)}}};
  } else {
    std::normal_distribution<double> n(0.0, 1.0);
    double q[4], len = 0;
    for (double& x : q) {
      x = n(rng);
      len += x * x;
    }
    len = std::sqrt(len);
    const double w = q[0] / len, x = q[1] / len, y = q[2] / len, z = q[3] / len;
    return {{{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
             {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
             {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}}};
  }
}

/// R1 diag(s) R2 for random rotations.
template <int D>
Matd<D> with_singular_values(std::mt19937& rng, const Vecd<D>& s) {
  return random_rotation<D>(rng) * Matd<D>::diagonal(s) * random_rotation<D>(rng);
}

/// The first D entries of l (so one list serves 2D and 3D).
template <int D>
Vecd<D> vec_of(std::initializer_list<double> l) {
  Vecd<D> v;
  int i = 0;
  for (double x : l)
    if (i < D) v[i++] = x;
  return v;
}

/// Central FD gradient of a scalar function of F.
template <int D>
Matd<D> fd_gradient(const std::function<double(const Matd<D>&)>& f, const Matd<D>& F, double h = kFdStep) {
  Matd<D> g;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      Matd<D> Fp = F, Fm = F;
      Fp(i, j) += h;
      Fm(i, j) -= h;
      g(i, j) = (f(Fp) - f(Fm)) / (2 * h);
    }
  return g;
}

/// Worst FD error seen by the current test (printed by the fixture).
double g_worst_fd_error = 0;

/// ||adj - ref|| / ||ref||, absolute below ||ref|| = 1e-4 (a vanishing gradient,
/// e.g. of F F^T F at F = 0, where FD returns O(h^2) noise).
template <int D>
double rel_error(const Matd<D>& adj, const Matd<D>& ref) {
  return frobenius_norm(adj - ref) / std::fmax(frobenius_norm(ref), 1e-4);
}

template <int D>
double fd_error(const Matd<D>& adj, const Matd<D>& fd) {
  const double e = rel_error(adj, fd);
  g_worst_fd_error = std::fmax(g_worst_fd_error, e);
  return e;
}

class SvdAdjoint : public ::testing::Test {
 protected:
  void SetUp() override { g_worst_fd_error = 0; }
  void TearDown() override {
    if (g_worst_fd_error > 0) std::printf("[ info ] worst relative error vs FD: %.2e\n", g_worst_fd_error);
  }
};

// ---- isotropic functions g(sigma) used as test cases ----------------------

/// g and dg of one test function, and G(F) computed independently of the adjoint.
template <int D>
struct SingularValueFunction {
  const char* name;
  std::function<void(const Vecd<D>& sigma, Vecd<D>& g, Matd<D>& dg)> eval;
  std::function<Matd<D>(const Matd<D>& F)> forward;
};

/// G = U diag(g) V^T evaluated through the SVD (the composite the engine uses).
template <int D>
Matd<D> compose_through_svd(const SingularValueFunction<D>& fn, const Matd<D>& F) {
  const Svd<double, D> s = pl::svd_rotation_variant(F);
  Vecd<D> g;
  Matd<D> dg;
  fn.eval(s.sigma, g, dg);
  return s.U * Matd<D>::diagonal(g) * transpose(s.V);
}

/// Polar rotation: g = 1, dg = 0.
template <int D>
SingularValueFunction<D> polar_fn() {
  return {"polar", [](const Vecd<D>&, Vecd<D>& g, Matd<D>& dg) {
            g = Vecd<D>::constant(1.0);
            dg = Matd<D>::zero();
          },
          [](const Matd<D>& F) { return pl::polar_rotation(F); }};
}

/// g_i = s_i^3 + c s_i |s|^2, i.e. G = F F^T F + c tr(F^T F) F: a polynomial in F,
/// smooth everywhere (odd under pair negation, so also at s_i + s_j = 0), with
/// a coupled Jacobian.  Its forward is computed without any SVD.
template <int D>
SingularValueFunction<D> cubic_fn() {
  constexpr double c = 0.7;
  return {"cubic",
          [](const Vecd<D>& s, Vecd<D>& g, Matd<D>& dg) {
            const double n2 = squared_norm(s);
            for (int i = 0; i < D; ++i) {
              g[i] = s[i] * s[i] * s[i] + c * s[i] * n2;
              for (int j = 0; j < D; ++j) dg(i, j) = 2 * c * s[i] * s[j];
              dg(i, i) += 3 * s[i] * s[i] + c * n2;
            }
          },
          [](const Matd<D>& F) { return F * transpose(F) * F + (c * ddot(F, F)) * F; }};
}

/// Principal Hencky strain g_i = log s_i (det F > 0 only).
template <int D>
SingularValueFunction<D> hencky_fn() {
  SingularValueFunction<D> fn{"hencky_strain",
                              [](const Vecd<D>& s, Vecd<D>& g, Matd<D>& dg) {
                                dg = Matd<D>::zero();
                                for (int i = 0; i < D; ++i) {
                                  g[i] = std::log(s[i]);
                                  dg(i, i) = 1 / s[i];
                                }
                              },
                              {}};
  fn.forward = [fn](const Matd<D>& F) { return compose_through_svd(fn, F); };
  return fn;
}

/// StVK-Hencky first Piola in principal form, g_i = (2 mu log s_i + lambda sum log s)/s_i:
/// a coupled, non-polynomial g (det F > 0 only).
template <int D>
SingularValueFunction<D> hencky_stress_fn() {
  constexpr double mu = 1.3, lambda = 2.1;
  SingularValueFunction<D> fn{"hencky_stress",
                              [](const Vecd<D>& s, Vecd<D>& g, Matd<D>& dg) {
                                double tr = 0;
                                for (int i = 0; i < D; ++i) tr += std::log(s[i]);
                                for (int i = 0; i < D; ++i) {
                                  const double tau = 2 * mu * std::log(s[i]) + lambda * tr;
                                  g[i] = tau / s[i];
                                  for (int j = 0; j < D; ++j) dg(i, j) = lambda / (s[i] * s[j]);
                                  dg(i, i) += 2 * mu / (s[i] * s[i]) - tau / (s[i] * s[i]);
                                }
                              },
                              {}};
  fn.forward = [fn](const Matd<D>& F) { return compose_through_svd(fn, F); };
  return fn;
}

template <int D>
Matd<D> adj_of_function(const SingularValueFunction<D>& fn, const Matd<D>& F, const Matd<D>& adj_G) {
  const Svd<double, D> s = pl::svd_rotation_variant(F);
  Vecd<D> g;
  Matd<D> dg;
  fn.eval(s.sigma, g, dg);
  Matd<D> adj_F = Matd<D>::zero();
  pl::adj_singular_value_function(s, g, dg, adj_G, adj_F);
  return adj_F;
}

template <int D>
void expect_function_matches_fd(const SingularValueFunction<D>& fn, const Matd<D>& F, const char* what,
                                double h = kFdStep, double tol = kRelTol) {
  std::mt19937 rng(7);
  const Matd<D> adj_G = random_matrix<D>(rng);
  const Matd<D> adj = adj_of_function(fn, F, adj_G);
  const Matd<D> fd = fd_gradient<D>([&](const Matd<D>& X) { return ddot(fn.forward(X), adj_G); }, F, h);
  EXPECT_LE(fd_error(adj, fd), tol) << fn.name << " D=" << D << " " << what;
}

// ---- adj_singular_value_function -----------------------------------------

template <int D>
void check_functions_random(bool inverted) {
  std::mt19937 rng(D * 10 + inverted);
  std::vector<SingularValueFunction<D>> fns = {polar_fn<D>(), cubic_fn<D>()};
  if (!inverted) {
    fns.push_back(hencky_fn<D>());
    fns.push_back(hencky_stress_fn<D>());
  }
  for (int trial = 0; trial < 50; ++trial) {
    Vecd<D> s;
    for (int i = 0; i < D; ++i) s[i] = uniform(rng, 0.3, 2.0);
    // Keep the poles out of the FD stencil (step 1e-6): gaps >= 1e-2.
    bool ok = true;
    for (int i = 0; i < D; ++i)
      for (int j = i + 1; j < D; ++j) ok &= std::fabs(s[i] - s[j]) > 1e-2;
    if (!ok) continue;
    if (inverted) s[D - 1] = -s[D - 1];
    const Matd<D> F = with_singular_values<D>(rng, s);
    for (const auto& fn : fns) expect_function_matches_fd(fn, F, inverted ? "random inverted" : "random");
  }
}

TEST_F(SvdAdjoint, SingularValueFunctionRandom) {
  check_functions_random<2>(false);
  check_functions_random<3>(false);
  check_functions_random<2>(true);
  check_functions_random<3>(true);
}

// Near-repeated singular values, gaps inside the band (1e-9, 1e-7 < tau = 6e-6),
// just outside it (1e-5) and well outside (1e-3): the divided differences must
// stay accurate on both sides of the switch.  The composite is smooth there, so
// FD through the SVD is valid even though the stencil straddles the near-repeat.
template <int D>
void check_functions_near_repeated() {
  std::mt19937 rng(100 + D);
  const std::vector<SingularValueFunction<D>> fns = {polar_fn<D>(), cubic_fn<D>(), hencky_fn<D>(),
                                                     hencky_stress_fn<D>()};
  for (double gap : {1e-9, 1e-7, 1e-5, 1e-3}) {
    Vecd<D> s;
    for (int i = 0; i < D; ++i) s[i] = 1.2 - 0.3 * i;
    s[1] = s[0] - gap;  // s0, s1 near-repeated
    const Matd<D> F = with_singular_values<D>(rng, s);
    for (const auto& fn : fns) expect_function_matches_fd(fn, F, ("gap " + std::to_string(gap)).c_str());
    if constexpr (D == 3) {  // all three near-repeated
      const Matd<D> F3 = with_singular_values<D>(rng, vec_of<D>({1.0 + gap, 1.0, 1.0 - gap}));
      for (const auto& fn : fns) expect_function_matches_fd(fn, F3, ("triple gap " + std::to_string(gap)).c_str());
    }
  }
}

TEST_F(SvdAdjoint, SingularValueFunctionNearRepeated) {
  check_functions_near_repeated<2>();
  check_functions_near_repeated<3>();
}

// Exactly repeated singular values: F = I, pure rotations, uniform scaling, and
// a 3D F with a repeated pair.  The SVD is not unique there but G is, and its
// derivative is the limit form: compare with FD of the smooth composite.
template <int D>
void check_functions_exactly_repeated() {
  std::mt19937 rng(200 + D);
  const std::vector<SingularValueFunction<D>> fns = {polar_fn<D>(), cubic_fn<D>(), hencky_fn<D>(),
                                                     hencky_stress_fn<D>()};
  const Matd<D> R = random_rotation<D>(rng);
  const Matd<D> cases[] = {Matd<D>::identity(), R, 1.3 * R, 0.5 * Matd<D>::identity(),
                           Matd<D>::diagonal(vec_of<D>({1.4, 1.4, 0.6}))};
  const char* names[] = {"identity", "rotation", "scaled rotation", "uniform scaling", "repeated pair"};
  for (int c = 0; c < 5; ++c)
    for (const auto& fn : fns) expect_function_matches_fd(fn, cases[c], names[c]);
}

TEST_F(SvdAdjoint, SingularValueFunctionExactlyRepeated) {
  check_functions_exactly_repeated<2>();
  check_functions_exactly_repeated<3>();
}

// s_i + s_j = 0 (inverted F whose negative singular value matches another) and
// zero singular values, for the smooth cubic G: the q_plus limit is exact there.
template <int D>
void check_cubic_at_plus_pole_and_zeros() {
  std::mt19937 rng(300 + D);
  const auto fn = cubic_fn<D>();
  const Vecd<D> cases[] = {
      D == 2 ? vec_of<D>({1.0, -1.0}) : vec_of<D>({1.3, 0.7, -0.7}),
      D == 2 ? vec_of<D>({1.0, -(1.0 - 1e-7)}) : vec_of<D>({1.3, 0.7, -(0.7 - 1e-7)}),
      D == 2 ? vec_of<D>({0.8, 0.0}) : vec_of<D>({1.1, 0.8, 0.0}),
      D == 2 ? vec_of<D>({0.0, 0.0}) : vec_of<D>({0.9, 0.0, 0.0}),
      D == 2 ? vec_of<D>({1.0, 1.0}) : vec_of<D>({1.0, 1.0, -1.0}),
  };
  for (const auto& s : cases) {
    expect_function_matches_fd(fn, Matd<D>::diagonal(s), "diagonal pole case");
    expect_function_matches_fd(fn, with_singular_values<D>(rng, s), "rotated pole case");
  }
}

TEST_F(SvdAdjoint, SingularValueFunctionSmoothAtPlusPoleAndZeros) {
  check_cubic_at_plus_pole_and_zeros<2>();
  check_cubic_at_plus_pole_and_zeros<3>();
}

// g = sigma, dg = I reproduces adj_F = adj_G exactly, poles included.
template <int D>
void check_identity_function() {
  std::mt19937 rng(400 + D);
  const Vecd<D> cases[] = {vec_of<D>({1.2, 0.9, 0.4}), vec_of<D>({1.0, 1.0, 1.0}),
                           D == 2 ? vec_of<D>({1.0, -1.0}) : vec_of<D>({1.0, 0.5, -0.5}),
                           vec_of<D>({0.0, 0.0, 0.0})};
  for (const auto& sv : cases) {
    const Matd<D> F = with_singular_values<D>(rng, sv);
    const Svd<double, D> s = pl::svd_rotation_variant(F);
    const Matd<D> adj_G = random_matrix<D>(rng);
    Matd<D> adj_F = Matd<D>::zero();
    pl::adj_singular_value_function(s, s.sigma, Matd<D>::identity(), adj_G, adj_F);
    EXPECT_LE(frobenius_norm(adj_F - adj_G), 1e-12 * frobenius_norm(adj_G)) << "D=" << D;
  }
}

TEST_F(SvdAdjoint, IdentityFunctionIsExact) {
  check_identity_function<2>();
  check_identity_function<3>();
}

// ---- adj_polar_rotation ----------------------------------------------------

template <int D>
Matd<D> adj_polar(const Matd<D>& F, const Matd<D>& adj_R) {
  Matd<D> adj_F = Matd<D>::zero();
  pl::adj_polar_rotation(F, adj_R, adj_F);
  return adj_F;
}

template <int D>
void expect_polar_matches_fd(const Matd<D>& F, const char* what, double h = kFdStep) {
  std::mt19937 rng(11);
  const Matd<D> adj_R = random_matrix<D>(rng);
  const Matd<D> fd =
      fd_gradient<D>([&](const Matd<D>& X) { return ddot(pl::polar_rotation(X), adj_R); }, F, h);
  EXPECT_LE(fd_error(adj_polar(F, adj_R), fd), kRelTol) << "polar D=" << D << " " << what;
}

template <int D>
void check_polar() {
  std::mt19937 rng(500 + D);
  for (int trial = 0; trial < 50; ++trial) {
    const Matd<D> F = Matd<D>::identity() + random_matrix<D>(rng, 0.4);
    const Svd<double, D> s = pl::svd_rotation_variant(F);
    if (s.sigma[D - 2] + s.sigma[D - 1] < 1e-2) continue;  // near the inverted pole: below
    expect_polar_matches_fd(F, "random");
  }
  const Matd<D> R = random_rotation<D>(rng);
  expect_polar_matches_fd(Matd<D>::identity(), "F = I");
  expect_polar_matches_fd(R, "F = rotation");
  expect_polar_matches_fd<D>(Matd<D>::identity() + random_matrix<D>(rng, 1e-3), "I + small");
  expect_polar_matches_fd<D>(R * (Matd<D>::identity() + random_matrix<D>(rng, 1e-8)), "R (I + 1e-8)");
  // Inverted, away from s_i + s_j = 0 ...
  expect_polar_matches_fd<D>(with_singular_values<D>(rng, vec_of<D>({1.3, 0.9, -0.5})), "inverted");
  // ... and close to it (s_i + s_j = 1e-3, outside the band): exact; the step
  // must be small against the gap (curvature ~ 1/gap^2), h = 1e-8.
  expect_polar_matches_fd<D>(with_singular_values<D>(rng, D == 2 ? vec_of<D>({1.0, -0.999})
                                                                  : vec_of<D>({1.3, 1.0, -0.999})),
                             "inverted near pole", 1e-8);
  // Rank deficient: one zero singular value is regular for the rotation variant.
  expect_polar_matches_fd<D>(with_singular_values<D>(rng, D == 2 ? vec_of<D>({0.8, 0.0})
                                                                  : vec_of<D>({1.1, 0.6, 0.0})),
                             "one zero singular value", 1e-8);
}

TEST_F(SvdAdjoint, PolarRotationMatchesFd) {
  check_polar<2>();
  check_polar<3>();
}

// At s_i + s_j = 0 the rotation-variant R jumps (2D: F = diag(1, -1), a
// reflection, is equidistant from every rotation), so dR/dF is infinite.  The
// adjoint returns the documented regularized value: q_plus = 2/(tau sigma_ref).
template <int D>
void check_polar_regularized_at_plus_pole() {
  std::mt19937 rng(600 + D);
  const int i = D - 2, j = D - 1;  // the pair with s_i + s_j = 0
  const Matd<D> F = with_singular_values<D>(rng, D == 2 ? vec_of<D>({1.0, -1.0}) : vec_of<D>({1.5, 1.0, -1.0}));
  const Svd<double, D> s = pl::svd_rotation_variant(F);
  ASSERT_LE(std::fabs(s.sigma[i] + s.sigma[j]), 1e-14);
  const Matd<D> adj_R = random_matrix<D>(rng);
  const Matd<D> M = transpose(s.U) * adj_R * s.V;
  Matd<D> adj_P = Matd<D>::zero();
  for (int a = 0; a < D; ++a)
    for (int b = a + 1; b < D; ++b) {
      const double sum = s.sigma[a] + s.sigma[b];
      const double q_plus = (a == i && b == j) ? 2 / (kTau * s.sigma[0]) : 2 / sum;
      adj_P(a, b) = 0.5 * (M(a, b) - M(b, a)) * q_plus;
      adj_P(b, a) = -adj_P(a, b);
    }
  const Matd<D> expected = s.U * adj_P * transpose(s.V);
  const Matd<D> adj = adj_polar(F, adj_R);
  EXPECT_TRUE(all_finite(adj));
  EXPECT_LE(rel_error(adj, expected), 1e-12) << "D=" << D;
  // Bounded by the regularization: |adj| <= |adj_R| 2/(tau sigma_ref) (up to rounding).
  EXPECT_LE(frobenius_norm(adj), frobenius_norm(adj_R) * 2 / (kTau * s.sigma[0]) * (1 + 1e-12));
}

TEST_F(SvdAdjoint, PolarRotationRegularizedAtInvertedPole) {
  check_polar_regularized_at_plus_pole<2>();
  check_polar_regularized_at_plus_pole<3>();
}

// ---- adj_svd -----------------------------------------------------------------

/// Loss of the full SVD, with the perturbed factors aligned to the reference
/// ones (each (u_k, v_k) pair may flip sign together without changing F; the
/// adjoint differentiates the continuous branch).
template <int D>
double svd_loss(const Matd<D>& F, const Svd<double, D>& ref, const Matd<D>& aU, const Vecd<D>& as,
                const Matd<D>& aV) {
  Svd<double, D> s = pl::svd_rotation_variant(F);
  for (int k = 0; k < D; ++k) {
    double d = 0;
    for (int r = 0; r < D; ++r) d += s.U(r, k) * ref.U(r, k);
    if (d < 0)
      for (int r = 0; r < D; ++r) {
        s.U(r, k) = -s.U(r, k);
        s.V(r, k) = -s.V(r, k);
      }
  }
  return ddot(s.U, aU) + dot(s.sigma, as) + ddot(s.V, aV);
}

template <int D>
void check_svd_random(bool inverted) {
  std::mt19937 rng(700 + 2 * D + inverted);
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    Vecd<D> sv;
    for (int i = 0; i < D; ++i) sv[i] = uniform(rng, 0.2, 2.0);
    bool ok = true;  // adj_svd is exact only away from the poles: gaps >= 5e-2
    for (int i = 0; i < D; ++i)
      for (int j = i + 1; j < D; ++j) ok &= std::fabs(sv[i] - sv[j]) > 5e-2;
    if (!ok) continue;
    if (inverted) sv[D - 1] = -sv[D - 1];
    const Matd<D> F = with_singular_values<D>(rng, sv);
    const Svd<double, D> ref = pl::svd_rotation_variant(F);
    const Matd<D> aU = random_matrix<D>(rng), aV = random_matrix<D>(rng);
    Vecd<D> as;
    for (int i = 0; i < D; ++i) as[i] = uniform(rng, -1, 1);
    Matd<D> adj = Matd<D>::zero();
    pl::adj_svd(ref, aU, as, aV, adj);
    const Matd<D> fd = fd_gradient<D>([&](const Matd<D>& X) { return svd_loss(X, ref, aU, as, aV); }, F);
    EXPECT_LE(fd_error(adj, fd), kRelTol) << "adj_svd D=" << D << (inverted ? " inverted" : "") << " trial " << trial;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST_F(SvdAdjoint, FullSvdMatchesFdAwayFromRepeats) {
  check_svd_random<2>(false);
  check_svd_random<3>(false);
  check_svd_random<2>(true);
  check_svd_random<3>(true);
}

// At exactly repeated singular values (F = I) the U/V terms are regularized:
// 1/(s_i - s_j) -> 1/(tau sigma_ref), and the sigma part is exact.
template <int D>
void check_svd_regularized_at_identity() {
  std::mt19937 rng(800 + D);
  const Svd<double, D> s = pl::svd_rotation_variant(Matd<D>::identity());
  const Matd<D> aU = random_matrix<D>(rng), aV = random_matrix<D>(rng);
  Vecd<D> as;
  for (int i = 0; i < D; ++i) as[i] = uniform(rng, -1, 1);
  const Matd<D> Au = transpose(s.U) * aU, Av = transpose(s.V) * aV;
  Matd<D> adj_P = Matd<D>::diagonal(as);
  for (int i = 0; i < D; ++i)
    for (int j = i + 1; j < D; ++j) {
      const double a = Au(i, j) - Au(j, i), b = Av(i, j) - Av(j, i);
      adj_P(i, j) = -0.5 * (a + b) / kTau + 0.5 * (a - b) / 2.0;
      adj_P(j, i) = -0.5 * (a + b) / kTau - 0.5 * (a - b) / 2.0;
    }
  Matd<D> adj = Matd<D>::zero();
  pl::adj_svd(s, aU, as, aV, adj);
  EXPECT_LE(rel_error(adj, s.U * adj_P * transpose(s.V)), 1e-12);
  // Singular values only (adj_U = adj_V = 0): exact, = U diag(adj_sigma) V^T.
  Matd<D> adj_sigma_only = Matd<D>::zero();
  pl::adj_svd(s, Matd<D>::zero(), as, Matd<D>::zero(), adj_sigma_only);
  // A symmetric function of repeated singular values is differentiable: the sum
  // of the singular values has gradient R = I at F = I.
  const Matd<D> fd = fd_gradient<D>(
      [&](const Matd<D>& X) { return dot(pl::svd_rotation_variant(X).sigma, Vecd<D>::constant(1.0)); },
      Matd<D>::identity());
  Matd<D> adj_sum = Matd<D>::zero();
  pl::adj_singular_values(s, Vecd<D>::constant(1.0), adj_sum);
  EXPECT_LE(fd_error(adj_sum, fd), kRelTol);  // d(sum sigma)/dF at I = I
  EXPECT_LE(rel_error(adj_sigma_only, Matd<D>::diagonal(as)), 1e-12);
}

TEST_F(SvdAdjoint, FullSvdRegularizedAtRepeatedValues) {
  check_svd_regularized_at_identity<2>();
  check_svd_regularized_at_identity<3>();
}

// ---- accumulation and float ------------------------------------------------

template <int D>
void check_accumulates() {
  std::mt19937 rng(900 + D);
  const Matd<D> F = Matd<D>::identity() + random_matrix<D>(rng, 0.3);
  const Svd<double, D> s = pl::svd_rotation_variant(F);
  const Matd<D> a = random_matrix<D>(rng), b = random_matrix<D>(rng);
  const Vecd<D> as = vec_of<D>({0.3, -0.2, 0.5});
  const auto fn = cubic_fn<D>();
  Vecd<D> g;
  Matd<D> dg;
  fn.eval(s.sigma, g, dg);
  Matd<D> once = Matd<D>::zero(), twice = Matd<D>::zero();
  pl::adj_polar_rotation(F, a, once);
  pl::adj_svd(s, a, as, b, once);
  pl::adj_singular_value_function(s, g, dg, b, once);
  pl::adj_singular_values(s, as, once);
  for (int k = 0; k < 2; ++k) {
    pl::adj_polar_rotation(F, a, twice);
    pl::adj_svd(s, a, as, b, twice);
    pl::adj_singular_value_function(s, g, dg, b, twice);
    pl::adj_singular_values(s, as, twice);
  }
  EXPECT_LE(frobenius_norm(twice - 2.0 * once), 1e-13 * frobenius_norm(once));
}

TEST_F(SvdAdjoint, Accumulates) {
  check_accumulates<2>();
  check_accumulates<3>();
}

// Float: the same code instantiated in single precision agrees with double to
// ~1e-5 relative at generic F and near-repeated F (reported, not an FD check).
template <int D>
void check_float_agrees() {
  std::mt19937 rng(1000 + D);
  double worst = 0;
  for (int trial = 0; trial < 50; ++trial) {
    Vecd<D> sv;
    for (int i = 0; i < D; ++i) sv[i] = uniform(rng, 0.5, 1.5);
    if (trial % 2) sv[1] = sv[0] * (1 + 1e-6);  // near-repeated, inside float's band
    const Matd<D> F = with_singular_values<D>(rng, sv);
    const Matd<D> adj_R = random_matrix<D>(rng);
    const Matd<D> ref = adj_polar(F, adj_R);
    Mat<float, D> adj_f = Mat<float, D>::zero();
    pl::adj_polar_rotation(F.template cast<float>(), adj_R.template cast<float>(), adj_f);
    worst = std::fmax(worst, rel_error(adj_f.template cast<double>(), ref));
  }
  EXPECT_LE(worst, 1e-4) << "D=" << D;
  std::printf("[ info ] adj_polar_rotation float vs double, D=%d: worst relative error %.2e\n", D, worst);
}

TEST_F(SvdAdjoint, FloatAgreesWithDouble) {
  check_float_agrees<2>();
  check_float_agrees<3>();
}

}  // namespace
