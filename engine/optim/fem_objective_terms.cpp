#include "engine/optim/fem_objective_terms.hpp"

#include <cmath>

#include "engine/core/error.hpp"
#include "engine/fem/shell_terms.hpp"
#include "engine/optim/target_files.hpp"
#include "engine/scene/fem_loader.hpp"
#include "kernels/fem/dihedral_angle.hpp"

namespace pl::optim {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::string where(const scene::ObjectiveTermDesc& d, const std::string& key = "") {
  return d.loc + ": objective." + d.name + (key.empty() ? "" : "." + key);
}

bool inside(const scene::ObjectiveTermDesc& d, const double* x) {
  for (std::size_t a = 0; a < 3; ++a)
    if (x[a] < d.region_lower[a] || x[a] > d.region_upper[a]) return false;
  return true;
}

/// The body's vertices (world indices) whose rest positions lie in the term's region.
std::vector<int> region_vertices(const scene::ObjectiveTermDesc& d, const scene::FemSceneRun<double>& run,
                                 int num_bodies) {
  const auto& w = run.world();
  const int first = run.first_vertex(d.fem_body_index);
  const int end = d.fem_body_index + 1 < num_bodies ? run.first_vertex(d.fem_body_index + 1) : w.num_vertices();
  std::vector<int> out;
  for (int v = first; v < end; ++v)
    if (inside(d, &w.rest_positions()[std::size_t(3 * v)])) out.push_back(v);
  return out;
}

class FemVerticesTerm final : public FemObjectiveTerm {
 public:
  FemVerticesTerm(const scene::ObjectiveTermDesc& d, const scene::SceneDesc& scene) : FemObjectiveTerm(d) {
    const scene::FemSceneRun<double> run(scene);
    vertices_ = region_vertices(d, run, int(scene.fem.bodies.size()));
    if (vertices_.empty())
      throw InputError(where(d, "region") + ": selects no vertex of FEM body '" + d.body +
                       "' (no rest position lies in the box)");
    if (d.resolved_file.empty()) {
      for (std::size_t k = 0; k < vertices_.size(); ++k) target_.insert(target_.end(), d.target.begin(), d.target.end());
    } else {
      target_ = read_point_cloud(d.resolved_file, 3, where(d, "file"));
      if (target_.size() != 3 * vertices_.size())
        throw InputError(where(d, "file") + ": '" + d.file + "' has " + std::to_string(target_.size() / 3) +
                         " points; expected one per selected vertex (" + std::to_string(vertices_.size()) +
                         ", in vertex order)");
    }
  }
  std::string metric_name() const override { return "distance_mm"; }
  double fem_value(const FemStateView& s, double* g, double* metric) const override {
    const double n = double(vertices_.size());
    double v = 0;
    for (std::size_t k = 0; k < vertices_.size(); ++k)
      for (std::size_t a = 0; a < 3; ++a) {
        const std::size_t i = 3 * std::size_t(vertices_[k]) + a;
        const double r = s.x[i] - target_[3 * k + a];
        v += r * r / n;
        if (g) g[i] += 2 * r / n;
      }
    if (metric) *metric = 1e3 * std::sqrt(v);
    return v;
  }

 private:
  std::vector<int> vertices_;
  std::vector<double> target_;  // 3 per selected vertex
};

class FemCreaseTerm final : public FemObjectiveTerm {
 public:
  FemCreaseTerm(const scene::ObjectiveTermDesc& d, const scene::SceneDesc& scene) : FemObjectiveTerm(d) {
    if (!scene.fem.bodies[std::size_t(d.fem_body_index)].shell)
      throw InputError(where(d, "body") + ": FEM body '" + d.body + "' is not a shell (kind: shell); a crease needs hinges");
    const scene::FemSceneRun<double> run(scene);
    const auto& w = run.world();
    for (const auto& t : w.terms()) {
      const auto* h = dynamic_cast<const fem::HingeTerm<double>*>(t.get());
      if (!h || h->name() != "hinges '" + d.body + "'") continue;
      for (const auto& hv : h->hinges())
        if (inside(d, &w.rest_positions()[std::size_t(3 * hv[0])]) && inside(d, &w.rest_positions()[std::size_t(3 * hv[1])]))
          hinges_.push_back(hv);
    }
    if (hinges_.empty())
      throw InputError(where(d, "region") + ": selects no hinge of shell '" + d.body +
                       "' (no interior edge has both vertices' rest positions in the box)");
    target_ = d.angle_deg * kPi / 180;
  }
  std::string metric_name() const override { return "angle_deg"; }
  double fem_value(const FemStateView& s, double* g, double* metric) const override {
    const double n = double(hinges_.size());
    double v = 0, mean = 0;
    for (const auto& hv : hinges_) {
      fem::V3<double> x[4];
      for (int j = 0; j < 4; ++j)
        for (int a = 0; a < 3; ++a) x[j][a] = s.x[3 * std::size_t(hv[std::size_t(j)]) + std::size_t(a)];
      const double theta = fem::dihedral_angle(x);
      const double r = theta - target_;
      v += r * r / n;
      mean += theta / n;
      if (!g || fem::hinge_is_degenerate(x)) continue;
      fem::V3<double> dtheta[4];
      fem::dihedral_angle_gradient(x, dtheta);
      for (int j = 0; j < 4; ++j)
        for (int a = 0; a < 3; ++a) g[3 * std::size_t(hv[std::size_t(j)]) + std::size_t(a)] += 2 * r / n * dtheta[j][a];
    }
    if (metric) *metric = mean * 180 / kPi;
    return v;
  }

 private:
  std::vector<fem::HingeVertices> hinges_;  // world vertex indices
  double target_ = 0;                       // rad
};

}  // namespace

std::unique_ptr<ObjectiveTerm> make_fem_term(const scene::ObjectiveTermDesc& d, const scene::SceneDesc& scene) {
  if (!scene.fem.enabled || d.fem_body_index < 0 || d.fem_body_index >= int(scene.fem.bodies.size()))
    throw InputError(where(d, "body") + ": the scene has no FEM body '" + d.body + "'");
  if (d.type == "fem_vertices") return std::make_unique<FemVerticesTerm>(d, scene);
  if (d.type == "fem_crease") return std::make_unique<FemCreaseTerm>(d, scene);
  throw InputError(where(d, "type") + ": unknown FEM objective term type '" + d.type + "'");
}

}  // namespace pl::optim
