// pliant_bench_cloth: Pliant's side of benchmark workload S4 (cloth, forward;
// /work/shared/BENCHMARKS.md): an n x n vertex sheet, 1 m x 1 m, hanging from
// two pinned corners under gravity, 16 substeps per 1/60 s frame, 60 frames,
// in float32 through FemWorld (implicit Euler: Newton, PSD-projected element
// Hessians, sparse LDLT) with the shell terms of engine/fem/shell_terms.hpp.
// Prints vertex-steps per second (vertices x substeps / wall second), min and
// median over repetitions, after a warm-up frame that is not timed.
//
//   pliant_bench_cloth                          # 32^2, 64^2, 128^2; 60 frames; 5 reps
//   pliant_bench_cloth --sizes 32,64 --frames 10 --reps 3 --threads 1
//   pliant_bench_cloth --integrator explicit    # symplectic Euler (needs a small dt: see --substeps)
//   pliant_bench_cloth --solver cg              # Newton steps by Jacobi-preconditioned CG instead of LDLT
//
// Cloth: cotton-like, E = 1 MPa, nu = 0.3, thickness 0.5 mm (membrane stiffness
// E h = 500 N/m, StVK), bending stiffness E h^3 / (12 (1 - nu^2)), areal density
// 0.2 kg/m^2, no plasticity, no damping.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/fem/fem_world.hpp"
#include "engine/fem/sheet_mesh.hpp"
#include "engine/fem/shell_terms.hpp"

namespace {

struct Options {
  std::vector<int> sizes{32, 64, 128};
  int frames = 60;
  int substeps = 16;
  int reps = 5;
  int threads = 0;
  bool implicit = true;
  bool cg = false;
  int warmup_steps = -1;  // default: one frame
};

[[noreturn]] void usage(const std::string& error) {
  if (!error.empty()) std::cerr << "pliant_bench_cloth: " << error << "\n";
  std::cerr << "usage: pliant_bench_cloth [--sizes N,N,...] [--frames N] [--substeps N] [--reps N] [--threads N] "
               "[--integrator implicit|explicit] [--solver ldlt|cg] [--warmup-steps N]\n";
  std::exit(error.empty() ? 0 : 2);
}

int positive_int(const std::string& key, const std::string& text) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  usage(key + " '" + text + "': expected a positive integer");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value after " + a);
      return argv[++i];
    };
    if (a == "--sizes") {
      o.sizes.clear();
      std::stringstream list(value());
      std::string item;
      while (std::getline(list, item, ',')) {
        const int n = positive_int("--sizes", item);
        if (n < 2) usage("--sizes: each size needs at least 2 vertices per side");
        o.sizes.push_back(n);
      }
    } else if (a == "--frames") {
      o.frames = positive_int(a, value());
    } else if (a == "--substeps") {
      o.substeps = positive_int(a, value());
    } else if (a == "--reps") {
      o.reps = positive_int(a, value());
    } else if (a == "--threads") {
      o.threads = positive_int(a, value());
    } else if (a == "--integrator") {
      const std::string v = value();
      if (v != "implicit" && v != "explicit") usage("--integrator '" + v + "': expected implicit or explicit");
      o.implicit = v == "implicit";
    } else if (a == "--warmup-steps") {
      const std::string v = value();
      o.warmup_steps = v == "0" ? 0 : positive_int(a, v);
    } else if (a == "--solver") {
      const std::string v = value();
      if (v != "ldlt" && v != "cg") usage("--solver '" + v + "': expected ldlt or cg");
      o.cg = v == "cg";
    } else if (a == "--help" || a == "-h") {
      usage("");
    } else {
      usage("unknown option " + a);
    }
  }
  return o;
}

struct Cloth {
  std::unique_ptr<pl::fem::FemWorld<float>> world;
  int vertices = 0;
};

Cloth make_cloth(int n, const Options& o) {
  using namespace pl::fem;
  FemSettings s;
  s.dt = 1.0 / (60.0 * o.substeps);
  s.integrator = o.implicit ? FemIntegrator::kImplicitEuler : FemIntegrator::kSymplecticEuler;
  // Float32 Newton: stop at 1e-6 of the sheet size (float rounding is ~1e-7).
  s.newton_tolerance = 1e-6;
  if (o.cg) {
    s.linear_solver = FemLinearSolver::kConjugateGradient;
    s.cg_tolerance = 1e-6;  // relative residual; float32
  }
  Cloth c;
  c.world = std::make_unique<FemWorld<float>>(s);
  const pl::TriangleMesh mesh = make_rectangular_sheet({0, 0, 0}, {1, 0, 0}, {0, 1, 0}, n - 1, n - 1, "S4 cloth");
  ShellMaterial mat;
  mat.youngs_modulus = 1e6;
  mat.poisson_ratio = 0.3;
  mat.thickness = 5e-4;
  const int first = c.world->add_vertices(mesh.vertices, lumped_sheet_masses(mesh, 0.2));
  c.world->add_energy_term(std::make_shared<MembraneTerm<float>>("cloth", mesh, first, mat));
  c.world->add_energy_term(std::make_shared<HingeTerm<float>>(
      "cloth", mesh, first, float(plate_bending_stiffness(mat.youngs_modulus, mat.poisson_ratio, mat.thickness))));
  c.world->pin({first + n * (n - 1), first + n * n - 1});  // the two corners at y = 1
  c.vertices = n * n;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  std::printf("S4 cloth: %d frames x %d substeps (dt = 1/%d s), %s Euler (%s), float32, %d thread(s), %d rep(s)\n",
              o.frames, o.substeps, 60 * o.substeps, o.implicit ? "implicit" : "symplectic", o.cg ? "CG" : "LDLT",
              omp_get_max_threads(), o.reps);
  std::printf("%8s %10s %12s %12s %16s %16s %10s\n", "vertices", "steps", "t_min[s]", "t_median[s]", "vsteps/s(best)",
              "vsteps/s(median)", "newton/step");
  try {
    for (int n : o.sizes) {
      std::vector<double> times;
      double newton_per_step = 0;
      const int steps = o.frames * o.substeps;
      for (int rep = 0; rep < o.reps; ++rep) {
        Cloth c = make_cloth(n, o);
        const int warmup = o.warmup_steps >= 0 ? o.warmup_steps : o.substeps;
        for (int k = 0; k < warmup; ++k) c.world->step();  // warm-up (one frame by default), not timed
        long newton = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < steps; ++k) {
          c.world->step();
          newton += c.world->last_newton_iterations();
        }
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        newton_per_step = double(newton) / steps;
      }
      std::sort(times.begin(), times.end());
      const double t_min = times.front(), t_med = times[times.size() / 2];
      const double work = double(n) * n * steps;
      std::printf("%8d %10d %12.3f %12.3f %16.4g %16.4g %10.2f\n", n * n, steps, t_min, t_med, work / t_min, work / t_med,
                  newton_per_step);
      std::fflush(stdout);
    }
  } catch (const pl::InputError& e) {
    std::fprintf(stderr, "pliant_bench_cloth: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pliant_bench_cloth: %s\n", e.what());
    return 1;
  }
  return 0;
}
