// Benchmark workloads of /work/shared/BENCHMARKS.md (S1, S2), the memory-traffic
// model used for the roofline fraction, and a STREAM-triad bandwidth probe.
//
// Used by tools/pliant_bench_main.cpp and by tests/tools/test_bench_workloads.cpp.
// Nothing here prints or parses command lines: the tool does that.
//
// S1  3D weakly compressible fluid, taichi's examples/simulation/mpm3d.py:
//     n_grid^3 nodes, N = n_grid^3 / 4 particles uniformly random in
//     [0.15, 0.55]^3, dt 8e-5, 25 substeps per frame, gravity 9.8 (-y),
//     rho 1, V0 = (dx/2)^2 (sic: mpm3d squares, it does not cube), bound 3.
// S2  2D fluid + jelly + snow, taichi's examples/simulation/mpm99.py:
//     N = 9000 q^2, (128 q)^2 nodes, dt 1e-4 / q, E 1e3, nu 0.2, gravity 50
//     (-y), rho 1, V0 = (dx/2)^2, three groups of N/3 particles uniformly random
//     in [0.3 + 0.1 g, 0.5 + 0.1 g] x [0.05 + 0.32 g, 0.25 + 0.32 g],
//     g = 0 fluid, 1 jelly, 2 snow; int(2e-3 // dt) substeps per frame
//     (Python's floor gives 19 at q 1 and 39 at q 2).
// How each reference material maps onto Pliant's models: see docs/benchmarks.md
// and make_s1_fluid / make_s2_materials in workloads.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pl::bench {

/// What one (workload, size) runs.  Built by s1_spec / s2_spec; plain data.
struct WorkloadSpec {
  std::string workload;  // "S1" | "S2"
  std::string size;      // "n32", "n64" (S1) | "q1", "q2" (S2)
  int dim = 3;
  int n_grid = 0;              // grid nodes per axis (taichi's n_grid; node i at i * dx)
  double dx = 0;               // 1 / n_grid
  std::size_t num_particles = 0;
  double dt = 0;
  int substeps_per_frame = 0;
  int default_frames = 0;      // frames per timed repetition unless --frames is given
  double gravity = 0;          // magnitude, along -y
  double particle_volume = 0;  // V0 [m^3] (mass = rho V0, rho = 1)

  std::string label() const { return workload + "/" + size; }
  std::size_t num_nodes() const;
  std::size_t particle_steps_per_frame() const { return num_particles * std::size_t(substeps_per_frame); }
};

/// S1 at n_grid nodes per axis (32 and 64 in the protocol; >= 24 so the
/// particle box clears the 3-cell wall layer).
WorkloadSpec s1_spec(int n_grid);
/// S2 at quality q (1 and 2 in the protocol).
WorkloadSpec s2_spec(int quality);
/// "S1" + "small"/"large" -> n32/n64; "S2" + "small"/"large" -> q1/q2.
WorkloadSpec spec_for(const std::string& workload, const std::string& size_class);

/// The portable, seeded generator used for initial positions (SplitMix64,
/// Steele et al. 2014; uniform doubles from the top 53 bits).  Spelled out so
/// a peer script could regenerate the same stream; peers normally load the
/// positions from the .npy files the tool writes (--save-particles).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)

 private:
  std::uint64_t state_;
};

/// Initial positions of a workload, particle-major (x0 y0 [z0] x1 ...), in
/// double, exactly as passed to MpmWorld::add_body; draws are x, y[, z] per
/// particle in particle order.  material_of[i] is the reference script's
/// material group (S1: all 0; S2: 0 fluid, 1 jelly, 2 snow).
struct InitialState {
  std::vector<double> positions;
  std::vector<int> material_of;
};
InitialState initial_state(const WorkloadSpec& spec, std::uint64_t seed);
/// The initial state shared with the peers: DIR/<W>_<size>_x.npy (float32,
/// N x dim) and DIR/<W>_<size>_material.npy (int32, N), as written by
/// --save-particles.  Throws InputError naming the file when a shape, dtype or
/// group index does not fit the workload.
InitialState load_initial_state(const WorkloadSpec& spec, const std::string& dir, int num_groups);

/// A built, ready-to-step world of one workload (float, CPU backend).  The
/// first upload to the backend and the stability check happen in make_workload,
/// so step_frames times stepping only.
class Workload {
 public:
  virtual ~Workload() = default;
  const WorkloadSpec& spec() const { return spec_; }
  /// Runs frames * substeps_per_frame substeps.  Throws pl::SimulationError on a fault.
  virtual void step_frames(int frames) = 0;
  virtual std::size_t num_particles() const = 0;
  /// Current positions as float32, particle-major (N x dim).
  virtual std::vector<float> positions_f32() const = 0;
  /// Current velocities as float32, particle-major (N x dim).
  virtual std::vector<float> velocities_f32() const = 0;
  /// Material index of each particle (into the world's table, same order as
  /// InitialState::material_of).
  virtual std::vector<int> materials() const = 0;

 protected:
  explicit Workload(WorkloadSpec spec) : spec_(std::move(spec)) {}
  WorkloadSpec spec_;
};

std::unique_ptr<Workload> make_workload(const WorkloadSpec& spec, std::uint64_t seed);
/// Same, from a given initial state (e.g. load_initial_state).
std::unique_ptr<Workload> make_workload(const WorkloadSpec& spec, const InitialState& state);

/// Modeled memory traffic of one MPM substep, per particle-step (bytes).
/// The model (also in docs/benchmarks.md):
///  * compulsory traffic only: every particle array a kernel touches is
///    streamed once by that kernel; the dense grid passes (clear, grid update)
///    stream every node once; the 3^D stencil gathers/scatters of P2G and G2P
///    are assumed to hit cache (each node is shared by ~ 3^D * N / nodes
///    particles) and are not counted;
///  * a store counts once (no read-for-ownership), like STREAM's own counting;
///  * the material table, the fault word and kernel launch are negligible.
/// With R = sizeof(Real), Vec = D R, Mat = D^2 R, int = 4 bytes:
///   P2G  reads  x, v, F, C, plastic, mass, volume, material
///   G2P  reads  x, F, plastic, material
///   G2P  writes x, v, C, F, plastic
///   grid clear  writes momentum (D R) + mass (R)             per node
///   grid update reads momentum + mass, writes velocity (D R)  per node
/// Grid bytes are amortized per particle by nodes / N.
struct BytesModel {
  double p2g_read = 0;      // per particle
  double g2p_read = 0;      // per particle
  double g2p_write = 0;     // per particle
  double grid_per_node = 0; // per node per substep (clear + update)
  double grid_per_particle = 0;  // grid_per_node * nodes / N
  double particle_total() const { return p2g_read + g2p_read + g2p_write; }
  double total() const { return particle_total() + grid_per_particle; }
};
BytesModel model_bytes(int dim, std::size_t real_bytes, std::size_t num_particles, std::size_t num_nodes);
inline BytesModel model_bytes(const WorkloadSpec& s) {
  return model_bytes(s.dim, sizeof(float), s.num_particles, s.num_nodes());
}

/// STREAM triad a[i] = b[i] + s * c[i] over three double arrays of
/// `array_bytes` each, with `threads` OpenMP threads (first-touch initialized
/// by the same threads), best of `reps` timed passes after one untimed pass.
/// Bytes counted per pass: 3 * array_bytes (read b, read c, write a; the
/// read-for-ownership of a is not counted, as in McCalpin's STREAM).
struct StreamResult {
  double bytes_per_second = 0;  // best pass
  double median_bytes_per_second = 0;
  double best_seconds = 0;
  std::size_t array_bytes = 0;
  int threads = 0;
  int reps = 0;
};
StreamResult stream_triad(std::size_t array_bytes, int threads, int reps);

/// Minimal NumPy .npy (format 1.0) writers, little-endian, C order.
void write_npy_f32(const std::string& path, const std::vector<float>& data, const std::vector<std::size_t>& shape);
void write_npy_i32(const std::string& path, const std::vector<int>& data, const std::vector<std::size_t>& shape);

}  // namespace pl::bench
