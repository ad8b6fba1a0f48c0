#include "engine/optim/objective_terms.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "engine/core/error.hpp"
#include "engine/optim/target_files.hpp"
#include "engine/optim/tool_force_term.hpp"  // issue 6
#include "engine/optim/fem_objective_terms.hpp"  // issue 7 (opt_fold)

namespace pl::optim {

namespace {

std::string where(const scene::ObjectiveTermDesc& d, const std::string& key = "") {
  return d.loc + ": objective." + d.name + (key.empty() ? "" : "." + key);
}

/// Centre of mass to a target:  value = |c - t|^2 [m^2],  c = sum m_p x_p / M,
/// dvalue/dx_p = 2 (c - t) m_p / M.
class ComTerm final : public ObjectiveTerm {
 public:
  using ObjectiveTerm::ObjectiveTerm;
  std::string metric_name() const override { return "distance_m"; }
  double state_value(const StateView& s, double* g, double* metric) const override {
    const int D = s.dim;
    double M = 0, c[3] = {0, 0, 0};
    for (std::size_t i = 0; i < s.n; ++i) {
      if (!selects(s, i)) continue;
      M += s.mass[i];
      for (int a = 0; a < D; ++a) c[a] += s.mass[i] * s.x[i * std::size_t(D) + std::size_t(a)];
    }
    double v = 0, r[3] = {0, 0, 0};
    for (int a = 0; a < D; ++a) {
      r[a] = c[a] / M - desc_.target[std::size_t(a)];
      v += r[a] * r[a];
    }
    if (metric) *metric = std::sqrt(v);
    if (g)
      for (std::size_t i = 0; i < s.n; ++i)
        if (selects(s, i))
          for (int a = 0; a < D; ++a) g[i * std::size_t(D) + std::size_t(a)] += 2 * r[a] * s.mass[i] / M;
    return v;
  }
};

/// 1 - (fraction of the body's mass inside a box), with a smooth indicator so
/// that the fraction has a useful gradient:
///   s(x) = prod_a sigma((x_a - lo_a) / w) sigma((hi_a - x_a) / w),  sigma(z) = 1 / (1 + e^-z)
///   value = 1 - sum_p m_p s(x_p) / M
///   d ln s / dx_a = (1 - sigma(z_lo)) / w - (1 - sigma(z_hi)) / w
/// The metric is the hard fraction (a particle counts when inside the box).
class MassInRegionTerm final : public ObjectiveTerm {
 public:
  using ObjectiveTerm::ObjectiveTerm;
  std::string metric_name() const override { return "fraction_inside"; }
  double state_value(const StateView& s, double* g, double* metric) const override {
    const int D = s.dim;
    const double w = desc_.softness;
    const auto sigma = [](double z) { return 1 / (1 + std::exp(-z)); };
    double M = 0, soft = 0, hard = 0;
    for (std::size_t i = 0; i < s.n; ++i)
      if (selects(s, i)) M += s.mass[i];
    for (std::size_t i = 0; i < s.n; ++i) {
      if (!selects(s, i)) continue;
      double si = 1, dlog[3] = {0, 0, 0};
      bool inside = true;
      for (int a = 0; a < D; ++a) {
        const double x = s.x[i * std::size_t(D) + std::size_t(a)];
        const double lo = desc_.lower[std::size_t(a)], hi = desc_.upper[std::size_t(a)];
        const double s1 = sigma((x - lo) / w), s2 = sigma((hi - x) / w);
        si *= s1 * s2;
        dlog[a] = (1 - s1) / w - (1 - s2) / w;
        inside = inside && x >= lo && x <= hi;
      }
      soft += s.mass[i] * si;
      if (inside) hard += s.mass[i];
      if (g)
        for (int a = 0; a < D; ++a) g[i * std::size_t(D) + std::size_t(a)] -= s.mass[i] / M * si * dlog[a];
    }
    if (metric) *metric = hard / M;
    return 1 - soft / M;
  }
};

/// Symmetric Chamfer distance between the body's particles X (N) and target points Y (M) [m^2]:
///   value = 1/N sum_i min_j |x_i - y_j|^2 + 1/M sum_j min_i |x_i - y_j|^2
/// (Fan et al. 2017, eq. 1, averaged).  Its gradient holds wherever the nearest
/// neighbours are unique: 2 (x_i - y_j(i)) / N for each i, plus 2 (x_i(j) - y_j) / M
/// added to the particle nearest to each y_j.  Brute force O(N M): the targets
/// here are a few thousand points.
class ChamferTerm final : public ObjectiveTerm {
 public:
  ChamferTerm(const scene::ObjectiveTermDesc& d, int dim) : ObjectiveTerm(d) {
    target_ = read_point_cloud(d.resolved_file, dim, where(d, "file"));
  }
  std::string metric_name() const override { return "chamfer_m2"; }
  double state_value(const StateView& s, double* g, double* metric) const override {
    const std::size_t D = std::size_t(s.dim), M = target_.size() / D;
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < s.n; ++i)
      if (selects(s, i)) idx.push_back(i);
    const std::size_t N = idx.size();
    std::vector<double> best_t(M, std::numeric_limits<double>::infinity());
    std::vector<std::size_t> arg_t(M, 0);
    double v = 0;
    for (std::size_t k = 0; k < N; ++k) {
      const double* x = s.x + idx[k] * D;
      double best = std::numeric_limits<double>::infinity();
      std::size_t arg = 0;
      for (std::size_t j = 0; j < M; ++j) {
        const double* y = target_.data() + j * D;
        double d2 = 0;
        for (std::size_t a = 0; a < D; ++a) d2 += (x[a] - y[a]) * (x[a] - y[a]);
        if (d2 < best) best = d2, arg = j;
        if (d2 < best_t[j]) best_t[j] = d2, arg_t[j] = k;
      }
      v += best / double(N);
      if (g)
        for (std::size_t a = 0; a < D; ++a) g[idx[k] * D + a] += 2 * (x[a] - target_[arg * D + a]) / double(N);
    }
    for (std::size_t j = 0; j < M; ++j) {
      v += best_t[j] / double(M);
      if (g)
        for (std::size_t a = 0; a < D; ++a)
          g[idx[arg_t[j]] * D + a] += 2 * (s.x[idx[arg_t[j]] * D + a] - target_[j * D + a]) / double(M);
    }
    if (metric) *metric = v;
    return v;
  }

 private:
  std::vector<double> target_;
};

/// Grid density against a target's: both are normalized mass distributions on
/// the simulation grid, spread with the quadratic B-spline of the MPM transfers
/// (course notes, Jiang et al. 2016, eq. 123):
///   g_i = sum_p (m_p / M) w_ip,   h_i = sum_j w_ij / M_target
///   value = sum_i (g_i - h_i)^2   (l2)   or   sum_i |g_i - h_i|   (l1)
///   dvalue/dx_p = sum_i dvalue/dg_i (m_p / M) grad w_ip
/// (the PlasticineLab / FluidLab shape losses).  Both lie in [0, 2] for l1.
class DensityTerm final : public ObjectiveTerm {
 public:
  DensityTerm(const scene::ObjectiveTermDesc& d, const scene::SceneDesc& scene) : ObjectiveTerm(d), sim_(scene.simulation) {
    const std::vector<double> pts = read_point_cloud(d.resolved_file, sim_.dim, where(d, "file"));
    const std::size_t n = pts.size() / std::size_t(sim_.dim);
    for (std::size_t j = 0; j < n; ++j)
      splat(pts.data() + j * std::size_t(sim_.dim), 1.0 / double(n), target_);
  }
  std::string metric_name() const override { return desc_.norm == "l1" ? "density_l1" : "density_l2"; }
  double state_value(const StateView& s, double* g, double* metric) const override {
    double M = 0;
    for (std::size_t i = 0; i < s.n; ++i)
      if (selects(s, i)) M += s.mass[i];
    Grid grid;
    for (std::size_t i = 0; i < s.n; ++i)
      if (selects(s, i)) splat(s.x + i * std::size_t(s.dim), s.mass[i] / M, grid);
    // dvalue/dg over every node either distribution touches.
    Grid dvdg;
    double v = 0;
    const auto add = [&](long node, double gi, double hi) {
      const double r = gi - hi;
      if (desc_.norm == "l1") {
        v += std::fabs(r);
        dvdg[node] = r > 0 ? 1.0 : (r < 0 ? -1.0 : 0.0);
      } else {
        v += r * r;
        dvdg[node] = 2 * r;
      }
    };
    for (const auto& [node, gi] : grid) {
      const auto t = target_.find(node);
      add(node, gi, t == target_.end() ? 0.0 : t->second);
    }
    for (const auto& [node, hi] : target_)
      if (!grid.count(node)) add(node, 0.0, hi);
    if (g)
      for (std::size_t i = 0; i < s.n; ++i)
        if (selects(s, i)) splat_gradient(s.x + i * std::size_t(s.dim), s.mass[i] / M, dvdg, g + i * std::size_t(s.dim));
    if (metric) *metric = v;
    return v;
  }

 private:
  using Grid = std::unordered_map<long, double>;

  /// Calls f(node key, w_i, grad w_i) over the 3^dim stencil of the point x.
  template <class F>
  void for_stencil(const double* x, F&& f) const {
    const int D = sim_.dim;
    int base[3] = {0, 0, 0};
    double w[3][3] = {}, dw[3][3] = {};
    for (int a = 0; a < D; ++a) {
      const double xg = (x[a] - sim_.origin[std::size_t(a)]) / sim_.dx;
      base[a] = int(std::floor(xg - 0.5));
      const double fx = xg - base[a];
      w[a][0] = 0.5 * (1.5 - fx) * (1.5 - fx), dw[a][0] = (fx - 1.5) / sim_.dx;
      w[a][1] = 0.75 - (fx - 1) * (fx - 1), dw[a][1] = -2 * (fx - 1) / sim_.dx;
      w[a][2] = 0.5 * (fx - 0.5) * (fx - 0.5), dw[a][2] = (fx - 0.5) / sim_.dx;
    }
    // Node keys; nodes may lie up to 2 cells outside the grid for a point near
    // its edge, and the padding of 5 keeps their keys distinct.
    const long n1 = sim_.cells[1] + 5, n2 = D == 3 ? sim_.cells[2] + 5 : 1;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < (D == 3 ? 3 : 1); ++k) {
          const int off[3] = {i, j, k};
          const long node = ((long(base[0] + i + 2) * n1) + long(base[1] + j + 2)) * n2 + (D == 3 ? long(base[2] + k + 2) : 0);
          double wi = 1, gw[3] = {0, 0, 0};
          for (int a = 0; a < D; ++a) wi *= w[a][off[a]];
          for (int a = 0; a < D; ++a) {
            gw[a] = dw[a][off[a]];
            for (int b = 0; b < D; ++b)
              if (b != a) gw[a] *= w[b][off[b]];
          }
          f(node, wi, gw);
        }
  }
  void splat(const double* x, double weight, Grid& grid) const {
    for_stencil(x, [&](long node, double wi, const double*) { grid[node] += weight * wi; });
  }
  /// grad += weight * sum_i dvdg[i] grad w_i
  void splat_gradient(const double* x, double weight, const Grid& dvdg, double* grad) const {
    for_stencil(x, [&](long node, double, const double* gw) {
      const auto it = dvdg.find(node);
      if (it == dvdg.end()) return;
      for (int a = 0; a < sim_.dim; ++a) grad[a] += it->second * weight * gw[a];
    });
  }

  scene::SimulationDesc sim_;
  Grid target_;
};

/// Observed trajectory (system identification): at each frame
///   value = 1/N sum_p |x_p - x_p^obs|^2 [m^2],  dvalue/dx_p = 2 (x_p - x_p^obs) / N;
/// the metric is the RMS distance [m].  The observation must come from the same
/// scene layout (same particles in the same order): `pliant run` with
/// output.format: npz writes one.
class TrajectoryTerm final : public ObjectiveTerm {
 public:
  TrajectoryTerm(const scene::ObjectiveTermDesc& d, const scene::SceneDesc& scene) : ObjectiveTerm(d) {
    obs_ = read_trajectory(d.resolved_file, scene.simulation.dim, where(d, "file"));
    for (std::size_t k = 0; k < obs_.frames.size(); ++k) index_[obs_.frames[k]] = k;
    if (desc_.frames.empty()) {
      for (int f : obs_.frames)
        if (f >= 1 && f <= scene.simulation.frames) desc_.frames.push_back(f);
      if (desc_.frames.empty())
        throw InputError(where(d, "file") + ": '" + d.file + "' holds no frame in 1.." +
                         std::to_string(scene.simulation.frames) + " to compare with");
    }
    for (int f : desc_.frames)
      if (!index_.count(f))
        throw InputError(where(d, "frames") + ": frame " + std::to_string(f) + " is not in '" + d.file +
                         "' (it was written every output.every_n_frames frames)");
  }
  std::string metric_name() const override { return "rms_m"; }
  double state_value(const StateView& s, double* g, double* metric) const override {
    if (s.n != obs_.particles)
      throw InputError(where(desc_, "file") + ": '" + desc_.file + "' has " + std::to_string(obs_.particles) +
                       " particles, the scene " + std::to_string(s.n) + "; the observation must come from the same bodies");
    const std::vector<double>& o = obs_.positions[index_.at(s.frame)];
    const std::size_t D = std::size_t(s.dim);
    double v = 0;
    for (std::size_t i = 0; i < s.n * D; ++i) {
      const double r = s.x[i] - o[i];
      v += r * r / double(s.n);
      if (g) g[i] += 2 * r / double(s.n);
    }
    if (metric) *metric = std::sqrt(v);
    return v;
  }

 private:
  ObservedTrajectory obs_;
  std::map<int, std::size_t> index_;
};

/// Action smoothness of an actuation control a_k (k = 0..S-1, one force per piece):
///   value = sum_k |a_{k+1} - a_k|^2 [N^2],  dvalue/da_k = 2 (a_k - a_{k-1}) - 2 (a_{k+1} - a_k)
class SmoothnessTerm final : public ObjectiveTerm {
 public:
  SmoothnessTerm(const scene::ObjectiveTermDesc& d, const scene::SceneDesc& scene, const ControlLayout& layout)
      : ObjectiveTerm(d), offset_(layout.offset(d.control_index)), dim_(scene.simulation.dim),
        segments_(layout.controls()[std::size_t(d.control_index)].segments) {}
  std::vector<int> frames() const override { return {}; }
  double control_value(const std::vector<double>& p, double* g) const override {
    double v = 0;
    for (int k = 0; k + 1 < segments_; ++k)
      for (int a = 0; a < dim_; ++a) {
        const std::size_t i0 = std::size_t(offset_ + k * dim_ + a), i1 = i0 + std::size_t(dim_);
        const double r = p[i1] - p[i0];
        v += r * r;
        if (g) g[i1] += 2 * r, g[i0] -= 2 * r;
      }
    return v;
  }

 private:
  int offset_, dim_, segments_;
};

}  // namespace

std::unique_ptr<ObjectiveTerm> make_term(const scene::ObjectiveTermDesc& d, const scene::SceneDesc& scene,
                                         const ControlLayout& layout) {
  if (d.type == "com") return std::make_unique<ComTerm>(d);
  if (d.type == "mass_in_region") return std::make_unique<MassInRegionTerm>(d);
  if (d.type == "chamfer") return std::make_unique<ChamferTerm>(d, scene.simulation.dim);
  if (d.type == "density") return std::make_unique<DensityTerm>(d, scene);
  if (d.type == "trajectory") return std::make_unique<TrajectoryTerm>(d, scene);
  if (d.type == "smoothness") return std::make_unique<SmoothnessTerm>(d, scene, layout);
  if (d.type == "tool_force") return make_tool_force_term(d, scene);  // issue 6: tool_force_term.cpp
  if (d.type.rfind("fem_", 0) == 0) return make_fem_term(d, scene);  // issue 7 (opt_fold): fem_objective_terms.cpp
  throw InputError(where(d, "type") + ": unknown objective term type '" + d.type + "'");
}

}  // namespace pl::optim
