// Every objective term's gradient with respect to particle positions against
// central finite differences (double), in 2D and 3D, on random particle
// states; target files are written in .npy / .ply / .npz like the user's.
// Also: the control-space terms (smoothness) and the values of simple cases.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "engine/core/error.hpp"
#include "engine/optim/objective_terms.hpp"
#include "engine/optim/target_files.hpp"
#include "engine/scene/frame_output.hpp"
#include "engine/scene/npz_writer.hpp"
#include "engine/scene/scene_loader.hpp"

namespace pl::optim {
namespace {

namespace fs = std::filesystem;

/// A scene with two bodies on a 1 m grid (the terms read its grid and body names).
scene::SceneDesc test_scene(int dim) {
  const std::string v = dim == 2 ? "[0.3, 0.3]" : "[0.3, 0.3, 0.3]", w = dim == 2 ? "[0.4, 0.4]" : "[0.4, 0.4, 0.4]",
                    a = dim == 2 ? "[0.5, 0.5]" : "[0.5, 0.5, 0.5]", b = dim == 2 ? "[0.6, 0.6]" : "[0.6, 0.6, 0.6]";
  return scene::parse_scene("version: 1\nsimulation: {dim: " + std::to_string(dim) +
                            ", dt: 1e-3, substeps_per_frame: 1, frames: 4, dx: 0.0625, domain: {size: 1}}\n"
                            "materials: {m: {model: fixed_corotated}}\n"
                            "bodies:\n  a: {material: m, shape: {type: box, lower: " + v + ", upper: " + w + "}}\n"
                            "  b: {material: m, shape: {type: box, lower: " + a + ", upper: " + b + "}}\n");
}

struct State {
  int dim;
  std::vector<double> x, mass;
  std::vector<int> body;
  StateView view(int frame = 4) const { return {dim, mass.size(), x.data(), mass.data(), body.data(), frame}; }
};

State random_state(int dim, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> pos(0.3, 0.7), m(0.5, 1.5);
  State s{dim, {}, {}, {}};
  for (std::size_t i = 0; i < n; ++i) {
    for (int a = 0; a < dim; ++a) s.x.push_back(pos(rng));
    s.mass.push_back(m(rng));
    s.body.push_back(int(i % 2));
  }
  return s;
}

std::string write_npy(const std::string& name, int dim, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> pos(0.35, 0.65);
  std::vector<double> v;
  for (std::size_t i = 0; i < n * std::size_t(dim); ++i) v.push_back(pos(rng));
  const std::string path = (fs::path(::testing::TempDir()) / name).string();
  scene::write_file_atomic(path, scene::encode_npy(scene::npy_float64("x", {n, std::size_t(dim)}, v)));
  return path;
}

/// dvalue/dx by the term vs central differences, every coordinate.
void check_gradient(const ObjectiveTerm& term, State s, double tol = 1e-6) {
  std::vector<double> g(s.x.size(), 0.0);
  const double v0 = term.state_value(s.view(), g.data(), nullptr);
  EXPECT_TRUE(std::isfinite(v0));
  double gmax = 0;
  for (double v : g) gmax = std::max(gmax, std::fabs(v));
  EXPECT_GT(gmax, 0) << term.desc().type << ": zero gradient, the check would be empty";
  const double h = 1e-6;
  for (std::size_t k = 0; k < s.x.size(); ++k) {
    const double x = s.x[k];
    s.x[k] = x + h;
    const double up = term.state_value(s.view(), nullptr, nullptr);
    s.x[k] = x - h;
    const double down = term.state_value(s.view(), nullptr, nullptr);
    s.x[k] = x;
    const double fd = (up - down) / (2 * h);
    EXPECT_NEAR(g[k], fd, tol * std::max(1.0, gmax)) << term.desc().type << " coordinate " << k;
  }
}

scene::ObjectiveTermDesc term(const std::string& type, int body = 0) {
  scene::ObjectiveTermDesc d;
  d.name = type;
  d.type = type;
  d.body_index = body;
  d.frames = {4};
  d.loc = "test";
  return d;
}

class OptimTerms : public ::testing::TestWithParam<int> {};

TEST_P(OptimTerms, CentreOfMass) {
  const int dim = GetParam();
  const auto sc = test_scene(dim);
  const ControlLayout layout({});
  auto d = term("com");
  d.target = {0.2, 0.8, 0.5};
  State s = random_state(dim, 10, 1);
  check_gradient(*make_term(d, sc, layout), s);
  // Value: all particles of body 0 at one point -> the squared distance.
  for (std::size_t i = 0; i < s.mass.size(); ++i)
    for (int a = 0; a < dim; ++a) s.x[i * std::size_t(dim) + std::size_t(a)] = 0.5;
  double metric = 0;
  const double v = make_term(d, sc, layout)->state_value(s.view(), nullptr, &metric);
  const double expected = 0.09 + 0.09 + (dim == 3 ? 0.0 : 0.0);
  EXPECT_NEAR(v, expected, 1e-12);
  EXPECT_NEAR(metric, std::sqrt(expected), 1e-12);
}

TEST_P(OptimTerms, MassInRegion) {
  const int dim = GetParam();
  const auto sc = test_scene(dim);
  auto d = term("mass_in_region", -1);
  d.lower = {0.4, 0.35, 0.4};
  d.upper = {0.6, 0.65, 0.7};
  d.softness = 0.03;
  check_gradient(*make_term(d, sc, ControlLayout({})), random_state(dim, 12, 2));
  // Deep inside a wide box: the fraction is ~1, the loss ~0, the hard metric exactly 1.
  State s = random_state(dim, 12, 3);
  d.lower = {-5, -5, -5};
  d.upper = {5, 5, 5};
  double metric = 0;
  EXPECT_NEAR(make_term(d, sc, ControlLayout({}))->state_value(s.view(), nullptr, &metric), 0.0, 1e-6);
  EXPECT_EQ(metric, 1.0);
}

TEST_P(OptimTerms, ChamferFromNpyAndPly) {
  const int dim = GetParam();
  const auto sc = test_scene(dim);
  auto d = term("chamfer");
  d.resolved_file = d.file = write_npy("chamfer_target_" + std::to_string(dim) + ".npy", dim, 9, 4);
  const auto t = make_term(d, sc, ControlLayout({}));
  check_gradient(*t, random_state(dim, 14, 5));
  // The same points as a (binary) PLY: the same value.
  const auto pts = read_point_cloud(d.resolved_file, dim, "test");
  ParticleSet<double, 3> ps;
  for (std::size_t i = 0; i < pts.size() / std::size_t(dim); ++i) {
    Vec<double, 3> x = Vec<double, 3>::zero();
    for (int a = 0; a < dim; ++a) x[a] = pts[i * std::size_t(dim) + std::size_t(a)];
    ps.x.push_back(x);
    ps.v.push_back(Vec<double, 3>::zero());
    ps.material.push_back(0);
    ps.body.push_back(0);
  }
  auto dp = d;
  dp.resolved_file = (fs::path(::testing::TempDir()) / ("chamfer_target_" + std::to_string(dim) + ".ply")).string();
  scene::write_file_atomic(dp.resolved_file, scene::encode_ply(ps));
  const State s = random_state(dim, 14, 5);
  EXPECT_NEAR(make_term(dp, sc, ControlLayout({}))->state_value(s.view(), nullptr, nullptr),
              t->state_value(s.view(), nullptr, nullptr), 1e-6);  // PLY stores float32
  // Zero when the body's particles are the target points.
  State same{dim, pts, std::vector<double>(pts.size() / std::size_t(dim), 1.0), std::vector<int>(pts.size() / std::size_t(dim), 0)};
  EXPECT_NEAR(t->state_value(same.view(), nullptr, nullptr), 0.0, 1e-20);
}

TEST_P(OptimTerms, GridDensityL2AndL1) {
  const int dim = GetParam();
  const auto sc = test_scene(dim);
  for (const std::string norm : {"l2", "l1"}) {
    auto d = term("density");
    d.norm = norm;
    d.resolved_file = d.file = write_npy("density_target_" + std::to_string(dim) + ".npy", dim, 20, 6);
    check_gradient(*make_term(d, sc, ControlLayout({})), random_state(dim, 16, 7), norm == "l1" ? 1e-5 : 1e-6);
  }
}

TEST_P(OptimTerms, ObservedTrajectory) {
  const int dim = GetParam();
  const auto sc = test_scene(dim);
  const std::size_t n = 10;
  State s = random_state(dim, n, 8);
  // An observation with frames 0, 2, 4 (every second frame), as `pliant run` writes.
  std::vector<float> pos;
  for (int f = 0; f < 3; ++f)
    for (double x : random_state(dim, n, 20 + unsigned(f)).x) pos.push_back(float(x));
  const std::string path = (fs::path(::testing::TempDir()) / ("obs_" + std::to_string(dim) + ".npz")).string();
  scene::write_file_atomic(path, scene::encode_npz({scene::npy_float32("positions", {3, n, std::size_t(dim)}, pos),
                                                    scene::npy_int32("frame", {3}, {0, 2, 4})}));
  auto d = term("trajectory", -1);
  d.resolved_file = d.file = path;
  d.frames.clear();  // every frame of the file up to simulation.frames (4): 2 and 4
  const auto t = make_term(d, sc, ControlLayout({}));
  EXPECT_EQ(t->frames(), (std::vector<int>{2, 4}));
  check_gradient(*t, s);
  // Particle count mismatch: an InputError that names the key.
  State wrong = random_state(dim, n + 1, 9);
  try {
    t->state_value(wrong.view(), nullptr, nullptr);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("objective.trajectory.file"), std::string::npos) << e.what();
  }
  // A frame the file lacks.
  d.frames = {3};
  EXPECT_THROW(make_term(d, sc, ControlLayout({})), InputError);
}

INSTANTIATE_TEST_SUITE_P(Dims, OptimTerms, ::testing::Values(2, 3));

TEST(OptimTermsControls, SmoothnessGradient) {
  scene::ControlDesc c;
  c.name = "push";
  c.kind = "actuation";
  c.segments = 4;
  c.init.assign(8, 0.0), c.lower.assign(8, -10.0), c.upper.assign(8, 10.0);
  scene::ControlDesc v;
  v.name = "v";
  v.kind = "initial_velocity";
  v.init.assign(2, 0.0), v.lower.assign(2, -1.0), v.upper.assign(2, 1.0);
  const ControlLayout layout({v, c});
  auto d = term("smoothness", -1);
  d.control_index = 1;
  const auto t = make_term(d, test_scene(2), layout);
  EXPECT_TRUE(t->frames().empty());
  std::vector<double> p = {0.3, -0.2, 1, 2, 3, 2, 3, 5, -1, 0};
  std::vector<double> g(p.size(), 0.0);
  const double v0 = t->control_value(p, g.data());
  EXPECT_DOUBLE_EQ(v0, (4 + 0) + (0 + 9) + (16 + 25));  // (3-1)^2+(2-2)^2, (3-3)^2+(5-2)^2, (-1-3)^2+(0-5)^2
  EXPECT_EQ(g[0], 0.0);  // the velocity control is not part of it
  for (std::size_t k = 0; k < p.size(); ++k) {
    auto up = p, down = p;
    up[k] += 1e-6, down[k] -= 1e-6;
    EXPECT_NEAR(g[k], (t->control_value(up, nullptr) - t->control_value(down, nullptr)) / 2e-6, 1e-5) << k;
  }
}

TEST(OptimTargetFiles, RefusesBadFilesWithTheirName) {
  const std::string bad = (fs::path(::testing::TempDir()) / "not_a.npy").string();
  scene::write_file_atomic(bad, "hello");
  try {
    read_point_cloud(bad, 2, "scene.yaml: objective.shape.file");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("objective.shape.file"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("not_a.npy"), std::string::npos);
  }
  const std::string wrong_shape = (fs::path(::testing::TempDir()) / "wrong_shape.npy").string();
  scene::write_file_atomic(wrong_shape, scene::encode_npy(scene::npy_float64("x", {4}, {1, 2, 3, 4})));
  EXPECT_THROW(read_point_cloud(wrong_shape, 2, "k"), InputError);
}

}  // namespace
}  // namespace pl::optim
