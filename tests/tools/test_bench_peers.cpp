// Pieces of the peer benchmark harness that live in C++ (tools/bench): the .npy
// reader that loads the particles shared with Taichi and Warp, the shared
// initial state, and the S3 gradient dL/dtheta that the harness compares with
// Taichi's, checked here against central finite differences in double.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/core/error.hpp"
#include "tools/bench/diffmpm.hpp"
#include "tools/bench/npy_read.hpp"
#include "tools/bench/workloads.hpp"

namespace pl::bench {
namespace {

std::filesystem::path temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("pliant_peers_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

TEST(BenchPeers, NpyRoundTripAndBadFiles) {
  const auto d = temp_dir("npy");
  const std::vector<float> f = {1.5f, -2.25f, 3e-7f, 4e9f, 0.f, -0.f};
  write_npy_f32((d / "f.npy").string(), f, {3, 2});
  const auto rf = read_npy_f32((d / "f.npy").string());
  EXPECT_EQ(rf.shape, (std::vector<std::size_t>{3, 2}));
  EXPECT_EQ(rf.data, f);
  const std::vector<int> i = {7, -1, 2147483647};
  write_npy_i32((d / "i.npy").string(), i, {3});
  const auto ri = read_npy_i32((d / "i.npy").string());
  EXPECT_EQ(ri.shape, (std::vector<std::size_t>{3}));
  EXPECT_EQ(ri.data, i);

  EXPECT_THROW(read_npy_i32((d / "f.npy").string()), InputError);  // wrong dtype
  EXPECT_THROW(read_npy_f32((d / "missing.npy").string()), InputError);
  std::ofstream((d / "text.npy").string()) << "not numpy";
  EXPECT_THROW(read_npy_f32((d / "text.npy").string()), InputError);
  std::filesystem::resize_file(d / "f.npy", std::filesystem::file_size(d / "f.npy") - 4);  // truncated data
  EXPECT_THROW(read_npy_f32((d / "f.npy").string()), InputError);
  std::filesystem::remove_all(d);
}

TEST(BenchPeers, SharedInitialStateLoadsWhatWasSaved) {
  const auto d = temp_dir("state");
  const WorkloadSpec spec = s2_spec(1);
  const InitialState st = initial_state(spec, 3);
  std::vector<float> x(st.positions.begin(), st.positions.end());
  write_npy_f32((d / "S2_q1_x.npy").string(), x, {spec.num_particles, 2});
  write_npy_i32((d / "S2_q1_material.npy").string(), st.material_of, {spec.num_particles});
  const InitialState back = load_initial_state(spec, d.string(), 3);
  ASSERT_EQ(back.positions.size(), st.positions.size());
  for (std::size_t k = 0; k < x.size(); ++k) EXPECT_EQ(back.positions[k], double(x[k]));
  EXPECT_EQ(back.material_of, st.material_of);
  // A workload built from it runs, with the loaded particle count.
  EXPECT_EQ(make_workload(spec, back)->num_particles(), spec.num_particles);

  // Group out of range, wrong particle count: errors naming the file.
  std::vector<int> bad = st.material_of;
  bad[5] = 3;
  write_npy_i32((d / "S2_q1_material.npy").string(), bad, {spec.num_particles});
  try {
    load_initial_state(spec, d.string(), 3);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("S2_q1_material.npy"), std::string::npos) << e.what();
  }
  x.resize(x.size() - 2);
  write_npy_f32((d / "S2_q1_x.npy").string(), x, {spec.num_particles - 1, 2});
  EXPECT_THROW(load_initial_state(spec, d.string(), 3), InputError);
  std::filesystem::remove_all(d);
}

// dL/dtheta of the S3 model (the quantity compared with Taichi) against central
// differences of the loss, in double, on a small robot and a short rollout.
TEST(BenchPeers, S3ActuationGradientMatchesFiniteDifferences) {
  S3Spec spec = s3_spec("2d");
  spec.num_particles = 120;
  const int steps = 12;
  const InitialState st = s3_initial_state(spec, 5);
  const std::vector<float> theta = s3_actuation(spec, steps);
  const S3Result base = run_s3(spec, st, theta, steps, /*reps=*/0, 0, /*double_precision=*/true);
  ASSERT_EQ(base.grad_theta.size(), std::size_t(steps * spec.groups));
  EXPECT_TRUE(base.t_forward.empty());

  const std::pair<int, int> entries[] = {{0, 0}, {5, 2}, {11, 3}, {7, 1}};
  for (const auto& [s, g] : entries) {
    const std::size_t k = std::size_t(s) * spec.groups + g;
    std::vector<float> up = theta, down = theta;
    up[k] += 0.05f;
    down[k] -= 0.05f;
    const double lp = run_s3(spec, st, up, steps, 0, 0, true).loss;
    const double lm = run_s3(spec, st, down, steps, 0, 0, true).loss;
    const double fd = (lp - lm) / (double(up[k]) - double(down[k]));  // the float steps actually taken
    EXPECT_GT(std::abs(base.grad_theta[k]), 0.0) << "step " << s << " group " << g;
    EXPECT_NEAR(base.grad_theta[k], fd, 1e-5 * std::abs(fd) + 1e-12) << "step " << s << " group " << g;
  }
}

TEST(BenchPeers, S3SpecsAndActuation) {
  EXPECT_EQ(s3_spec("2d").num_particles, 2976u);
  EXPECT_EQ(s3_spec("3d").num_particles, 30495u);
  EXPECT_EQ(s3_spec("3d").steps, 512);
  EXPECT_THROW(s3_spec("4d"), InputError);
  const S3Spec spec = s3_spec("2d");
  const InitialState st = s3_initial_state(spec, 42);
  int count[4] = {0, 0, 0, 0};
  for (int g : st.material_of) {
    ASSERT_GE(g, 0);
    ASSERT_LT(g, 4);
    ++count[g];
  }
  for (int c : count) EXPECT_GT(c, 600);  // quarters of a uniform block
  const auto theta = s3_actuation(spec, 100);
  EXPECT_FLOAT_EQ(theta[0 * 4 + 1], 5.0f);                         // sin(pi/2)
  EXPECT_NEAR(theta[25 * 4 + 0], 0.0f, 1e-5f);                     // sin(pi)
  EXPECT_FLOAT_EQ(theta[std::size_t(12.5 * 0) + 4 * 50 + 1], 5.0f);  // period 50 steps
}

}  // namespace
}  // namespace pl::bench
