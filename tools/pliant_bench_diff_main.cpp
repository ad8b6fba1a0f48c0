// pliant_bench_diff: the S3 workload of BENCHMARKS.md (differentiable soft
// robot, diffmpm / diffmpm3d sized) forward and forward+backward through the
// checkpointed rollout, reporting the backward overhead t(fwd+bwd)/t(fwd), peak
// resident memory, checkpoint memory and tape bytes per particle-step.
//
//   pliant_bench_diff --dim 3                 # 30,495 particles, 64^3, dt 2e-3, 512 steps
//   pliant_bench_diff --dim 2                 # 2,976 particles, 128^2, dt 1e-3, 1024 steps
//   pliant_bench_diff --dim 3 --checkpoint-mb 64 --reps 3 --json out.json
//   pliant_bench_diff --dim 3 --checkpoint-mb 0  # the rollout's default budget (2 sqrt(T) + 1 states)
//
// The robot is a block of fixed-corotated material (E = 10 Pa, rho = 1 as in
// diffmpm) whose particles, in four groups, are pushed by periodic actuation
// forces; the loss is the x coordinate of the centre of mass at the last step,
// and the backward pass produces dL/d(initial state), dL/d(material
// parameters) and dL/d(actuation of every step).  Peak memory is the process's
// ru_maxrss, so run one configuration per process to read it cleanly.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/diff/mpm_rollout.hpp"
#include "materials/registry.hpp"

namespace {

struct Options {
  int dim = 3;
  int steps = -1;  // default from the workload
  // Checkpoint budget.  320 MB holds 110 S3/3D states (2.9 MB each): recompute
  // factor 1.78 instead of 1.91 with the rollout's default 2 sqrt(T) + 1 = 47
  // states, and peak RSS stays under the 500 MB target.  0: the rollout's default.
  double checkpoint_mb = 320;
  int threads = 0;
  int reps = 3;
  std::string json;
};

[[noreturn]] void usage(const std::string& error) {
  if (!error.empty()) std::cerr << "pliant_bench_diff: " << error << "\n";
  std::cerr << "usage: pliant_bench_diff [--dim 2|3] [--steps N] [--checkpoint-mb MB] [--threads N] [--reps N] "
               "[--json FILE]\n";
  std::exit(error.empty() ? 0 : 2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value after " + a);
      return argv[++i];
    };
    try {
      if (a == "--dim") o.dim = std::stoi(value());
      else if (a == "--steps") o.steps = std::stoi(value());
      else if (a == "--checkpoint-mb") o.checkpoint_mb = std::stod(value());
      else if (a == "--threads") o.threads = std::stoi(value());
      else if (a == "--reps") o.reps = std::stoi(value());
      else if (a == "--json") o.json = value();
      else if (a == "--help" || a == "-h") usage("");
      else usage("unknown option " + a);
    } catch (const std::logic_error&) {
      usage("bad number for " + a);
    }
  }
  if (o.dim != 2 && o.dim != 3) usage("--dim must be 2 or 3");
  if (o.reps < 1) usage("--reps must be >= 1");
  if (!(o.checkpoint_mb >= 0)) usage("--checkpoint-mb must be >= 0 (0: the rollout's default)");
  return o;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

template <int D>
struct Workload {
  int n_particles, n_grid, steps;
  double dt;
};

template <int D>
Workload<D> workload() {
  if constexpr (D == 3) return {30495, 64, 512, 2e-3};
  else return {2976, 128, 1024, 1e-3};
}

template <int D>
pl::MpmWorld<float, D> make_world(const Workload<D>& w) {
  pl::MpmSettings<D> s;
  s.dx = 1.0 / w.n_grid;
  s.resolution.fill(w.n_grid);
  s.dt = w.dt;
  s.gravity[1] = -3.8;
  for (int a = 0; a < D; ++a) s.walls[a][0] = s.walls[a][1] = {pl::WallType::Separate, 0.0};
  s.walls[1][0] = {pl::WallType::Sticky, 0.0};
  pl::MpmWorld<float, D> world(s, {pl::materials::make_material("robot", "fixed_corotated", {{"E", 10.0}, {"nu", 0.2}},
                                                                 1.0, "S3")});
  // The robot: a block resting on the floor, particles uniformly random (seeded).
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  std::array<double, D> lo{}, size{};
  lo.fill(0.3), size.fill(0.2);
  lo[1] = (s.bound_cells + 0.5) * s.dx;
  size[0] = 0.3;
  std::vector<std::array<double, D>> x(std::size_t(w.n_particles));
  for (auto& p : x)
    for (int a = 0; a < D; ++a) p[a] = lo[a] + size[a] * u(rng);
  double volume = 1;
  for (int a = 0; a < D; ++a) volume *= size[a];
  world.add_body("robot", x, 0, {}, volume / w.n_particles);
  return world;
}

template <int D>
nlohmann::json run(const Options& o) {
  Workload<D> w = workload<D>();
  if (o.steps > 0) w.steps = o.steps;
  auto world = make_world<D>(w);
  const std::size_t n = world.num_particles();
  // Actuation: four groups along x, each pushed by a phase-shifted sine.
  std::vector<int> group(n);
  for (std::size_t i = 0; i < n; ++i) group[i] = std::min(3, int((world.particles().x[i][0] - 0.3) / 0.3 * 4));
  const float mass = world.particles().mass[0];
  auto actuation = [&](int step, std::vector<pl::Vec<float, D>>& f) {
    for (std::size_t i = 0; i < n; ++i)
      f[i][0] = mass * 5.0f * float(std::sin(2 * M_PI * step / 50.0 + group[i] * M_PI / 2));
  };

  pl::RolloutOptions<float, D> opt;
  opt.steps = w.steps;
  opt.checkpoint_bytes = std::size_t(o.checkpoint_mb * (1 << 20));
  opt.forces = actuation;
  double loss = 0;
  opt.on_state = [&](int, const pl::ParticleSet<float, D>& s) {
    loss = 0;
    for (const auto& x : s.x) loss += x[0] / double(s.size());
  };
  opt.loss_gradient = [&](int, const pl::ParticleSet<float, D>& s, pl::ParticleAdjoint<float, D>& g) {
    for (auto& gx : g.x) gx[0] += 1.0f / float(s.size());
  };
  double actuation_grad_norm2 = 0;
  opt.force_gradient = [&](int, const std::vector<pl::Vec<float, D>>& g) {
    for (const auto& gi : g) actuation_grad_norm2 += double(pl::squared_norm(gi));
  };

  std::vector<double> t_fwd, t_fwdbwd;
  pl::RolloutReport report;
  double grad_norm = 0;
  for (int rep = 0; rep < o.reps; ++rep) {
    // Forward only: the same substeps and actuation, no checkpoints.
    const auto start_state = world.particles();
    std::vector<pl::Vec<float, D>> f(n);
    auto t0 = std::chrono::steady_clock::now();
    for (int step = 0; step < w.steps; ++step) {
      actuation(step, f);
      world.set_external_forces(f);
      world.step(1);
    }
    auto t1 = std::chrono::steady_clock::now();
    t_fwd.push_back(std::chrono::duration<double>(t1 - t0).count());
    world.set_particles(start_state);
    world.set_external_forces({});

    pl::MpmRollout<float, D> rollout(world, opt);
    actuation_grad_norm2 = 0;
    t0 = std::chrono::steady_clock::now();
    rollout.forward();
    const auto g = rollout.backward();
    t1 = std::chrono::steady_clock::now();
    t_fwdbwd.push_back(std::chrono::duration<double>(t1 - t0).count());
    report = rollout.report();
    grad_norm = std::sqrt(actuation_grad_norm2);
    (void)g;
  }
  auto best = [](std::vector<double> v) { return *std::min_element(v.begin(), v.end()); };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
  };
  const double tf = best(t_fwd), tfb = best(t_fwdbwd);
  // Overhead per rep (forward and forward+backward timed back to back, so a
  // busy moment on the shared machine hits both), then its min and median.
  std::vector<double> overheads;
  for (std::size_t r = 0; r < t_fwd.size(); ++r) overheads.push_back(t_fwdbwd[r] / t_fwd[r]);
  const double particle_steps = double(n) * w.steps;
  nlohmann::json j;
  j["workload"] = D == 3 ? "S3/diffmpm3d-like" : "S3/diffmpm-like";
  j["particles"] = n;
  j["grid"] = w.n_grid;
  j["steps"] = w.steps;
  j["dt"] = w.dt;
  j["threads"] = pl::cpu_threads();
  j["t_forward_s"] = tf;
  j["t_forward_backward_s"] = tfb;
  j["backward_overhead"] = tfb / tf;  // min / min
  j["t_forward_median_s"] = median(t_fwd);
  j["t_forward_backward_median_s"] = median(t_fwdbwd);
  j["backward_overhead_per_rep"] = overheads;
  j["backward_overhead_min"] = best(overheads);
  j["backward_overhead_median"] = median(overheads);
  j["reps"] = int(t_fwd.size());
  j["forward_particle_steps_per_s"] = particle_steps / tf;
  j["peak_rss_mb"] = peak_rss_mb();
  j["checkpoints"] = report.checkpoints;
  j["checkpoint_mb"] = double(report.checkpoint_bytes) / (1 << 20);
  j["bytes_per_state"] = report.bytes_per_state;
  j["tape_bytes_per_particle_step"] = double(report.checkpoint_bytes) / particle_steps;
  j["recompute_factor"] = report.recompute_factor;
  j["loss"] = loss;
  j["actuation_gradient_norm"] = grad_norm;
  std::printf(
      "%s N=%zu grid=%d^%d steps=%d thr=%d | fwd %.2f s (%.2f Mp-steps/s)  fwd+bwd %.2f s  overhead %.2fx | "
      "peak RSS %.0f MB, checkpoints %d x %.2f MB = %.1f MB (%.2f B/particle-step), recompute factor %.2f\n",
      j["workload"].get<std::string>().c_str(), n, w.n_grid, D, w.steps, pl::cpu_threads(), tf, particle_steps / tf / 1e6,
      tfb, tfb / tf, j["peak_rss_mb"].get<double>(), report.checkpoints, double(report.bytes_per_state) / (1 << 20),
      j["checkpoint_mb"].get<double>(), j["tape_bytes_per_particle_step"].get<double>(), report.recompute_factor);
  std::printf("  %d reps: fwd min %.2f / median %.2f s, fwd+bwd min %.2f / median %.2f s, overhead per rep min %.2fx / "
              "median %.2fx\n",
              int(t_fwd.size()), tf, median(t_fwd), tfb, median(t_fwdbwd), best(overheads), median(overheads));
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    if (o.threads > 0) pl::set_cpu_threads(o.threads);
    const nlohmann::json j = o.dim == 3 ? run<3>(o) : run<2>(o);
    if (!o.json.empty()) {
      const std::string tmp = o.json + ".tmp";
      std::ofstream(tmp) << j.dump(2) << "\n";
      std::rename(tmp.c_str(), o.json.c_str());
    }
  } catch (const pl::InputError& e) {
    std::cerr << "pliant_bench_diff: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "pliant_bench_diff: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
