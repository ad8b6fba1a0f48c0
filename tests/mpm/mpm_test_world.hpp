// Small worlds for MPM tests: regular lattices of particles (independent of
// the samplers, so physics tests do not depend on sampling code).
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "engine/mpm/mpm_world.hpp"
#include "materials/model_list.hpp"
#include "materials/registry.hpp"

namespace pl::test {

/// Particles on a regular lattice with `per_axis` particles per cell and axis,
/// filling the box [lo, hi).
template <int D>
std::vector<std::array<double, D>> lattice_box(const std::array<double, D>& lo, const std::array<double, D>& hi,
                                               double dx, int per_axis) {
  const double h = dx / per_axis;
  std::array<int, D> n{};
  for (int a = 0; a < D; ++a) n[a] = int((hi[a] - lo[a]) / h + 0.5);
  std::vector<std::array<double, D>> out;
  std::array<int, D> i{};
  while (true) {
    std::array<double, D> x{};
    for (int a = 0; a < D; ++a) x[a] = lo[a] + (i[a] + 0.5) * h;
    out.push_back(x);
    int a = 0;
    while (a < D && ++i[a] == n[a]) i[a++] = 0;
    if (a == D) break;
  }
  return out;
}

template <int D>
std::array<double, D> filled(double v) {
  std::array<double, D> a{};
  a.fill(v);
  return a;
}

inline materials::MaterialDesc material(const std::string& model, const std::map<std::string, double>& params,
                                        double density = 1000.0, const std::string& label = "m") {
  return materials::make_material(label, model, params, density, "test");
}

/// Total elastic energy sum_p V0_p Psi(F_p) (host-side, through the same model code).
template <class Real, int D>
double elastic_energy(const MpmWorld<Real, D>& world) {
  const auto& p = world.particles();
  double e = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const auto& desc = world.materials()[p.material[i]];
    Real params[materials::kMaxParams];
    for (int k = 0; k < materials::kMaxParams; ++k) params[k] = Real(desc.params[k]);
    materials::visit_model(desc.model_id, [&](auto model) {
      using M = decltype(model);
      e += double(p.volume[i]) * double(M::template energy_density<Real, D>(params, p.F[i], p.plastic[i]));
    });
  }
  return e;
}

template <class Real, int D>
double kinetic_energy(const MpmWorld<Real, D>& world) {
  const auto& p = world.particles();
  double e = 0;
  for (std::size_t i = 0; i < p.size(); ++i) e += 0.5 * double(p.mass[i]) * double(squared_norm(p.v[i]));
  return e;
}

/// Gravitational potential energy -m g.x (g is the gravity vector).
template <class Real, int D>
double potential_energy(const MpmWorld<Real, D>& world) {
  const auto& p = world.particles();
  double e = 0;
  for (std::size_t i = 0; i < p.size(); ++i)
    for (int a = 0; a < D; ++a) e -= double(p.mass[i]) * world.settings().gravity[a] * double(p.x[i][a]);
  return e;
}

template <class Real, int D>
double max_speed(const MpmWorld<Real, D>& world) {
  const auto& p = world.particles();
  double s = 0;
  for (std::size_t i = 0; i < p.size(); ++i) s = std::max(s, double(norm(p.v[i])));
  return s;
}

template <class Real, int D>
std::array<double, D> total_momentum(const MpmWorld<Real, D>& world) {
  const auto& p = world.particles();
  std::array<double, D> m{};
  for (std::size_t i = 0; i < p.size(); ++i)
    for (int a = 0; a < D; ++a) m[a] += double(p.mass[i]) * double(p.v[i][a]);
  return m;
}

}  // namespace pl::test
