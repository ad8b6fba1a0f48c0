// Shared helpers of the material tests: random deformations, model parameters,
// finite differences.  Header only (not a test_*.cpp, so not globbed).
#pragma once

#include <array>
#include <cmath>
#include <random>

#include "materials/model_list.hpp"

namespace pl::materials::testing {

template <int D>
using Matd = Mat<double, D>;

/// Defaults of model M, packed.
template <class M>
std::array<double, kMaxParams> default_params() {
  std::array<double, kMaxParams> p{};
  for (int i = 0; i < M::kNumParams; ++i) p[i] = M::kParams[i].default_value;
  return p;
}

/// A stress scale of M: the P-wave modulus rho c^2 (any density gives the same).
template <class M>
double modulus(const double* p) {
  const double c = M::wave_speed(p, 1000.0);
  return 1000.0 * c * c;
}

inline double uniform(std::mt19937& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

/// Random proper rotation (2D angle; 3D axis-angle via Rodrigues).
template <int D>
Matd<D> random_rotation(std::mt19937& rng) {
  Matd<D> R;
  if constexpr (D == 2) {
    const double a = uniform(rng, -M_PI, M_PI);
    R = {{{std::cos(a), -std::sin(a)}, {std::sin(a), std::cos(a)}}};
  } else {
    Vec<double, 3> axis{{uniform(rng, -1, 1), uniform(rng, -1, 1), uniform(rng, -1, 1)}};
    axis = axis * (1.0 / norm(axis));
    const double a = uniform(rng, -M_PI, M_PI);
    Matd<3> K{{{0, -axis[2], axis[1]}, {axis[2], 0, -axis[0]}, {-axis[1], axis[0], 0}}};
    R = Matd<3>::identity() + std::sin(a) * K + (1 - std::cos(a)) * (K * K);
  }
  return R;
}

/// Random F = I + perturbation of size `amplitude`, with det F >= 0.3.
template <int D>
Matd<D> random_f_near_identity(std::mt19937& rng, double amplitude = 0.3) {
  for (;;) {
    Matd<D> F = Matd<D>::identity();
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) F(i, j) += uniform(rng, -amplitude, amplitude);
    if (determinant(F) >= 0.3) return F;
  }
}

/// F = R1 diag(s) R2 with the given singular values (any signs).
template <int D>
Matd<D> f_from_singular_values(std::mt19937& rng, const Vec<double, D>& s) {
  return random_rotation<D>(rng) * Matd<D>::diagonal(s) * random_rotation<D>(rng);
}

/// Random inverted F: singular values in [0.6, 1.4], the smallest negated.
template <int D>
Matd<D> random_inverted_f(std::mt19937& rng) {
  Vec<double, D> s;
  for (int i = 0; i < D; ++i) s[i] = uniform(rng, 0.6, 1.4);
  s[D - 1] = -s[D - 1];
  return f_from_singular_values<D>(rng, s);
}

/// Central finite-difference gradient of M's energy density with respect to F.
template <class M, int D>
Matd<D> fd_first_piola(const double* p, const Matd<D>& F, double plastic, double h = 1e-6) {
  Matd<D> G;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      Matd<D> Fp = F, Fm = F;
      Fp(i, j) += h;
      Fm(i, j) -= h;
      G(i, j) = (M::template energy_density<double, D>(p, Fp, plastic) -
                 M::template energy_density<double, D>(p, Fm, plastic)) /
                (2 * h);
    }
  return G;
}

template <int D>
double max_abs_diff(const Matd<D>& a, const Matd<D>& b) {
  double m = 0;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) m = std::fmax(m, std::fabs(a(i, j) - b(i, j)));
  return m;
}

/// Kirchhoff stress tau = P F^T (the MPM convention of model_base.hpp).
template <class M, int D>
Matd<D> kirchhoff(const double* p, const Matd<D>& F, double plastic) {
  return M::template first_piola<double, D>(p, F, plastic) * transpose(F);
}

template <int D>
double deviatoric_norm(const Matd<D>& tau) {
  return frobenius_norm(deviatoric(tau));
}

}  // namespace pl::materials::testing
