// S3 of /work/shared/BENCHMARKS.md: a diffmpm-style differentiable soft robot,
// run forward and forward+backward through Pliant's checkpointed rollout, with
// the loss and gradient the peer harness compares against Taichi's autodiff
// of the same model (tools/peers/peer_taichi.py, s3()).
//
// The model (the same in both engines, float32):
//  * grid n_grid^D nodes at i dx, dx = 1 / n_grid; 2D: 128^2, dt 1e-3, 1024
//    steps, 2,976 particles; 3D: 64^3, dt 2e-3, 512 steps, 30,495 particles
//    (diffmpm.py / diffmpm3d.py sizes);
//  * MLS-MPM (Hu et al. 2018) with quadratic B-splines; F advanced in G2P as
//    F <- (I + dt C) F (the same sequence of F as diffmpm's update in P2G);
//  * fixed corotated elasticity, tau = 2 mu (F - R) F^T + lambda (J - 1) J I
//    (Stomakhin et al. 2012), mu = lambda = 10 (diffmpm's E = 10 used for both;
//    here E = 25, nu = 0.25), particle volume 1, density 1 (diffmpm's p_vol,
//    p_mass);
//  * gravity 3.8 along -y; sticky floor (nodes j < 3: v = 0); other walls
//    (3 nodes) remove the inward normal component;
//  * the robot: a block [0.3, 0.6] x [3.5 dx, 3.5 dx + 0.2] (x [0.4, 0.6] in
//    3D), particles uniform random (SplitMix64), in four actuation groups by
//    quarters of its x extent;
//  * actuation: the force m_p theta[s, g_p] along +x on each particle in substep
//    s (added to the P2G momentum as dt f), theta[s, g] = 5 sin(2 pi s / 50 +
//    g pi / 2), written once to S3_<size>_actuation.npy and read by every engine;
//  * loss L = mean over particles of x_T[0] at the last step T; compared
//    gradient: dL/dtheta (steps x 4) = sum over group g of m_p dL/df_p,x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/diff/mpm_rollout.hpp"
#include "tools/bench/workloads.hpp"

namespace pl::bench {

struct S3Spec {
  std::string size;  // "2d" | "3d"
  int dim = 2;
  int n_grid = 128;
  double dx = 1.0 / 128;
  std::size_t num_particles = 2976;
  double dt = 1e-3;
  int steps = 1024;
  double gravity = 3.8;
  double E = 25.0, nu = 0.25;  // Lame mu = lambda = 10
  double particle_volume = 1.0, density = 1.0;
  int groups = 4;
  double amplitude = 5.0, period_steps = 50.0;

  WorkloadSpec as_workload() const;  // workload "S3", for file names and labels
};

/// "2d" or "3d" (diffmpm / diffmpm3d sizes).
S3Spec s3_spec(const std::string& size);
/// The robot's particles and actuation groups (seeded).
InitialState s3_initial_state(const S3Spec& spec, std::uint64_t seed);
/// theta[s * groups + g], float32, s < steps.
std::vector<float> s3_actuation(const S3Spec& spec, int steps);

struct S3Result {
  std::size_t particles = 0;
  int steps = 0;
  double loss = 0;                  // after the last forward+backward
  std::vector<double> grad_theta;   // steps x groups
  std::vector<double> t_forward;    // seconds per repetition (plain stepping, no checkpoints)
  std::vector<double> t_forward_backward;  // checkpointed forward + backward
  // Process CPU seconds (all threads) of the same repetitions: on a shared
  // machine the steadier measure of the work done (wall time includes waiting).
  std::vector<double> cpu_forward, cpu_forward_backward;
  RolloutReport report;
};

/// Runs one untimed forward+backward (which gives loss and grad_theta), then
/// `reps` timed repetitions of forward and of forward+backward (none when reps
/// is 0).  checkpoint_bytes 0: the rollout's default budget.  The benchmark
/// runs float32; double_precision is for the finite-difference test of the
/// gradient (tests/tools/test_bench_diffmpm.cpp).
S3Result run_s3(const S3Spec& spec, const InitialState& state, const std::vector<float>& theta, int steps, int reps,
                std::size_t checkpoint_bytes, bool double_precision = false);

}  // namespace pl::bench
