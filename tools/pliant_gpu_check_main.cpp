// pliant_gpu_check: do the CPU and both CUDA paths (reference and fast, see
// engine/mpm/cuda_paths.cuh) compute the same thing?  One command for anyone
// with a GPU:
//
//   pliant_gpu_check              # CPU self-test, then CPU vs CUDA reference vs CUDA fast
//   pliant_gpu_check --cpu-only   # only the self-test (what runs on a machine without a GPU)
//
// Each workload (S1 n32, S2 q1, S3 2D and 3D forward; ../shared/BENCHMARKS.md)
// runs from the same initial particles on each backend and the final
// positions and velocities are compared (tools/pliant_gpu_check_compare.hpp
// for the tolerances and why they are what they are).
//
// The self-test proves the comparison itself: the CPU at 1 and at 2 threads
// (different summation orders, so round-off differences like a GPU's) must
// agree, and a run with gravity changed by 1 % must be flagged.
//
// Exit codes: 0 every comparison passed; 1 one failed; 2 bad command line;
// 77 the CUDA part was skipped (no CUDA build or no visible device; ctest
// reports SKIPPED through SKIP_RETURN_CODE) after the self-test passed.
#include <omp.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/mpm/mpm_world.hpp"
#include "materials/registry.hpp"
#include "tools/bench/workloads.hpp"
#include "tools/pliant_gpu_check_compare.hpp"

namespace {

using pl::gpu_check::RunResult;

constexpr int kSkipped = 77;

/// How a run may deviate from the workload (the self-test's negative control).
struct Variation {
  double gravity_scale = 1.0;
};

template <int D>
RunResult result_of(const pl::MpmWorld<float, D>& world) {
  RunResult r;
  r.dim = D;
  r.dx = world.settings().dx;
  const auto& p = world.particles();
  for (std::size_t i = 0; i < p.size(); ++i)
    for (int a = 0; a < D; ++a) {
      r.x.push_back(p.x[i][a]);
      r.v.push_back(p.v[i][a]);
    }
  return r;
}

// ---- S1 / S2: the bench workloads' specs and initial particles; the settings and
// materials mirror make_settings / make_s1_fluid / make_s2_materials in
// tools/bench/workloads.cpp (internal there), which document each choice.
template <int D>
RunResult run_bench(const pl::bench::WorkloadSpec& spec, pl::Backend backend, const Variation& var) {
  pl::MpmSettings<D> s;
  s.dx = spec.dx;
  s.resolution.fill(spec.n_grid);
  s.origin.fill(0.0);
  s.dt = spec.dt;
  s.gravity.fill(0.0);
  s.gravity[1] = -spec.gravity * var.gravity_scale;
  s.bound_cells = 3;
  for (int a = 0; a < D; ++a)
    for (int side = 0; side < 2; ++side) s.walls[a][side] = pl::WallSpec{pl::WallType::Separate, 0.0};
  std::vector<pl::materials::MaterialDesc> m;
  if (spec.workload == "S1") {
    m.push_back(pl::materials::make_material("mpm3d_fluid", "weakly_compressible_fluid",
                                             {{"bulk_modulus", 400.0}, {"gamma", 1.0}, {"viscosity", 0.0}}, 1.0,
                                             "gpu_check S1"));
  } else {
    const double E = 1e3, nu = 0.2, lambda0 = E * nu / ((1 + nu) * (1 - 2 * nu));
    m.push_back(pl::materials::make_material("mpm99_fluid", "weakly_compressible_fluid",
                                             {{"bulk_modulus", lambda0}, {"gamma", 1.0}, {"viscosity", 0.0}}, 1.0,
                                             "gpu_check S2"));
    m.push_back(pl::materials::make_material("mpm99_jelly", "fixed_corotated", {{"E", 0.3 * E}, {"nu", nu}}, 1.0,
                                             "gpu_check S2"));
    m.push_back(pl::materials::make_material(
        "mpm99_snow", "snow",
        {{"E", E}, {"nu", nu}, {"critical_compression", 2.5e-2}, {"critical_stretch", 4.5e-3}, {"hardening", 10.0}},
        1.0, "gpu_check S2"));
  }
  pl::MpmWorld<float, D> world(s, m, backend, "gpu_check " + spec.label());
  const pl::bench::InitialState st = pl::bench::initial_state(spec, 2024);
  for (int g = 0; g < int(m.size()); ++g) {
    std::vector<std::array<double, D>> xs;
    for (std::size_t i = 0; i < spec.num_particles; ++i) {
      if (st.material_of[i] != g) continue;
      std::array<double, D> x{};
      for (int a = 0; a < D; ++a) x[a] = st.positions[std::size_t(D) * i + a];
      xs.push_back(x);
    }
    world.add_body(m[std::size_t(g)].label, xs, g, {}, spec.particle_volume);
  }
  world.step(spec.substeps_per_frame);  // one frame
  return result_of(world);
}

// ---- S3 forward: the soft robot of tools/pliant_bench_diff_main.cpp (a block on
// a sticky floor, pushed by four phase-shifted sine forces, set every step).
template <int D>
RunResult run_s3(pl::Backend backend, const Variation& var, int steps) {
  const int n_particles = D == 3 ? 30495 : 2976, n_grid = D == 3 ? 64 : 128;
  pl::MpmSettings<D> s;
  s.dx = 1.0 / n_grid;
  s.resolution.fill(n_grid);
  s.dt = D == 3 ? 2e-3 : 1e-3;
  s.gravity[1] = -3.8 * var.gravity_scale;
  for (int a = 0; a < D; ++a) s.walls[a][0] = s.walls[a][1] = {pl::WallType::Separate, 0.0};
  s.walls[1][0] = {pl::WallType::Sticky, 0.0};
  pl::MpmWorld<float, D> world(
      s, {pl::materials::make_material("robot", "fixed_corotated", {{"E", 10.0}, {"nu", 0.2}}, 1.0, "gpu_check S3")},
      backend, "gpu_check S3");
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  std::array<double, D> lo{}, size{};
  lo.fill(0.3), size.fill(0.2);
  lo[1] = (s.bound_cells + 0.5) * s.dx;
  size[0] = 0.3;
  std::vector<std::array<double, D>> x(static_cast<std::size_t>(n_particles));
  for (auto& p : x)
    for (int a = 0; a < D; ++a) p[a] = lo[a] + size[a] * u(rng);
  double volume = 1;
  for (int a = 0; a < D; ++a) volume *= size[a];
  world.add_body("robot", x, 0, {}, volume / n_particles);

  const std::size_t n = world.num_particles();
  std::vector<int> group(n);
  for (std::size_t i = 0; i < n; ++i) group[i] = std::min(3, int((world.particles().x[i][0] - 0.3) / 0.3 * 4));
  const float mass = world.particles().mass[0];
  std::vector<pl::Vec<float, D>> f(n, pl::Vec<float, D>::zero());
  for (int step = 0; step < steps; ++step) {
    for (std::size_t i = 0; i < n; ++i)
      f[i][0] = mass * 5.0f * float(std::sin(2 * M_PI * step / 50.0 + group[i] * M_PI / 2));
    world.set_external_forces(f);
    world.step(1);
  }
  return result_of(world);
}

struct Workload {
  std::string name;
  std::function<RunResult(pl::Backend, const Variation&)> run;
};

std::vector<Workload> workloads() {
  return {
      {"S1 n32 (3D fluid, 1 frame)",
       [](pl::Backend b, const Variation& v) { return run_bench<3>(pl::bench::s1_spec(32), b, v); }},
      {"S2 q1 (2D fluid + jelly + snow, 1 frame)",
       [](pl::Backend b, const Variation& v) { return run_bench<2>(pl::bench::s2_spec(1), b, v); }},
      {"S3 2D forward (100 actuated steps)", [](pl::Backend b, const Variation& v) { return run_s3<2>(b, v, 100); }},
      {"S3 3D forward (20 actuated steps)", [](pl::Backend b, const Variation& v) { return run_s3<3>(b, v, 20); }},
  };
}

/// Prints one comparison row; returns whether it came out as `expect_pass`.
bool report(const std::string& workload, const std::string& what, const pl::gpu_check::Comparison& c,
            bool expect_pass) {
  const bool ok = c.pass == expect_pass;
  std::printf("  %-44s %-34s max |dx| %.2e cells, v rel rms %.2e  %s%s%s\n", workload.c_str(), what.c_str(),
              c.max_position_cells, c.velocity_rel_rms, ok ? "ok" : "FAILED",
              expect_pass ? "" : (c.pass ? " (the perturbed run was NOT flagged)" : " (flagged, as it must be)"),
              (!ok && expect_pass) ? (": " + c.why).c_str() : "");
  return ok;
}

void set_cuda_path(const char* path) { setenv("PLIANT_CUDA_PATH", path, 1); }

}  // namespace

int main(int argc, char** argv) {
  bool cpu_only = false, self_test = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cpu-only") {
      cpu_only = true;
    } else if (a == "--skip-self-test") {  // ctest runs the self-test as its own test
      self_test = false;
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: pliant_gpu_check [--cpu-only | --skip-self-test]\n");
      return 0;
    } else {
      std::fprintf(stderr, "pliant_gpu_check: unknown option '%s' (expected --cpu-only or --skip-self-test)\n",
                   a.c_str());
      return 2;
    }
  }
  if (cpu_only && !self_test) {
    std::fprintf(stderr, "pliant_gpu_check: --cpu-only and --skip-self-test together check nothing\n");
    return 2;
  }
  const pl::gpu_check::Tolerance tol;
  std::printf("pliant_gpu_check: tolerances: positions %.0e cells, velocities %.0e relative rms\n",
              tol.position_cells, tol.velocity_rel_rms);
  bool all_ok = true;
  try {
    // 1. Self-test of the comparison on the CPU.
    const int threads = std::max(2, omp_get_num_procs());
    if (self_test) std::printf("CPU self-test (1 vs 2 threads must agree; gravity x 1.01 must be flagged):\n");
    for (const Workload& w : self_test ? workloads() : std::vector<Workload>{}) {
      pl::set_cpu_threads(1);
      const RunResult one = w.run(pl::Backend::Cpu, {});
      pl::set_cpu_threads(2);
      const RunResult two = w.run(pl::Backend::Cpu, {});
      const RunResult perturbed = w.run(pl::Backend::Cpu, {1.01});
      all_ok &= report(w.name, "cpu x1 vs cpu x2", pl::gpu_check::compare_runs(one, two, tol), true);
      all_ok &= report(w.name, "cpu vs cpu, gravity x 1.01", pl::gpu_check::compare_runs(one, perturbed, tol), false);
    }
    pl::set_cpu_threads(threads);
    if (!all_ok) {
      std::printf("pliant_gpu_check: FAILED (the CPU self-test)\n");
      return 1;
    }
    if (cpu_only) {
      std::printf("pliant_gpu_check: CPU self-test passed (--cpu-only: CUDA not checked)\n");
      return 0;
    }

    // 2. CPU vs CUDA reference vs CUDA fast.
    const std::string why = pl::cuda_unavailable_reason();
    if (!why.empty()) {
      std::printf("pliant_gpu_check: SKIPPED the CUDA comparisons: %s.  Run it on a machine with an NVIDIA GPU "
                  "and a CUDA build (-DPLIANT_CUDA=ON).\n",
                  why.c_str());
      return kSkipped;
    }
    std::printf("CPU (%d threads) vs CUDA reference vs CUDA fast:\n", threads);
    for (const Workload& w : workloads()) {
      const RunResult cpu = w.run(pl::Backend::Cpu, {});
      set_cuda_path("reference");
      const RunResult reference = w.run(pl::Backend::Cuda, {});
      set_cuda_path("fast");
      const RunResult fast = w.run(pl::Backend::Cuda, {});
      all_ok &= report(w.name, "cpu vs cuda reference", pl::gpu_check::compare_runs(cpu, reference, tol), true);
      all_ok &= report(w.name, "cpu vs cuda fast", pl::gpu_check::compare_runs(cpu, fast, tol), true);
      all_ok &= report(w.name, "cuda reference vs cuda fast", pl::gpu_check::compare_runs(reference, fast, tol),
                       true);
    }
    unsetenv("PLIANT_CUDA_PATH");
  } catch (const std::exception& e) {
    std::printf("pliant_gpu_check: FAILED: %s\n", e.what());
    return 1;
  }
  std::printf("pliant_gpu_check: %s\n", all_ok ? "PASSED" : "FAILED");
  return all_ok ? 0 : 1;
}
