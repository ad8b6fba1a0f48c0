#include "tools/bench/diffmpm.hpp"

#include <time.h>

#include <chrono>
#include <cmath>

#include "engine/core/error.hpp"
#include "materials/registry.hpp"

namespace pl::bench {

WorkloadSpec S3Spec::as_workload() const {
  WorkloadSpec w;
  w.workload = "S3";
  w.size = size;
  w.dim = dim;
  w.n_grid = n_grid;
  w.dx = dx;
  w.num_particles = num_particles;
  w.dt = dt;
  w.substeps_per_frame = 1;
  w.default_frames = steps;
  w.gravity = gravity;
  w.particle_volume = particle_volume;
  return w;
}

S3Spec s3_spec(const std::string& size) {
  S3Spec s;
  s.size = size;
  if (size == "2d") return s;
  if (size != "3d") throw InputError("S3: size must be '2d' or '3d', got '" + size + "'");
  s.dim = 3;
  s.n_grid = 64;
  s.dx = 1.0 / 64;
  s.num_particles = 30495;
  s.dt = 2e-3;
  s.steps = 512;
  return s;
}

InitialState s3_initial_state(const S3Spec& spec, std::uint64_t seed) {
  SplitMix64 rng(seed);
  const int D = spec.dim;
  const double lo[3] = {0.3, (3 + 0.5) * spec.dx, 0.4};
  const double size[3] = {0.3, 0.2, 0.2};
  InitialState st;
  st.positions.resize(spec.num_particles * std::size_t(D));
  st.material_of.resize(spec.num_particles);
  for (std::size_t i = 0; i < spec.num_particles; ++i) {
    for (int a = 0; a < D; ++a) st.positions[i * D + a] = lo[a] + size[a] * rng.uniform();
    // Group by quarter of the x extent, decided on the float32 position every engine loads.
    const float x = float(st.positions[i * D]);
    const int g = int((double(x) - lo[0]) / size[0] * spec.groups);
    st.material_of[i] = std::min(std::max(g, 0), spec.groups - 1);
  }
  return st;
}

std::vector<float> s3_actuation(const S3Spec& spec, int steps) {
  std::vector<float> theta(std::size_t(steps) * spec.groups);
  for (int s = 0; s < steps; ++s)
    for (int g = 0; g < spec.groups; ++g)
      theta[std::size_t(s) * spec.groups + g] =
          float(spec.amplitude * std::sin(2 * M_PI * s / spec.period_steps + g * M_PI / 2));
  return theta;
}

namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

template <class Real, int D>
MpmWorld<Real, D> make_world(const S3Spec& spec, const InitialState& state) {
  MpmSettings<D> s;
  s.dx = spec.dx;
  s.resolution.fill(spec.n_grid);
  s.origin.fill(0.0);
  s.dt = spec.dt;
  s.gravity.fill(0.0);
  s.gravity[1] = -spec.gravity;
  s.bound_cells = 3;
  for (int a = 0; a < D; ++a) s.walls[a][0] = s.walls[a][1] = WallSpec{WallType::Separate, 0.0};
  s.walls[1][0] = WallSpec{WallType::Sticky, 0.0};
  MpmWorld<Real, D> world(s,
                           {materials::make_material("robot", "fixed_corotated", {{"E", spec.E}, {"nu", spec.nu}},
                                                     spec.density, "bench S3")},
                           Backend::Cpu, "bench S3/" + spec.size);
  std::vector<std::array<double, D>> x(state.material_of.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    for (int a = 0; a < D; ++a) x[i][a] = state.positions[i * D + a];
  world.add_body("robot", x, 0, {}, spec.particle_volume);
  world.step(0);  // stability check and upload
  return world;
}

template <class Real, int D>
S3Result run(const S3Spec& spec, const InitialState& state, const std::vector<float>& theta, int steps, int reps,
             std::size_t checkpoint_bytes) {
  if (theta.size() < std::size_t(steps) * spec.groups)
    throw InputError("S3: the actuation table has " + std::to_string(theta.size() / spec.groups) + " steps, need " +
                     std::to_string(steps));
  auto world = make_world<Real, D>(spec, state);
  const std::size_t n = world.num_particles();
  const std::vector<int>& group = state.material_of;
  const std::vector<Real> mass = world.particles().mass;
  const int G = spec.groups;
  auto actuation = [&](int step, std::vector<Vec<Real, D>>& f) {
    for (std::size_t i = 0; i < n; ++i) {
      f[i] = Vec<Real, D>::zero();
      f[i][0] = mass[i] * Real(theta[std::size_t(step) * G + group[i]]);
    }
  };

  S3Result r;
  r.particles = n;
  r.steps = steps;
  RolloutOptions<Real, D> opt;
  opt.steps = steps;
  opt.checkpoint_bytes = checkpoint_bytes;
  opt.forces = actuation;
  opt.on_state = [&](int, const ParticleSet<Real, D>& s) {
    double sum = 0;
    for (const auto& x : s.x) sum += x[0];
    r.loss = sum / double(s.size());
  };
  opt.loss_gradient = [&](int, const ParticleSet<Real, D>& s, ParticleAdjoint<Real, D>& g) {
    for (auto& gx : g.x) gx[0] += Real(1) / Real(s.size());
  };
  std::vector<double> grad(std::size_t(steps) * G);
  opt.force_gradient = [&](int step, const std::vector<Vec<Real, D>>& g) {
    for (std::size_t i = 0; i < n; ++i) grad[std::size_t(step) * G + group[i]] += double(mass[i]) * g[i][0];
  };

  auto fwd_bwd = [&] {
    std::fill(grad.begin(), grad.end(), 0.0);
    MpmRollout<Real, D> rollout(world, opt);
    rollout.forward();
    rollout.backward();  // the world ends back at s_0
    r.report = rollout.report();
  };
  fwd_bwd();  // untimed: first touch of every buffer; gives loss and gradient
  r.grad_theta = grad;
  const double loss = r.loss;

  const ParticleSet<Real, D> start = world.particles();
  std::vector<Vec<Real, D>> f(n);
  using clock = std::chrono::steady_clock;
  for (int rep = 0; rep < reps; ++rep) {
    double c0 = process_cpu_seconds();
    auto t0 = clock::now();
    for (int step = 0; step < steps; ++step) {  // forward only: same substeps and actuation, no checkpoints
      actuation(step, f);
      world.set_external_forces(f);
      world.step(1);
    }
    auto t1 = clock::now();
    r.t_forward.push_back(std::chrono::duration<double>(t1 - t0).count());
    r.cpu_forward.push_back(process_cpu_seconds() - c0);
    world.set_particles(start);
    world.set_external_forces({});

    c0 = process_cpu_seconds();
    t0 = clock::now();
    fwd_bwd();
    t1 = clock::now();
    r.t_forward_backward.push_back(std::chrono::duration<double>(t1 - t0).count());
    r.cpu_forward_backward.push_back(process_cpu_seconds() - c0);
  }
  r.loss = loss;
  return r;
}

}  // namespace

S3Result run_s3(const S3Spec& spec, const InitialState& state, const std::vector<float>& theta, int steps, int reps,
                std::size_t checkpoint_bytes, bool double_precision) {
  if (state.material_of.size() != spec.num_particles || state.positions.size() != spec.num_particles * spec.dim)
    throw InputError("S3/" + spec.size + ": expected " + std::to_string(spec.num_particles) + " particles, got " +
                     std::to_string(state.material_of.size()));
  if (double_precision) {
    if (spec.dim == 2) return run<double, 2>(spec, state, theta, steps, reps, checkpoint_bytes);
    return run<double, 3>(spec, state, theta, steps, reps, checkpoint_bytes);
  }
  if (spec.dim == 2) return run<float, 2>(spec, state, theta, steps, reps, checkpoint_bytes);
  return run<float, 3>(spec, state, theta, steps, reps, checkpoint_bytes);
}

}  // namespace pl::bench
