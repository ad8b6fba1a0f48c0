// Smoke tests of the benchmark workloads (tools/bench/workloads.hpp): the
// setups build with the protocol's particle counts, one frame runs without a
// fault, the traffic model adds up, and the helpers (STREAM probe, .npy
// writer) produce sane output.  Timing itself is not tested.
#include <gtest/gtest.h>

#include <cmath>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "engine/core/error.hpp"
#include "tools/bench/workloads.hpp"

namespace pl::bench {
namespace {

TEST(BenchWorkloads, SpecsMatchTheProtocol) {
  const WorkloadSpec s32 = spec_for("S1", "small"), s64 = spec_for("S1", "large");
  EXPECT_EQ(s32.num_particles, 8192u);
  EXPECT_EQ(s64.num_particles, 65536u);
  EXPECT_EQ(s64.num_nodes(), 64u * 64u * 64u);
  EXPECT_DOUBLE_EQ(s32.dt, 8e-5);
  EXPECT_EQ(s32.substeps_per_frame, 25);
  EXPECT_EQ(s32.dim, 3);

  const WorkloadSpec q1 = spec_for("S2", "small"), q2 = spec_for("S2", "large");
  EXPECT_EQ(q1.num_particles, 9000u);
  EXPECT_EQ(q2.num_particles, 36000u);
  EXPECT_EQ(q1.n_grid, 128);
  EXPECT_EQ(q2.n_grid, 256);
  EXPECT_DOUBLE_EQ(q2.dt, 5e-5);
  // mpm99.py's int(2e-3 // dt) under Python float floor division.
  EXPECT_EQ(q1.substeps_per_frame, 19);
  EXPECT_EQ(q2.substeps_per_frame, 39);
  EXPECT_GE(q1.default_frames, 1);

  EXPECT_THROW(spec_for("S3", "small"), InputError);
  EXPECT_THROW(spec_for("S1", "medium"), InputError);
  EXPECT_THROW(s1_spec(16), InputError);
}

TEST(BenchWorkloads, InitialStateIsSeededAndInsideTheReferenceBoxes) {
  const WorkloadSpec s1 = s1_spec(24);
  const InitialState a = initial_state(s1, 7), b = initial_state(s1, 7), c = initial_state(s1, 8);
  ASSERT_EQ(a.positions.size(), 3 * s1.num_particles);
  EXPECT_EQ(a.positions, b.positions);
  EXPECT_NE(a.positions, c.positions);
  for (double x : a.positions) {
    EXPECT_GE(x, 0.15);
    EXPECT_LT(x, 0.55);
  }

  const WorkloadSpec s2 = s2_spec(1);
  const InitialState st = initial_state(s2, 1);
  int count[3] = {0, 0, 0};
  for (std::size_t i = 0; i < s2.num_particles; ++i) {
    const int g = st.material_of[i];
    ASSERT_TRUE(g >= 0 && g < 3);
    ++count[g];
    const double x = st.positions[2 * i], y = st.positions[2 * i + 1];
    EXPECT_GE(x, 0.3 + 0.1 * g);
    EXPECT_LT(x, 0.5 + 0.1 * g);
    EXPECT_GE(y, 0.05 + 0.32 * g);
    EXPECT_LT(y, 0.25 + 0.32 * g);
  }
  EXPECT_EQ(count[0], 3000);
  EXPECT_EQ(count[1], 3000);
  EXPECT_EQ(count[2], 3000);
}

void expect_finite_and_inside(const std::vector<float>& xs, double lo, double hi) {
  for (float x : xs) {
    ASSERT_TRUE(std::isfinite(x));
    EXPECT_GT(x, lo);
    EXPECT_LT(x, hi);
  }
}

TEST(BenchWorkloads, S1TinyRunsOneFrame) {
  const WorkloadSpec spec = s1_spec(24);
  const auto w = make_workload(spec, 42);
  EXPECT_EQ(w->num_particles(), 24u * 24u * 24u / 4u);
  const std::vector<float> x0 = w->positions_f32();
  ASSERT_NO_THROW(w->step_frames(1));
  const std::vector<float> x1 = w->positions_f32();
  ASSERT_EQ(x1.size(), 3 * w->num_particles());
  expect_finite_and_inside(x1, 0.0, 1.0);
  // Gravity pulls the block down: the mean height drops.
  double dy = 0;
  for (std::size_t i = 0; i < w->num_particles(); ++i) dy += double(x1[3 * i + 1]) - double(x0[3 * i + 1]);
  EXPECT_LT(dy, 0.0);
}

TEST(BenchWorkloads, S2SmallRunsOneFrame) {
  const WorkloadSpec spec = s2_spec(1);
  const auto w = make_workload(spec, 42);
  ASSERT_EQ(w->num_particles(), 9000u);
  const std::vector<int> m = w->materials();
  EXPECT_EQ(m.front(), 0);
  EXPECT_EQ(m.back(), 2);
  ASSERT_NO_THROW(w->step_frames(1));
  expect_finite_and_inside(w->positions_f32(), 0.0, 1.0);
  expect_finite_and_inside(w->velocities_f32(), -100.0, 100.0);
}

TEST(BenchWorkloads, BytesModelIsPositiveAndConsistent) {
  // 3D float: particle streams 268 B (P2G reads 112, G2P reads 56, G2P writes 100).
  const BytesModel b3 = model_bytes(3, 4, 1000, 4000);
  EXPECT_DOUBLE_EQ(b3.p2g_read, 112);
  EXPECT_DOUBLE_EQ(b3.g2p_read, 56);
  EXPECT_DOUBLE_EQ(b3.g2p_write, 100);
  EXPECT_DOUBLE_EQ(b3.grid_per_node, 44);
  EXPECT_DOUBLE_EQ(b3.grid_per_particle, 44 * 4);
  EXPECT_DOUBLE_EQ(b3.total(), b3.particle_total() + b3.grid_per_particle);

  // S1 has 4 nodes per particle at every size: 268 + 4 * 44 = 444 B.
  for (int n : {24, 32, 64}) {
    const BytesModel b = model_bytes(s1_spec(n));
    EXPECT_DOUBLE_EQ(b.total(), 444.0) << "n_grid " << n;
    EXPECT_GT(b.total(), 200.0);
    EXPECT_LT(b.total(), 1000.0);
  }
  // S2 (2D): 148 B of particle streams + 32 B per node * (128 q)^2 / (9000 q^2).
  for (int q : {1, 2}) {
    const BytesModel b = model_bytes(s2_spec(q));
    EXPECT_DOUBLE_EQ(b.particle_total(), 148.0);
    EXPECT_NEAR(b.total(), 148.0 + 32.0 * 16384.0 / 9000.0, 1e-9);
  }
  // Doubles double every term.
  const BytesModel d3 = model_bytes(3, 8, 1000, 4000);
  EXPECT_GT(d3.total(), 1.8 * b3.total());
  EXPECT_LT(d3.total(), 2.0 * b3.total());
}

TEST(BenchWorkloads, StreamTriadMeasuresSomething) {
  const StreamResult r = stream_triad(std::size_t(4) << 20, 1, 2);
  EXPECT_EQ(r.array_bytes, std::size_t(4) << 20);
  EXPECT_GT(r.bytes_per_second, 1e8);   // > 0.1 GB/s on any machine
  EXPECT_LT(r.bytes_per_second, 1e13);  // < 10 TB/s: the loop was not optimized away
  EXPECT_GE(r.bytes_per_second, r.median_bytes_per_second);
}

TEST(BenchWorkloads, NpyFilesHaveTheDocumentedLayout) {
  const auto dir = std::filesystem::temp_directory_path() / ("pliant_bench_npy_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "x.npy").string();
  write_npy_f32(path, {1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {3, 2});
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(1, 5), "NUMPY");
  const std::size_t header_len = std::size_t((unsigned char)bytes[8]) | (std::size_t((unsigned char)bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos);
  EXPECT_NE(header.find("'shape': (3, 2)"), std::string::npos);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.size(), 10 + header_len + 6 * sizeof(float));
  float last = 0;
  std::memcpy(&last, bytes.data() + bytes.size() - 4, 4);
  EXPECT_EQ(last, 6.f);

  write_npy_i32((dir / "m.npy").string(), {0, 1, 2}, {3});
  std::ifstream in2(dir / "m.npy", std::ios::binary);
  std::string b2((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
  EXPECT_NE(b2.find("'shape': (3,)"), std::string::npos);
  EXPECT_NE(b2.find("'<i4'"), std::string::npos);
  EXPECT_THROW(write_npy_f32(path, {1.f, 2.f}, {3}), std::invalid_argument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pl::bench
