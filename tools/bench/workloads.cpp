#include "tools/bench/workloads.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "engine/core/error.hpp"
#include "engine/mpm/mpm_world.hpp"
#include "materials/registry.hpp"
#include "tools/bench/npy_read.hpp"

namespace pl::bench {

// --- Specs ----------------------------------------------------------------------

std::size_t WorkloadSpec::num_nodes() const {
  std::size_t n = 1;
  for (int a = 0; a < dim; ++a) n *= std::size_t(n_grid);
  return n;
}

WorkloadSpec s1_spec(int n_grid) {
  if (n_grid < 24)
    throw InputError("S1: n_grid must be >= 24 so that the particle box [0.15, 0.55]^3 clears the 3-cell walls, got " +
                     std::to_string(n_grid));
  WorkloadSpec s;
  s.workload = "S1";
  s.size = "n" + std::to_string(n_grid);
  s.dim = 3;
  s.n_grid = n_grid;
  s.dx = 1.0 / n_grid;
  s.num_particles = std::size_t(n_grid) * n_grid * n_grid / 4;  // n_grid^dim // 2^(dim-1)
  s.dt = 8e-5;
  s.substeps_per_frame = 25;
  // ~2.5 M particle-steps per timed repetition (1-3 s at 1 thread here).
  s.default_frames = std::max(1, int(std::lround(2.5e6 / double(s.particle_steps_per_frame()))));
  s.gravity = 9.8;
  s.particle_volume = (0.5 * s.dx) * (0.5 * s.dx);  // mpm3d: p_vol = (dx * 0.5)**2, also in 3D
  return s;
}

WorkloadSpec s2_spec(int quality) {
  if (quality < 1) throw InputError("S2: quality must be >= 1, got " + std::to_string(quality));
  WorkloadSpec s;
  s.workload = "S2";
  s.size = "q" + std::to_string(quality);
  s.dim = 2;
  s.n_grid = 128 * quality;
  s.dx = 1.0 / s.n_grid;
  s.num_particles = std::size_t(9000) * quality * quality;
  s.dt = 1e-4 / quality;
  // mpm99: `for s in range(int(2e-3 // dt))`; Python's float floor division
  // gives 19 (q 1) and 39 (q 2), one less than the exact quotient.
  {
    // Python's float `a // b` (CPython float_floor_div): mod = fmod(a, b),
    // div = (a - mod) / b, floor(div) rounded up when div - floor(div) > 0.5.
    const double a = 2e-3, b = s.dt;
    const double div = (a - std::fmod(a, b)) / b;
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    s.substeps_per_frame = int(floordiv);
  }
  s.default_frames = std::max(1, int(std::lround(2.5e6 / double(s.particle_steps_per_frame()))));
  s.gravity = 50.0;
  s.particle_volume = (0.5 * s.dx) * (0.5 * s.dx);
  return s;
}

WorkloadSpec spec_for(const std::string& workload, const std::string& size_class) {
  const bool small = size_class == "small", large = size_class == "large";
  if (!small && !large) throw InputError("size must be 'small' or 'large', got '" + size_class + "'");
  if (workload == "S1") return s1_spec(small ? 32 : 64);
  if (workload == "S2") return s2_spec(small ? 1 : 2);
  throw InputError("unknown workload '" + workload + "', expected S1 or S2");
}

// --- Initial state -----------------------------------------------------------------

InitialState initial_state(const WorkloadSpec& spec, std::uint64_t seed) {
  InitialState st;
  SplitMix64 rng(seed);
  const std::size_t n = spec.num_particles;
  st.positions.resize(n * std::size_t(spec.dim));
  st.material_of.resize(n);
  if (spec.workload == "S1") {
    // mpm3d.py: x = random() * 0.4 + 0.15 per component.
    for (std::size_t i = 0; i < n; ++i) {
      for (int a = 0; a < 3; ++a) st.positions[3 * i + a] = rng.uniform() * 0.4 + 0.15;
      st.material_of[i] = 0;
    }
  } else if (spec.workload == "S2") {
    // mpm99.py: group g = i // (N / 3); x = random() * 0.2 + 0.3 + 0.1 g,
    // y = random() * 0.2 + 0.05 + 0.32 g; material g (0 fluid, 1 jelly, 2 snow).
    const std::size_t group_size = n / 3;
    for (std::size_t i = 0; i < n; ++i) {
      const int g = int(std::min<std::size_t>(i / group_size, 2));
      st.positions[2 * i + 0] = rng.uniform() * 0.2 + 0.3 + 0.10 * g;
      st.positions[2 * i + 1] = rng.uniform() * 0.2 + 0.05 + 0.32 * g;
      st.material_of[i] = g;
    }
  } else {
    throw InputError("unknown workload '" + spec.workload + "'");
  }
  return st;
}

InitialState load_initial_state(const WorkloadSpec& spec, const std::string& dir, int num_groups) {
  const std::string stem = dir + "/" + spec.workload + "_" + spec.size;
  const NpyArray<float> x = read_npy_f32(stem + "_x.npy");
  if (x.shape.size() != 2 || x.shape[1] != std::size_t(spec.dim))
    throw InputError(stem + "_x.npy: expected shape (N, " + std::to_string(spec.dim) + ") for " + spec.label());
  const NpyArray<int> g = read_npy_i32(stem + "_material.npy");
  if (g.shape.size() != 1 || g.shape[0] != x.shape[0])
    throw InputError(stem + "_material.npy: expected shape (" + std::to_string(x.shape[0]) + ",) to match " + stem +
                     "_x.npy");
  if (x.shape[0] != spec.num_particles)
    throw InputError(stem + "_x.npy: " + spec.label() + " needs " + std::to_string(spec.num_particles) +
                     " particles, the file has " + std::to_string(x.shape[0]));
  InitialState st;
  st.positions.assign(x.data.begin(), x.data.end());  // float -> double is exact
  st.material_of = g.data;
  for (int m : st.material_of)
    if (m < 0 || m >= num_groups)
      throw InputError(stem + "_material.npy: group " + std::to_string(m) + " outside [0, " +
                       std::to_string(num_groups) + ") for " + spec.label());
  return st;
}

// --- Materials ------------------------------------------------------------------------

namespace {

// S1: mpm3d's fluid.  Its P2G uses the Kirchhoff stress tau = E (J - 1) I
// (affine = -dt 4 E V0 (J - 1) / dx^2 I + m C, i.e. -dt V0 (4/dx^2) tau + m C),
// so its pressure is p = -tau / J = E (1 - J) / J = E (1/J - 1): a Tait-type
// equation of state with exponent 1 and bulk modulus E, no viscosity.  J is
// advanced as J *= 1 + dt tr(C); Pliant advances F = (I + dt C) F, whose
// determinant differs by O(dt^2) terms.  See docs/benchmarks.md.
materials::MaterialDesc make_s1_fluid() {
  return materials::make_material("mpm3d_fluid", "weakly_compressible_fluid",
                                  {{"bulk_modulus", 400.0}, {"gamma", 1.0}, {"viscosity", 0.0}},
                                  /*density=*/1.0, "bench S1");
}

// S2: mpm99's three materials with E = 1e3, nu = 0.2 (mu0 = E / (2 (1 + nu)),
// lambda0 = E nu / ((1 + nu)(1 - 2 nu))):
//  * fluid: mu = 0, tau = lambda0 J (J - 1) I, F reset to sqrt(J) I.  Pressure
//    p = lambda0 (1 - J); the closest Pliant model is weakly_compressible_fluid
//    with bulk modulus lambda0 and exponent 1 (p = lambda0 (1/J - 1)): same
//    linearization at J = 1, they differ by a factor J in the stress (inexact).
//  * jelly: fixed corotated with h = 0.3, i.e. E = 0.3 * 1e3, nu = 0.2 (exact).
//  * snow: fixed corotated + Stomakhin 2013 plasticity, theta_c 2.5e-2,
//    theta_s 4.5e-3, hardening 10 (the snow model; ordering details of the
//    hardening factor may differ, see docs/benchmarks.md).
std::vector<materials::MaterialDesc> make_s2_materials() {
  const double E = 1e3, nu = 0.2;
  const double lambda0 = E * nu / ((1 + nu) * (1 - 2 * nu));
  std::vector<materials::MaterialDesc> m;
  m.push_back(materials::make_material("mpm99_fluid", "weakly_compressible_fluid",
                                       {{"bulk_modulus", lambda0}, {"gamma", 1.0}, {"viscosity", 0.0}},
                                       /*density=*/1.0, "bench S2 fluid"));
  m.push_back(materials::make_material("mpm99_jelly", "fixed_corotated", {{"E", 0.3 * E}, {"nu", nu}}, 1.0,
                                       "bench S2 jelly"));
  m.push_back(materials::make_material("mpm99_snow", "snow",
                                       {{"E", E},
                                        {"nu", nu},
                                        {"critical_compression", 2.5e-2},
                                        {"critical_stretch", 4.5e-3},
                                        {"hardening", 10.0}},
                                       1.0, "bench S2 snow"));
  return m;
}

template <int D>
MpmSettings<D> make_settings(const WorkloadSpec& spec) {
  MpmSettings<D> s;
  s.dx = spec.dx;
  // taichi's grids have n_grid nodes per axis at i * dx, i < n_grid: same here
  // (not MpmSettings::cube, which would add one node per axis).
  s.resolution.fill(spec.n_grid);
  s.origin.fill(0.0);
  s.dt = spec.dt;
  s.gravity.fill(0.0);
  s.gravity[1] = -spec.gravity;
  s.bound_cells = 3;
  // taichi zeroes the velocity component that points into a wall layer and
  // keeps the tangential one: Separate with zero friction.
  for (int a = 0; a < D; ++a)
    for (int side = 0; side < 2; ++side) s.walls[a][side] = WallSpec{WallType::Separate, 0.0};
  return s;
}

template <int D>
class WorldWorkload final : public Workload {
 public:
  WorldWorkload(const WorkloadSpec& spec, const InitialState& st)
      : Workload(spec),
        world_(make_settings<D>(spec), spec.workload == "S1" ? std::vector<materials::MaterialDesc>{make_s1_fluid()}
                                                             : make_s2_materials(),
               Backend::Cpu, "bench " + spec.label()) {
    const int num_groups = spec.workload == "S1" ? 1 : 3;
    const std::size_t n = st.material_of.size();
    for (int g = 0; g < num_groups; ++g) {
      std::vector<std::array<double, D>> xs;
      for (std::size_t i = 0; i < n; ++i) {
        if (st.material_of[i] != g) continue;
        std::array<double, D> x{};
        for (int a = 0; a < D; ++a) x[a] = st.positions[std::size_t(D) * i + a];
        xs.push_back(x);
      }
      std::array<double, D> v0{};
      world_.add_body(world_.materials()[g].label, xs, g, v0, spec.particle_volume);
    }
    world_.step(0);  // stability check and upload, outside any timing
  }

  void step_frames(int frames) override {
    for (int f = 0; f < frames; ++f) world_.step(spec_.substeps_per_frame);
  }
  std::size_t num_particles() const override { return world_.num_particles(); }
  std::vector<float> positions_f32() const override { return flatten(world_.particles().x); }
  std::vector<float> velocities_f32() const override { return flatten(world_.particles().v); }
  std::vector<int> materials() const override { return world_.particles().material; }

 private:
  static std::vector<float> flatten(const std::vector<Vec<float, D>>& xs) {
    std::vector<float> out(xs.size() * D);
    for (std::size_t i = 0; i < xs.size(); ++i)
      for (int a = 0; a < D; ++a) out[D * i + a] = xs[i][a];
    return out;
  }
  MpmWorld<float, D> world_;
};

}  // namespace

std::unique_ptr<Workload> make_workload(const WorkloadSpec& spec, std::uint64_t seed) {
  return make_workload(spec, initial_state(spec, seed));
}

std::unique_ptr<Workload> make_workload(const WorkloadSpec& spec, const InitialState& state) {
  if (state.positions.size() != state.material_of.size() * std::size_t(spec.dim))
    throw InputError("workload " + spec.label() + ": initial positions and groups disagree in length");
  if (spec.dim == 3) return std::make_unique<WorldWorkload<3>>(spec, state);
  if (spec.dim == 2) return std::make_unique<WorldWorkload<2>>(spec, state);
  throw InputError("workload " + spec.label() + ": dimension must be 2 or 3");
}

// --- Bytes model -------------------------------------------------------------------------

BytesModel model_bytes(int dim, std::size_t real_bytes, std::size_t num_particles, std::size_t num_nodes) {
  const double R = double(real_bytes), I = 4.0;  // Real, int (material index)
  const double vec = dim * R, mat = dim * dim * R;
  BytesModel b;
  //            x     v     F     C     plastic mass volume material
  b.p2g_read = vec + vec + mat + mat + R + R + R + I;
  //            x     F     plastic material
  b.g2p_read = vec + mat + R + I;
  //            x     v     C     F     plastic
  b.g2p_write = vec + vec + mat + mat + R;
  //                clear: momentum + mass   update: read momentum + mass, write velocity
  b.grid_per_node = (vec + R) + (vec + R) + vec;
  b.grid_per_particle = num_particles ? b.grid_per_node * double(num_nodes) / double(num_particles) : 0.0;
  return b;
}

// --- STREAM triad --------------------------------------------------------------------------

StreamResult stream_triad(std::size_t array_bytes, int threads, int reps) {
  if (threads < 1) threads = 1;
  if (reps < 1) reps = 1;
  const std::size_t n = std::max<std::size_t>(array_bytes / sizeof(double), 1);
  // Plain new[] (no value-initialization) so the parallel first touch below
  // places pages near the threads that use them.
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
  double* pa = a.get();
  double* pb = b.get();
  double* pc = c.get();
  const long ln = long(n);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (long i = 0; i < ln; ++i) {
    pa[i] = 0.0;
    pb[i] = 1.0;
    pc[i] = 2.0;
  }
  const double s = 3.0;
  std::vector<double> seconds;
  for (int r = 0; r <= reps; ++r) {  // pass 0 is untimed
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (long i = 0; i < ln; ++i) pa[i] = pb[i] + s * pc[i];
    const auto t1 = std::chrono::steady_clock::now();
    if (r > 0) seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  // Keep the result observable so the loop is not optimized away.
  volatile double sink = pa[n / 2];
  (void)sink;
  std::sort(seconds.begin(), seconds.end());
  const double bytes = 3.0 * double(n) * sizeof(double);
  StreamResult res;
  res.best_seconds = seconds.front();
  res.bytes_per_second = bytes / seconds.front();
  res.median_bytes_per_second = bytes / seconds[seconds.size() / 2];
  res.array_bytes = n * sizeof(double);
  res.threads = threads;
  res.reps = reps;
  return res;
}

// --- .npy --------------------------------------------------------------------------------------

namespace {

void write_npy(const std::string& path, const char* descr, const void* data, std::size_t bytes,
               const std::vector<std::size_t>& shape) {
  std::ostringstream dict;
  dict << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
  // numpy's own spelling: (3, 2) and (3,)
  for (std::size_t i = 0; i < shape.size(); ++i) dict << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) dict << ",";
  dict << "), }";
  std::string header = dict.str();
  // magic (6) + version (2) + header length (2) + header, padded with spaces
  // and ended by '\n' so the data starts at a multiple of 64 bytes.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 65535) throw std::runtime_error("npy header too long");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError("cannot open '" + path + "' for writing");
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.write(reinterpret_cast<const char*>(magic), 8);
  const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                static_cast<unsigned char>(header.size() >> 8)};
  out.write(reinterpret_cast<const char*>(len), 2);
  out.write(header.data(), std::streamsize(header.size()));
  out.write(static_cast<const char*>(data), std::streamsize(bytes));  // x86/ARM hosts are little-endian
  if (!out) throw InputError("error while writing '" + path + "'");
}

std::size_t product(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t s : shape) n *= s;
  return n;
}

}  // namespace

void write_npy_f32(const std::string& path, const std::vector<float>& data, const std::vector<std::size_t>& shape) {
  if (product(shape) != data.size()) throw std::invalid_argument("write_npy_f32: shape does not match data size");
  write_npy(path, "<f4", data.data(), data.size() * sizeof(float), shape);
}

void write_npy_i32(const std::string& path, const std::vector<int>& data, const std::vector<std::size_t>& shape) {
  static_assert(sizeof(int) == 4, "int must be 32-bit");
  if (product(shape) != data.size()) throw std::invalid_argument("write_npy_i32: shape does not match data size");
  write_npy(path, "<i4", data.data(), data.size() * sizeof(int), shape);
}

}  // namespace pl::bench
