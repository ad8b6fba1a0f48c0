// Shells in the FEM world (engine/fem/fem_world.hpp): a sheet clamped along
// one edge sags stably under implicit Euler at a large time step, and a strip
// folded past its yield angle by a prescribed grip keeps its crease after the
// grip lets go (plastic rest angles advanced by FemWorld::step -> end_step);
// gradients of a rollout through plastic shells (bending stiffness, yield
// angle, Young's modulus, rest angles, initial velocities) match central
// finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "engine/fem/fem_rollout.hpp"
#include "engine/fem/fem_world.hpp"
#include "engine/fem/sheet_mesh.hpp"
#include "engine/fem/shell_terms.hpp"

namespace pl::fem {
namespace {

struct Sheet {
  TriangleMesh mesh;
  std::shared_ptr<MembraneTerm<double>> membrane;
  std::shared_ptr<HingeTerm<double>> hinges;
  int first = 0;
};

Sheet add_sheet(FemWorld<double>& world, const TriangleMesh& mesh, const ShellMaterial& mat, double areal_density,
                double bending_stiffness, double yield_angle) {
  Sheet s;
  s.mesh = mesh;
  s.first = world.add_vertices(mesh.vertices, lumped_sheet_masses(mesh, areal_density));
  s.membrane = std::make_shared<MembraneTerm<double>>("sheet", mesh, s.first, mat);
  s.hinges = std::make_shared<HingeTerm<double>>("sheet", mesh, s.first, bending_stiffness, yield_angle);
  world.add_energy_term(s.membrane);
  world.add_energy_term(s.hinges);
  return s;
}

TEST(ShellWorld, ClampedSheetSagsStablyWithImplicitEulerAtALargeTimeStep) {
  FemSettings settings;
  settings.dt = 1.0 / 60;  // the membrane's explicit limit is ~4e-5 s
  FemWorld<double> world(settings);
  ShellMaterial mat;
  mat.youngs_modulus = 1e7;
  mat.thickness = 1e-3;
  mat.model = MembraneModel::kNeoHookean;
  const TriangleMesh mesh = make_rectangular_sheet({0, 0, 0}, {0.2, 0, 0}, {0, 0.1, 0}, 12, 6);
  const Sheet sheet = add_sheet(world, mesh, mat, 0.1, 1e-5, INFINITY);
  std::vector<int> clamp;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v)
    if (mesh.vertices[v][0] < 1e-9) clamp.push_back(sheet.first + int(v));
  world.pin(clamp);
  double min_z = 0;
  for (int step = 0; step < 12; ++step) {
    world.step();
    for (std::size_t i = 2; i < world.positions().size(); i += 3) {
      ASSERT_TRUE(std::isfinite(world.positions()[i])) << "step " << step;
      min_z = std::min(min_z, world.positions()[i]);
    }
  }
  EXPECT_LT(min_z, -0.1);         // it hangs down
  EXPECT_GT(min_z, -0.2 * 1.05);  // but no vertex went further than the sheet is long
  for (int v : clamp)
    for (int d = 0; d < 3; ++d)
      EXPECT_EQ(world.positions()[std::size_t(3 * v + d)], mesh.vertices[std::size_t(v - sheet.first)][std::size_t(d)]);
}

// Folds a strip about the line x = x_fold with a prescribed grip on its last
// two vertex columns, lets go, and returns the angle of the free end panel.
double fold_in_world(double yield_angle, double fold_angle) {
  FemSettings settings;
  settings.dt = 0.01;
  settings.gravity = {0, 0, 0};
  settings.damping_mass = 20;  // settle quickly after release
  FemWorld<double> world(settings);
  const int nx = 8, ny = 2;
  const double L = 0.16, W = 0.04, dx = L / nx, x_fold = 4 * dx;
  const TriangleMesh mesh = make_rectangular_sheet({0, 0, 0}, {L, 0, 0}, {0, W, 0}, nx, ny);
  ShellMaterial mat;
  mat.youngs_modulus = 1e7;
  mat.thickness = 2e-3;
  const Sheet sheet = add_sheet(world, mesh, mat, 0.5,
                                plate_bending_stiffness(mat.youngs_modulus, mat.poisson_ratio, mat.thickness),
                                yield_angle);
  auto column = [&](std::size_t v) { return int(std::lround(mesh.vertices[v][0] / dx)); };
  std::vector<int> clamp, grip;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    if (column(v) <= 1) clamp.push_back(sheet.first + int(v));
    if (column(v) >= nx - 1) grip.push_back(sheet.first + int(v));
  }
  world.pin(clamp);
  const int fold_steps = 20;
  std::vector<std::vector<double>> trajectory;
  for (int k = 1; k <= fold_steps; ++k) {
    const double phi = fold_angle * k / fold_steps;
    std::vector<double> targets;
    for (int v : grip) {
      const auto& p = mesh.vertices[std::size_t(v - sheet.first)];
      const double r = p[0] - x_fold;
      targets.insert(targets.end(), {x_fold + r * std::cos(phi), p[1], r * std::sin(phi)});
    }
    trajectory.push_back(targets);
  }
  world.prescribe(grip, trajectory);
  for (int k = 0; k < fold_steps; ++k) world.step();
  world.prescribe({}, {});  // let go
  for (int k = 0; k < 40; ++k) world.step();
  double dxe = 0, dze = 0;
  const std::vector<double>& x = world.positions();
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v)
    if (mesh.vertices[v][1] < 1e-9) {
      const std::size_t i = 3 * (std::size_t(sheet.first) + v);
      if (column(v) == nx) {
        dxe += x[i];
        dze += x[i + 2];
      } else if (column(v) == nx - 1) {
        dxe -= x[i];
        dze -= x[i + 2];
      }
    }
  return std::atan2(dze, dxe);
}

TEST(ShellWorld, SheetFoldedPastTheYieldAngleStaysFoldedAfterRelease) {
  const double fold = 1.5;
  const double elastic = fold_in_world(INFINITY, fold);
  const double plastic = fold_in_world(0.2, fold);
  EXPECT_LT(std::fabs(elastic), 0.05) << "an elastic strip springs back flat";
  EXPECT_GT(plastic, 0.6 * fold) << "a plastic strip keeps most of its fold";
  EXPECT_LT(plastic, fold);
}

// A small plastic strip, clamped on one side, its other side lifted by a
// prescribed grip so that some hinges yield, under gravity.  Loss: a weighted
// sum of the final positions.
struct FoldScene {
  std::unique_ptr<FemWorld<double>> world;
  Sheet sheet;
  std::vector<double> weights;
};

struct FoldSetup {
  FemIntegrator integrator = FemIntegrator::kImplicitEuler;
  double dt = 0.02;
  int grip_steps = 6;     // the grip rises over this many steps
  int steps = 10;         // rollout length
};

FoldScene make_fold_scene(double bending_stiffness, double yield_angle, double youngs_modulus,
                          const FoldSetup& setup = FoldSetup()) {
  FoldScene scene;
  FemSettings settings;
  settings.dt = setup.dt;
  settings.integrator = setup.integrator;
  settings.newton_tolerance = 1e-12;
  scene.world = std::make_unique<FemWorld<double>>(settings);
  const int nx = 4, ny = 2;
  const double L = 0.08, W = 0.04, dx = L / nx;
  const TriangleMesh mesh = make_rectangular_sheet({0, 0, 0}, {L, 0, 0}, {0, W, 0}, nx, ny);
  ShellMaterial mat;
  mat.youngs_modulus = youngs_modulus;
  mat.thickness = 1e-3;
  scene.sheet = add_sheet(*scene.world, mesh, mat, 0.5, bending_stiffness, yield_angle);
  std::vector<int> clamp, grip;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    const int c = int(std::lround(mesh.vertices[v][0] / dx));
    if (c == 0) clamp.push_back(int(v));
    if (c == nx) grip.push_back(int(v));
  }
  scene.world->pin(clamp);
  std::vector<std::vector<double>> trajectory;
  for (int k = 1; k <= setup.grip_steps; ++k) {
    const double f = double(k) / setup.grip_steps;
    std::vector<double> targets;
    for (int v : grip) {
      const auto& p = mesh.vertices[std::size_t(v)];
      targets.insert(targets.end(), {p[0] - 0.024 * f, p[1], 0.072 * f});
    }
    trajectory.push_back(targets);
  }
  scene.world->prescribe(grip, trajectory);
  scene.weights.resize(scene.world->positions().size());
  for (std::size_t i = 0; i < scene.weights.size(); ++i) scene.weights[i] = std::sin(1.0 + 0.7 * double(i));
  return scene;
}

double fold_loss(double bending_stiffness, double yield_angle, double youngs_modulus, const std::vector<double>* v0 = nullptr,
                 const std::vector<double>* rest_angles = nullptr, const FoldSetup& setup = FoldSetup()) {
  FoldScene scene = make_fold_scene(bending_stiffness, yield_angle, youngs_modulus, setup);
  if (v0) scene.world->velocities() = *v0;
  if (rest_angles) scene.sheet.hinges->set_internal_state(*rest_angles);
  for (int k = 0; k < setup.steps; ++k) scene.world->step();
  double loss = 0;
  for (std::size_t i = 0; i < scene.weights.size(); ++i) loss += scene.weights[i] * scene.world->positions()[i];
  return loss;
}

TEST(ShellWorld, RolloutGradientsThroughPlasticShellsMatchFiniteDifferences) {
  const double k = 2e-3, yield = 0.15, E = 1e6;
  FoldScene scene = make_fold_scene(k, yield, E);
  const std::vector<double> rest0 = scene.sheet.hinges->internal_state();
  FemRolloutOptions<double> opt;
  opt.steps = FoldSetup().steps;
  opt.checkpoints = 4;  // forces recomputation, so the plastic state must be checkpointed correctly
  const std::vector<double> weights = scene.weights;
  opt.loss_gradient = [&](int, const FemWorld<double>&, std::vector<double>& adj_x, std::vector<double>&) {
    for (std::size_t i = 0; i < adj_x.size(); ++i) adj_x[i] += weights[i];
  };
  FemRollout<double> rollout(*scene.world, opt);
  rollout.forward();
  // Some hinges must have yielded, else the yield angle has no gradient to check.
  int yielded = 0;
  const std::vector<double> rest_end = scene.sheet.hinges->internal_state();
  for (std::size_t h = 0; h < rest_end.size(); ++h) yielded += std::fabs(rest_end[h] - rest0[h]) > 1e-6;
  ASSERT_GT(yielded, 0);
  const FemRolloutGradients<double> g = rollout.backward();

  const double hk = 1e-6 * k, hy = 1e-6, hE = 1e-6 * E;
  const double fd_k = (fold_loss(k + hk, yield, E) - fold_loss(k - hk, yield, E)) / (2 * hk);
  const double fd_y = (fold_loss(k, yield + hy, E) - fold_loss(k, yield - hy, E)) / (2 * hy);
  const double fd_E = (fold_loss(k, yield, E + hE) - fold_loss(k, yield, E - hE)) / (2 * hE);
  EXPECT_NEAR(g.parameters.term_parameters[1][0], fd_k, 1e-4 * std::fabs(fd_k) + 1e-9) << "bending_stiffness";
  EXPECT_NEAR(g.parameters.term_parameters[1][1], fd_y, 1e-4 * std::fabs(fd_y) + 1e-9) << "yield_angle";
  EXPECT_NEAR(g.parameters.term_parameters[0][0], fd_E, 1e-4 * std::fabs(fd_E) + 1e-12) << "youngs_modulus";

  // Initial rest angles and an initial velocity component of a free vertex.
  for (std::size_t h : {std::size_t(0), rest0.size() / 2}) {
    std::vector<double> rp = rest0, rm = rest0;
    rp[h] += 1e-6;
    rm[h] -= 1e-6;
    const double fd = (fold_loss(k, yield, E, nullptr, &rp) - fold_loss(k, yield, E, nullptr, &rm)) / 2e-6;
    EXPECT_NEAR(g.term_state0[1][h], fd, 1e-4 * std::fabs(fd) + 1e-9) << "rest angle " << h;
  }
  const std::size_t dof = 3 * 7 + 2;  // z of a free interior vertex
  std::vector<double> vp(scene.weights.size(), 0.0), vm = vp;
  vp[dof] = 1e-6;
  vm[dof] = -1e-6;
  const double fd_v = (fold_loss(k, yield, E, &vp) - fold_loss(k, yield, E, &vm)) / 2e-6;
  EXPECT_NEAR(g.v0[dof], fd_v, 1e-4 * std::fabs(fd_v) + 1e-9);
}

TEST(ShellWorld, CantileverPlateStaticSolveMatchesPlateTheory) {
  // The validation through FemWorld::solve_static: a 0.2 m x 0.05 m x
  // 1 mm plate (E = 1 GPa, nu = 0.3) clamped along one short edge (one cell
  // held) sags under its own weight; plate strip in cylindrical bending:
  // tip deflection q L^4 / (8 D), D = E h^3 / (12 (1 - nu^2)).
  FemSettings settings;
  settings.newton_tolerance = 1e-10;
  FemWorld<double> world(settings);
  const int nx = 48, ny = 6;
  const double L = 0.2, W = 0.05, rho_area = 0.1, dx = L / nx;
  const TriangleMesh mesh = make_rectangular_sheet({-dx, 0, 0}, {L + dx, 0, 0}, {0, W, 0}, nx + 1, ny);
  ShellMaterial mat;
  mat.youngs_modulus = 1e9;
  mat.poisson_ratio = 0.3;
  mat.thickness = 1e-3;
  const double D = plate_bending_stiffness(mat.youngs_modulus, mat.poisson_ratio, mat.thickness);
  const Sheet sheet = add_sheet(world, mesh, mat, rho_area, D, INFINITY);
  std::vector<int> clamp, tip;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    if (mesh.vertices[v][0] < 1e-9) clamp.push_back(sheet.first + int(v));
    if (mesh.vertices[v][0] > L - 1e-9) tip.push_back(sheet.first + int(v));
  }
  world.pin(clamp);
  world.solve_static();
  double z = 0;
  for (int v : tip) z += world.positions()[std::size_t(3 * v + 2)];
  z /= double(tip.size());
  const double expected = -rho_area * 9.81 * std::pow(L, 4) / (8 * D);
  EXPECT_NEAR(z, expected, 0.10 * std::fabs(expected)) << "tip " << z << ", plate theory " << expected;
}

TEST(ShellWorld, ExplicitRolloutGradientsThroughPlasticShellsMatchFiniteDifferences) {
  // Symplectic Euler below the membrane's stability limit (~4e-4 s here): the
  // adjoint runs on the terms' Hessian-vector products and the plastic
  // state's adjoint.
  FoldSetup setup;
  setup.integrator = FemIntegrator::kSymplecticEuler;
  setup.dt = 1e-4;
  setup.grip_steps = 30;
  setup.steps = 40;
  const double k = 2e-3, yield = 0.05, E = 1e6;
  FoldScene scene = make_fold_scene(k, yield, E, setup);
  const std::vector<double> rest0 = scene.sheet.hinges->internal_state();
  FemRolloutOptions<double> opt;
  opt.steps = setup.steps;
  opt.checkpoints = 6;
  const std::vector<double> weights = scene.weights;
  opt.loss_gradient = [&](int, const FemWorld<double>&, std::vector<double>& adj_x, std::vector<double>&) {
    for (std::size_t i = 0; i < adj_x.size(); ++i) adj_x[i] += weights[i];
  };
  FemRollout<double> rollout(*scene.world, opt);
  rollout.forward();
  int yielded = 0;
  const std::vector<double> rest_end = scene.sheet.hinges->internal_state();
  for (std::size_t h = 0; h < rest_end.size(); ++h) yielded += std::fabs(rest_end[h] - rest0[h]) > 1e-6;
  ASSERT_GT(yielded, 0);
  const FemRolloutGradients<double> g = rollout.backward();
  const double hk = 1e-6 * k, hy = 1e-6, hE = 1e-6 * E;
  const double fd_k = (fold_loss(k + hk, yield, E, nullptr, nullptr, setup) - fold_loss(k - hk, yield, E, nullptr, nullptr, setup)) / (2 * hk);
  const double fd_y = (fold_loss(k, yield + hy, E, nullptr, nullptr, setup) - fold_loss(k, yield - hy, E, nullptr, nullptr, setup)) / (2 * hy);
  const double fd_E = (fold_loss(k, yield, E + hE, nullptr, nullptr, setup) - fold_loss(k, yield, E - hE, nullptr, nullptr, setup)) / (2 * hE);
  EXPECT_NEAR(g.parameters.term_parameters[1][0], fd_k, 1e-4 * std::fabs(fd_k) + 1e-9) << "bending_stiffness";
  EXPECT_NEAR(g.parameters.term_parameters[1][1], fd_y, 1e-4 * std::fabs(fd_y) + 1e-9) << "yield_angle";
  EXPECT_NEAR(g.parameters.term_parameters[0][0], fd_E, 1e-4 * std::fabs(fd_E) + 1e-12) << "youngs_modulus";
}

}  // namespace
}  // namespace pl::fem
