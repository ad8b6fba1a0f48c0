// TetEnergyTerm (assembly over a small mesh) in double: gradient and Hessian vs
// finite differences at a random large deformation, the Hessian-vector product
// and the EnergyTerm default product vs the assembled Hessian, PSD projection,
// the rest-stiffness parameter VJP vs FD, and parameter validation.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "engine/core/error.hpp"
#include "engine/fem/tet_energy_term.hpp"

namespace pl::fem {
namespace {

struct Fixture {
  TetMesh mesh = make_box_mesh({0, 0, 0}, {0.2, 0.1, 0.1}, {2, 1, 1});
  std::vector<double> x;
  Fixture() {
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> U(-0.02, 0.02);
    for (const auto& p : mesh.vertices) {
      x.push_back(1.3 * p[0] + 0.4 * p[1] + U(rng));
      x.push_back(-0.2 * p[0] + 0.8 * p[1] + U(rng));
      x.push_back(0.1 * p[1] + 1.1 * p[2] + U(rng));
    }
  }
};

Eigen::MatrixXd dense(const std::vector<Eigen::Triplet<double>>& t, int n) {
  Eigen::SparseMatrix<double> S(n, n);
  S.setFromTriplets(t.begin(), t.end());
  return Eigen::MatrixXd(S);
}

// The EnergyTerm default add_hessian_vector (assembled Hessian times u).
class DefaultProduct : public TetEnergyTerm<double> {
 public:
  using TetEnergyTerm<double>::TetEnergyTerm;
  void add_hessian_vector(const double* x, const double* u, double* out) const override {
    EnergyTerm<double>::add_hessian_vector(x, u, out);
  }
};

TEST(TetEnergyTerm, AssembledDerivativesMatchFiniteDifferences) {
  Fixture f;
  for (const char* model : {"stable_neo_hookean", "fixed_corotated", "stvk_hencky"}) {
    SCOPED_TRACE(model);
    const auto mat = materials::make_material("m", model, {{"E", 1e5}, {"nu", 0.4}}, 1000, "test");
    DefaultProduct term("box", f.mesh, 0, mat);
    const int n = int(f.x.size());
    std::vector<double> g(static_cast<std::size_t>(n), 0.0);
    term.add_gradient(f.x.data(), g.data());
    const double h = 1e-7;
    double gmax = 0;
    for (double v : g) gmax = std::max(gmax, std::abs(v));
    for (int i = 0; i < n; ++i) {
      auto xp = f.x, xm = f.x;
      xp[std::size_t(i)] += h;
      xm[std::size_t(i)] -= h;
      EXPECT_NEAR(g[std::size_t(i)], (term.energy(xp.data()) - term.energy(xm.data())) / (2 * h), 1e-6 * gmax);
    }
    std::vector<Eigen::Triplet<double>> trip;
    term.add_hessian(f.x.data(), false, trip);
    const Eigen::MatrixXd H = dense(trip, n);
    const double hmax = H.cwiseAbs().maxCoeff();
    for (int j = 0; j < n; ++j) {
      auto xp = f.x, xm = f.x;
      xp[std::size_t(j)] += h;
      xm[std::size_t(j)] -= h;
      std::vector<double> gp(static_cast<std::size_t>(n), 0.0), gm(static_cast<std::size_t>(n), 0.0);
      term.add_gradient(xp.data(), gp.data());
      term.add_gradient(xm.data(), gm.data());
      for (int i = 0; i < n; ++i) EXPECT_NEAR(H(i, j), (gp[std::size_t(i)] - gm[std::size_t(i)]) / (2 * h), 1e-6 * hmax);
    }
    // Products: the per-element one and the EnergyTerm default.
    const std::size_t nn = static_cast<std::size_t>(n);
    std::vector<double> u(nn), hu(nn, 0.0), hu_default(nn, 0.0);
    for (int i = 0; i < n; ++i) u[std::size_t(i)] = std::sin(1.7 * i);
    term.TetEnergyTerm<double>::add_hessian_vector(f.x.data(), u.data(), hu.data());
    term.add_hessian_vector(f.x.data(), u.data(), hu_default.data());
    const Eigen::VectorXd ref = H * Eigen::Map<Eigen::VectorXd>(u.data(), n);
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(hu[std::size_t(i)], ref(i), 1e-10 * hmax);
      EXPECT_NEAR(hu_default[std::size_t(i)], ref(i), 1e-10 * hmax);
    }
    // PSD projection: no negative eigenvalue, and it changes an indefinite Hessian.
    std::vector<Eigen::Triplet<double>> proj;
    term.add_hessian(f.x.data(), true, proj);
    const Eigen::MatrixXd P = dense(proj, n);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(P), es_h(H);
    EXPECT_GE(es.eigenvalues().minCoeff(), -1e-9 * hmax);
    if (es_h.eigenvalues().minCoeff() < -1e-6 * hmax) EXPECT_GT((P - H).cwiseAbs().maxCoeff(), 1e-6 * hmax);
  }
}

TEST(TetEnergyTerm, RestStiffnessParameterVjpMatchesFiniteDifferences) {
  Fixture f;
  const auto mat = materials::make_material("m", "stable_neo_hookean", {{"E", 1e5}, {"nu", 0.3}}, 1000, "test");
  TetEnergyTerm<double> term("box", f.mesh, 0, mat);
  const std::size_t n = f.x.size();
  std::vector<double> u(n), w(n);
  for (std::size_t i = 0; i < n; ++i) {
    u[i] = std::cos(0.9 * double(i));
    w[i] = std::sin(2.3 * double(i));
  }
  auto form = [&](const std::vector<double>& theta) {
    TetEnergyTerm<double> t("box", f.mesh, 0, mat);
    t.set_parameters(theta);
    std::vector<double> Ku(n, 0.0);
    t.add_rest_stiffness_vector(u.data(), Ku.data());
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += w[i] * Ku[i];
    return s;
  };
  double adj[2] = {0, 0};
  term.add_rest_stiffness_parameter_vjp(u.data(), w.data(), adj);
  const double fdE = (form({1e5 + 1, 0.3}) - form({1e5 - 1, 0.3})) / 2;
  const double fdNu = (form({1e5, 0.3 + 1e-6}) - form({1e5, 0.3 - 1e-6})) / 2e-6;
  EXPECT_NEAR(adj[0], fdE, 1e-7 * std::abs(fdE));
  EXPECT_NEAR(adj[1], fdNu, 1e-6 * std::abs(fdNu));
  // The triplet form is the same matrix as the vector form.
  std::vector<Eigen::Triplet<double>> trip;
  term.add_rest_stiffness(trip);
  const Eigen::MatrixXd K0 = dense(trip, int(n));
  std::vector<double> Ku(n, 0.0);
  term.add_rest_stiffness_vector(u.data(), Ku.data());
  const Eigen::VectorXd ref = K0 * Eigen::Map<Eigen::VectorXd>(u.data(), Eigen::Index(n));
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(Ku[i], ref(Eigen::Index(i)), 1e-9 * K0.cwiseAbs().maxCoeff());
}

TEST(TetEnergyTerm, ParametersAreNamedAndValidated) {
  Fixture f;
  const auto mat = materials::make_material("m", "fixed_corotated", {{"E", 1e5}, {"nu", 0.3}}, 1000, "test");
  TetEnergyTerm<double> term("jelly", f.mesh, 0, mat);
  EXPECT_EQ(term.parameter_names(), (std::vector<std::string>{"E", "nu"}));
  EXPECT_EQ(term.parameters(), (std::vector<double>{1e5, 0.3}));
  try {
    term.set_parameters({1e5, 0.7});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("jelly"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("nu"), std::string::npos);
  }
  EXPECT_THROW(term.set_parameters({1e5}), InputError);
  EXPECT_EQ(term.parameters(), (std::vector<double>{1e5, 0.3}));  // unchanged after a rejected call
}

}  // namespace
}  // namespace pl::fem
