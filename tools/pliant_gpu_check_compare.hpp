// How pliant_gpu_check decides that two runs of the same workload agree.
//
// Two backends never give bit-identical float results: the GPU's atomics add
// in schedule order, the CPU sums per-thread grids in thread order, and the
// fast path visits particles block by block.  Each substep's round-off then
// grows through the dynamics.  Over the short horizons the check runs
// (one frame of S1 / S2, tens of S3 steps) that growth stays far below the
// tolerances here, while a real difference in the physics (a wrong weight, a
// lost contribution, a particle skipped) moves particles by a sizable
// fraction of a cell or changes velocities by percent.  The negative control
// in pliant_gpu_check (gravity changed by 1 %) shows the check notices a
// difference ten times below that.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace pl::gpu_check {

/// Final particle state of one run, particle-major (x0 y0 [z0] x1 ...), in the
/// order the particles were added (every backend downloads in that order).
struct RunResult {
  int dim = 0;
  double dx = 0;  // grid spacing [m]
  std::vector<double> x, v;
};

struct Tolerance {
  double position_cells = 1e-3;  // max over particles of |x_a - x_b| / dx
  double velocity_rel_rms = 1e-3;  // rms |v_a - v_b| / rms |v_a| (plus velocity_abs)
  double velocity_abs = 1e-6;      // [m/s], for runs that barely move
};

struct Comparison {
  bool pass = false;
  double max_position_cells = 0;
  double velocity_rel_rms = 0;
  std::string why;  // empty when pass
};

inline Comparison compare_runs(const RunResult& a, const RunResult& b, const Tolerance& tol) {
  Comparison c;
  if (a.dim != b.dim || a.x.size() != b.x.size() || a.v.size() != b.v.size() || a.x.size() != a.v.size()) {
    c.why = "different particle counts or dimensions";
    return c;
  }
  if (a.x.empty()) {
    c.why = "no particles";
    return c;
  }
  const std::size_t n = a.x.size() / std::size_t(a.dim);
  double dv2 = 0, v2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double dx2 = 0;
    for (int k = 0; k < a.dim; ++k) {
      const std::size_t j = i * std::size_t(a.dim) + std::size_t(k);
      const double ex = a.x[j] - b.x[j], ev = a.v[j] - b.v[j];
      dx2 += ex * ex;
      dv2 += ev * ev;
      v2 += a.v[j] * a.v[j];
    }
    // A NaN distance becomes +inf: it must stay the maximum (a NaN would be
    // replaced by the next finite distance, since every comparison with it is false).
    double d = std::sqrt(dx2) / a.dx;
    if (std::isnan(d)) d = HUGE_VAL;
    c.max_position_cells = std::max(c.max_position_cells, d);
  }
  const double rms_dv = std::sqrt(dv2 / double(n)), rms_v = std::sqrt(v2 / double(n));
  c.velocity_rel_rms = rms_dv / std::max(rms_v, 1e-300);
  std::ostringstream why;
  if (!(c.max_position_cells <= tol.position_cells))
    why << "positions differ by up to " << c.max_position_cells << " cells (tolerance " << tol.position_cells << ")";
  if (!(rms_dv <= tol.velocity_rel_rms * rms_v + tol.velocity_abs)) {
    if (!why.str().empty()) why << "; ";
    why << "velocities differ by " << c.velocity_rel_rms << " relative rms (tolerance " << tol.velocity_rel_rms
        << ")";
  }
  c.why = why.str();
  c.pass = c.why.empty();
  return c;
}

}  // namespace pl::gpu_check
