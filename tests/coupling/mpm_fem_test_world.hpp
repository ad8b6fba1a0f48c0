// A small coupled MPM + FEM world for the coupling tests: a jelly block
// (MPM, 20^3 grid of 2 cm cells) and a rubber block (FEM, 2x2x2 cubes)
// moving towards it along +x.  No gravity unless asked; slip walls the
// material never reaches.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "engine/coupling/mpm_fem_coupling.hpp"
#include "engine/fem/tet_surface.hpp"
#include "tests/mpm/mpm_test_world.hpp"

namespace pl::test {

/// Outward surface triangles of a tet mesh added at FEM vertex `first`.
inline std::vector<std::array<int, 3>> surface_triangles(const fem::TetMesh& mesh, int first) {
  const fem::TetSurface s = fem::tet_surface(mesh);
  std::vector<std::array<int, 3>> out;
  for (const auto& t : s.mesh.triangles)
    out.push_back({first + s.vertex[std::size_t(t[0])], first + s.vertex[std::size_t(t[1])], first + s.vertex[std::size_t(t[2])]});
  return out;
}

inline MpmSettings<3> coupled_mpm_settings(double dt, double gravity) {
  MpmSettings<3> s = MpmSettings<3>::cube(0.4, 20);
  s.dt = dt;
  s.gravity = {0, gravity, 0};
  for (int a = 0; a < 3; ++a) s.walls[a][0] = s.walls[a][1] = {WallType::Slip, 0.0};
  return s;
}

inline fem::FemSettings coupled_fem_settings(double dt, double gravity,
                                             fem::FemIntegrator integrator = fem::FemIntegrator::kSymplecticEuler) {
  fem::FemSettings s;
  s.dt = dt;
  s.integrator = integrator;
  s.newton_tolerance = 1e-12;  // implicit: tight, for the gradient checks
  s.gravity = {0, gravity, 0};
  return s;
}

struct CoupledTestWorld {
  double dt = 2e-4;
  materials::MaterialDesc rubber = material("stable_neo_hookean", {{"E", 2e5}, {"nu", 0.3}}, 1000, "rubber");
  MpmWorld<double, 3> mpm;
  fem::FemWorld<double> fem;
  std::vector<std::array<int, 3>> triangles;
  std::unique_ptr<MpmFemCoupling<double>> coupling;
  double initial_front = 0.18;  // x of the FEM block's front face [m]

  explicit CoupledTestWorld(double gravity, const MpmFemCouplingSettings& settings = {},
                            fem::FemIntegrator integrator = fem::FemIntegrator::kSymplecticEuler)
      : mpm(coupled_mpm_settings(2e-4, gravity), {material("fixed_corotated", {{"E", 5e3}, {"nu", 0.3}}, 1000, "jelly")}),
        fem(coupled_fem_settings(2e-4, gravity, integrator)) {
    const double dx = mpm.settings().dx;
    mpm.add_body("jelly", lattice_box<3>({0.2, 0.14, 0.14}, {0.3, 0.26, 0.26}, dx, 2), 0, {0, 0, 0}, std::pow(dx / 2, 3));
    const fem::TetMesh mesh = fem::make_box_mesh({0.10, 0.16, 0.16}, {initial_front, 0.24, 0.24}, {2, 2, 2});
    fem.add_tet_body("pad", mesh, rubber);
    for (int i = 0; i < fem.num_vertices(); ++i) fem.velocities()[3 * std::size_t(i)] = 1.0;
    triangles = surface_triangles(mesh, 0);
    coupling = std::make_unique<MpmFemCoupling<double>>(mpm, fem, triangles, settings, "test: coupling");
  }
};

}  // namespace pl::test
