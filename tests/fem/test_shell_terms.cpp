// Shell energy terms (MembraneTerm, HingeTerm) and sheet meshes: hinge
// extraction and mesh errors, OBJ sheets from assets/shells, term-level
// derivatives and adjoints vs central finite differences (double), rest and
// rigid motions, and the calibration of the bending stiffness against the
// Kirchhoff plate energy of a cylinder.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <cmath>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/fem/sheet_mesh.hpp"
#include "engine/fem/shell_terms.hpp"
#include "tests/fem/test_shell_fd.hpp"

namespace pl::fem {
namespace {

using testing::max_relative_error;

std::vector<double> flatten(const TriangleMesh& mesh) {
  std::vector<double> x;
  for (const auto& v : mesh.vertices) x.insert(x.end(), v.begin(), v.end());
  return x;
}

std::vector<double> perturbed(std::vector<double> x, double amount, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-amount, amount);
  for (double& v : x) v += u(rng);
  return x;
}

std::string expect_input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected pl::InputError";
  return "";
}

// ---- meshes ---------------------------------------------------------------------

TEST(ShellSheetMesh, RectangularSheetHasTheExpectedHingesAndMass) {
  const TriangleMesh sheet = make_rectangular_sheet({0, 0, 0}, {0.3, 0, 0}, {0, 0.2, 0}, 3, 2);
  EXPECT_EQ(sheet.vertices.size(), 12u);
  EXPECT_EQ(sheet.triangles.size(), 12u);
  validate_sheet_mesh(sheet, "sheet");
  // Edges: horizontal 3*3 + vertical 2*4 + diagonal 3*2 = 23; boundary 2*(3+2) = 10.
  EXPECT_EQ(extract_hinges(sheet, "sheet").size(), 13u);
  const std::vector<double> m = lumped_sheet_masses(sheet, 0.5);
  double total = 0;
  for (double mi : m) total += mi;
  EXPECT_NEAR(total, 0.5 * 0.3 * 0.2, 1e-15);
  // Every hinge's triangles traverse the edge oppositely: wing 2 and wing 3 on
  // opposite sides, so the flat sheet has zero angle at every hinge.
  HingeTerm<double> hinges("sheet", sheet, 0, 1.0);
  for (double a : hinges.angles(flatten(sheet).data())) EXPECT_NEAR(a, 0.0, 1e-14);
}

TEST(ShellSheetMesh, BadMeshesAndInputsGiveClearErrors) {
  EXPECT_NE(expect_input_error([] { make_rectangular_sheet({0, 0, 0}, {1, 0, 0}, {0, 1, 0}, 0, 3); }).find("at least 1"),
            std::string::npos);
  EXPECT_NE(expect_input_error([] { make_rectangular_sheet({0, 0, 0}, {1, 0, 0}, {2, 0, 0}, 2, 2); }).find("parallel"),
            std::string::npos);
  // Three triangles on one edge.
  TriangleMesh fan;
  fan.vertices = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}};
  fan.triangles = {{0, 1, 2}, {1, 0, 3}, {0, 1, 4}};
  const std::string nonmanifold = expect_input_error([&] { validate_sheet_mesh(fan, "fan.obj"); });
  EXPECT_NE(nonmanifold.find("fan.obj"), std::string::npos);
  EXPECT_NE(nonmanifold.find("non-manifold"), std::string::npos);
  EXPECT_NE(expect_input_error([&] { extract_hinges(fan, "fan.obj"); }).find("non-manifold"), std::string::npos);
  // Two triangles traversing their shared edge the same way.
  TriangleMesh flipped;
  flipped.vertices = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, -1, 0}};
  flipped.triangles = {{0, 1, 2}, {0, 1, 3}};
  EXPECT_NE(expect_input_error([&] { validate_sheet_mesh(flipped, "flip.obj"); }).find("inconsistent orientation"),
            std::string::npos);
  // A zero-area triangle.
  TriangleMesh sliver;
  sliver.vertices = {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}};
  sliver.triangles = {{0, 1, 2}};
  EXPECT_NE(expect_input_error([&] { validate_sheet_mesh(sliver, "sliver.obj"); }).find("zero area"), std::string::npos);
  // A vertex without triangles.
  TriangleMesh loose;
  loose.vertices = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {5, 5, 5}};
  loose.triangles = {{0, 1, 2}};
  EXPECT_NE(expect_input_error([&] { validate_sheet_mesh(loose, "loose.obj"); }).find("vertex 4"), std::string::npos);
  // Materials and parameters.
  const TriangleMesh sheet = make_rectangular_sheet({0, 0, 0}, {1, 0, 0}, {0, 1, 0}, 1, 1);
  ShellMaterial bad;
  bad.poisson_ratio = 0.5;
  EXPECT_NE(expect_input_error([&] { MembraneTerm<double>("s", sheet, 0, bad); }).find("poisson_ratio"),
            std::string::npos);
  EXPECT_NE(expect_input_error([&] { HingeTerm<double>("s", sheet, 0, -1.0); }).find("bending_stiffness"),
            std::string::npos);
  HingeTerm<double> hinges("s", sheet, 0, 1.0, 0.2);
  EXPECT_NE(expect_input_error([&] { hinges.set_parameters({1.0, 0.0}); }).find("yield_angle"), std::string::npos);
  EXPECT_NE(expect_input_error([&] { hinges.set_internal_state({0.0, 0.0}); }).find("rest angles"), std::string::npos);
  EXPECT_NE(expect_input_error([] { lumped_sheet_masses(TriangleMesh{}, -1.0); }).find("areal density"),
            std::string::npos);
}

TEST(ShellSheetMesh, LoadsTheBundledPaperStripAndRejectsBrokenFiles) {
  const std::string path = std::string(PLIANT_SOURCE_DIR) + "/assets/shells/paper_strip.obj";
  const TriangleMesh strip = load_sheet_obj(path);
  EXPECT_EQ(strip.vertices.size(), 21u);
  EXPECT_EQ(strip.triangles.size(), 24u);  // 12 quads, fan-triangulated
  // Edges: 18 along x, 14 along y, 12 diagonals; 16 on the border.
  EXPECT_EQ(extract_hinges(strip, path).size(), 28u);
  const std::string bad_path = ::testing::TempDir() + "shell_nonmanifold.obj";
  std::ofstream(bad_path) << "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 -1 0\nv 0 0 1\nf 1 2 3\nf 2 1 4\nf 1 2 5\n";
  const std::string msg = expect_input_error([&] { load_sheet_obj(bad_path); });
  EXPECT_NE(msg.find(bad_path), std::string::npos);
  EXPECT_NE(msg.find("non-manifold"), std::string::npos);
  EXPECT_NE(expect_input_error([&] { load_sheet_obj(::testing::TempDir() + "no_such_sheet.obj"); }).find("no_such_sheet"),
            std::string::npos);
}

// ---- term derivatives ---------------------------------------------------------

// Checks gradient, Hessian (assembled, exact) and the Hessian's PSD projection
// of `term` at x against central differences.
void check_term_derivatives(const EnergyTerm<double>& term, const std::vector<double>& x, double tol) {
  const std::size_t n = x.size();
  std::vector<double> grad(n, 0.0), fd(n);
  term.add_gradient(x.data(), grad.data());
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> xp = x, xm = x;
    xp[i] += 1e-6;
    xm[i] -= 1e-6;
    fd[i] = (term.energy(xp.data()) - term.energy(xm.data())) / 2e-6;
  }
  EXPECT_LT(max_relative_error(grad, fd), tol) << term.name();

  std::vector<Eigen::Triplet<double>> triplets;
  term.add_hessian(x.data(), false, triplets);
  const int dofs = int(n);
  Eigen::SparseMatrix<double> H(dofs, dofs);
  H.setFromTriplets(triplets.begin(), triplets.end());
  const Eigen::MatrixXd Hd(H);
  std::vector<double> analytic, fdh;
  for (std::size_t j = 0; j < n; ++j) {
    std::vector<double> xp = x, xm = x, gp(n, 0.0), gm(n, 0.0);
    xp[j] += 1e-6;
    xm[j] -= 1e-6;
    term.add_gradient(xp.data(), gp.data());
    term.add_gradient(xm.data(), gm.data());
    for (std::size_t i = 0; i < n; ++i) {
      analytic.push_back(Hd(Eigen::Index(i), Eigen::Index(j)));
      fdh.push_back((gp[i] - gm[i]) / 2e-6);
    }
  }
  EXPECT_LT(max_relative_error(analytic, fdh), 10 * tol) << term.name();

  // The element-wise Hessian-vector product equals the assembled one.
  std::vector<double> u(n), hu(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) u[i] = std::cos(0.3 + 1.7 * double(i));
  term.add_hessian_vector(x.data(), u.data(), hu.data());
  const Eigen::VectorXd expected_hu = Hd * Eigen::Map<const Eigen::VectorXd>(u.data(), dofs);
  EXPECT_LT(max_relative_error(hu, std::vector<double>(expected_hu.data(), expected_hu.data() + n)), 1e-12)
      << term.name();

  triplets.clear();
  term.add_hessian(x.data(), true, triplets);
  Eigen::SparseMatrix<double> P(dofs, dofs);
  P.setFromTriplets(triplets.begin(), triplets.end());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig{Eigen::MatrixXd(P)};
  EXPECT_GT(eig.eigenvalues().minCoeff(), -1e-9 * Hd.norm()) << term.name();
}

// d/dθ (∂E/∂x · w) against the VJP, for every parameter.
void check_parameter_vjp(EnergyTerm<double>& term, const std::vector<double>& x, unsigned seed) {
  const std::vector<double> w = perturbed(std::vector<double>(x.size(), 0.0), 1.0, seed);
  const std::vector<double> theta = term.parameters();
  std::vector<double> adj(theta.size(), 0.0);
  term.add_gradient_parameter_vjp(x.data(), w.data(), adj.data());
  for (std::size_t p = 0; p < theta.size(); ++p) {
    if (!std::isfinite(theta[p])) continue;
    auto gw = [&](double value) {
      std::vector<double> t = theta;
      t[p] = value;
      term.set_parameters(t);
      std::vector<double> g(x.size(), 0.0);
      term.add_gradient(x.data(), g.data());
      double s = 0;
      for (std::size_t i = 0; i < x.size(); ++i) s += g[i] * w[i];
      return s;
    };
    const double h = 1e-6 * std::max(std::fabs(theta[p]), 1e-3);
    const double fd = (gw(theta[p] + h) - gw(theta[p] - h)) / (2 * h);
    term.set_parameters(theta);
    EXPECT_NEAR(adj[p], fd, 1e-6 * std::max(1.0, std::fabs(fd))) << term.name() << " " << term.parameter_names()[p];
  }
}

TEST(ShellTerms, MembraneDerivativesAndParameterVjpsMatchFiniteDifferences) {
  const TriangleMesh sheet = make_rectangular_sheet({0, 0, 0}, {0.3, 0, 0}, {0, 0.2, 0}, 3, 2);
  const std::vector<double> x = perturbed(flatten(sheet), 0.02, 3);
  for (MembraneModel model : {MembraneModel::kStVK, MembraneModel::kNeoHookean}) {
    ShellMaterial m;
    m.model = model;
    m.youngs_modulus = 2e4;
    m.poisson_ratio = 0.35;
    m.thickness = 2e-3;
    MembraneTerm<double> term("sheet", sheet, 0, m);
    check_term_derivatives(term, x, 1e-6);
    check_parameter_vjp(term, x, 5);
  }
}

TEST(ShellTerms, HingeDerivativesParameterAndStateVjpsMatchFiniteDifferences) {
  const TriangleMesh sheet = make_rectangular_sheet({0, 0, 0}, {0.3, 0, 0}, {0, 0.2, 0}, 3, 2);
  const std::vector<double> x = perturbed(flatten(sheet), 0.03, 4);
  HingeTerm<double> term("sheet", sheet, 0, 0.05, 0.3);
  // Non-zero rest angles so every term of the Hessian is exercised.
  term.set_internal_state(perturbed(std::vector<double>(std::size_t(term.num_hinges()), 0.0), 0.4, 8));
  check_term_derivatives(term, x, 1e-6);
  check_parameter_vjp(term, x, 6);

  // State VJP: d/ds (∂E/∂x · w).
  const std::vector<double> w = perturbed(std::vector<double>(x.size(), 0.0), 1.0, 9);
  const std::vector<double> s = term.internal_state();
  std::vector<double> adj_s(s.size(), 0.0);
  term.add_gradient_state_vjp(x.data(), w.data(), adj_s.data());
  for (std::size_t k = 0; k < s.size(); ++k) {
    auto gw = [&](double value) {
      std::vector<double> sk = s;
      sk[k] = value;
      term.set_internal_state(sk);
      std::vector<double> g(x.size(), 0.0);
      term.add_gradient(x.data(), g.data());
      double sum = 0;
      for (std::size_t i = 0; i < x.size(); ++i) sum += g[i] * w[i];
      return sum;
    };
    const double fd = (gw(s[k] + 1e-6) - gw(s[k] - 1e-6)) / 2e-6;
    term.set_internal_state(s);
    EXPECT_NEAR(adj_s[k], fd, 1e-6 * std::max(1.0, std::fabs(fd))) << "hinge " << k;
  }
}

TEST(ShellTerms, PlasticEndStepAndItsAdjointMatchFiniteDifferences) {
  // A 2x1 sheet folded by 0.8 rad along its middle edge (yields at θ_y = 0.3),
  // plus jitter; the other hinges stay within the yield angle.
  const TriangleMesh sheet = make_rectangular_sheet({0, 0, 0}, {0.2, 0, 0}, {0, 0.1, 0}, 2, 1);
  std::vector<double> x = flatten(sheet);
  for (std::size_t v = 0; v < sheet.vertices.size(); ++v)
    if (sheet.vertices[v][0] > 0.15) {  // rotate the right column about the line x = 0.1
      const double dx = x[3 * v] - 0.1;
      x[3 * v] = 0.1 + dx * std::cos(0.8);
      x[3 * v + 2] = dx * std::sin(0.8);
    }
  x = perturbed(x, 0.002, 12);
  HingeTerm<double> term("sheet", sheet, 0, 0.05, 0.3);
  const std::vector<double> s_before = term.internal_state();
  const std::vector<double> angles = term.angles(x.data());
  int yielded = 0;
  for (std::size_t k = 0; k < angles.size(); ++k) {
    const double d = std::fabs(angles[k] - s_before[k]);
    ASSERT_GT(std::fabs(d - 0.3), 0.05) << "hinge " << k << " too close to the yield kink for FD";
    yielded += d > 0.3;
  }
  ASSERT_GE(yielded, 1);

  // Scalar loss L = a · s_after; its gradient w.r.t. x, s_before, θ_y.
  const std::vector<double> a = perturbed(std::vector<double>(s_before.size(), 0.0), 1.0, 13);
  auto loss = [&](const std::vector<double>& xx, const std::vector<double>& s, double yield) {
    term.set_internal_state(s);
    term.set_parameters({0.05, yield});
    term.end_step(xx.data());
    double sum = 0;
    const std::vector<double> after = term.internal_state();
    for (std::size_t k = 0; k < after.size(); ++k) sum += a[k] * after[k];
    term.set_internal_state(s_before);
    term.set_parameters({0.05, 0.3});
    return sum;
  };
  std::vector<double> adj_x(x.size(), 0.0), adj_s(s_before.size(), 0.0), adj_theta(2, 0.0);
  term.adj_end_step(x.data(), s_before, a.data(), adj_x.data(), adj_s.data());
  term.adj_end_step_parameters(x.data(), s_before, a.data(), adj_theta.data());
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::vector<double> xp = x, xm = x;
    xp[i] += 1e-6;
    xm[i] -= 1e-6;
    EXPECT_NEAR(adj_x[i], (loss(xp, s_before, 0.3) - loss(xm, s_before, 0.3)) / 2e-6, 1e-6) << "x " << i;
  }
  for (std::size_t k = 0; k < s_before.size(); ++k) {
    std::vector<double> sp = s_before, sm = s_before;
    sp[k] += 1e-6;
    sm[k] -= 1e-6;
    EXPECT_NEAR(adj_s[k], (loss(x, sp, 0.3) - loss(x, sm, 0.3)) / 2e-6, 1e-6) << "s " << k;
  }
  EXPECT_NEAR(adj_theta[1], (loss(x, s_before, 0.3 + 1e-6) - loss(x, s_before, 0.3 - 1e-6)) / 2e-6, 1e-6);
  EXPECT_NE(adj_theta[1], 0.0);
  EXPECT_EQ(adj_theta[0], 0.0);
}

TEST(ShellTerms, FlatSheetAtRestAndRigidlyMovedCarriesNoForce) {
  const TriangleMesh sheet = make_rectangular_sheet({0.1, 0.2, 0.3}, {0.3, 0, 0.1}, {0, 0.2, 0}, 4, 3);
  ShellMaterial m;
  m.youngs_modulus = 1e5;
  m.model = MembraneModel::kNeoHookean;
  MembraneTerm<double> membrane("sheet", sheet, 0, m);
  HingeTerm<double> hinges("sheet", sheet, 0, 1e-3);
  const std::vector<double> rest = flatten(sheet);
  const Eigen::Matrix3d R = Eigen::AngleAxisd(0.9, Eigen::Vector3d(1, -1, 2).normalized()).toRotationMatrix();
  std::vector<double> moved(rest.size()), stretched(rest.size());
  for (std::size_t v = 0; v < rest.size() / 3; ++v) {
    const Eigen::Vector3d p = R * Eigen::Vector3d(rest[3 * v], rest[3 * v + 1], rest[3 * v + 2]) + Eigen::Vector3d(1, 2, 3);
    for (int a = 0; a < 3; ++a) moved[3 * v + std::size_t(a)] = p[a];
  }
  for (std::size_t i = 0; i < rest.size(); ++i) stretched[i] = 1.1 * rest[i];
  std::vector<double> g_ref(rest.size(), 0.0);
  membrane.add_gradient(stretched.data(), g_ref.data());
  double ref = 0;
  for (double g : g_ref) ref = std::max(ref, std::fabs(g));
  ASSERT_GT(ref, 1.0);
  for (const std::vector<double>* x : std::vector<const std::vector<double>*>{&rest, &moved}) {
    std::vector<double> g(rest.size(), 0.0);
    membrane.add_gradient(x->data(), g.data());
    hinges.add_gradient(x->data(), g.data());
    for (double gi : g) EXPECT_LT(std::fabs(gi), 1e-10 * ref);
    EXPECT_LT(std::fabs(membrane.energy(x->data()) + hinges.energy(x->data())), 1e-12 * ref);
  }
}

TEST(ShellTerms, CylinderBendingEnergyMatchesTheKirchhoffPlate) {
  // A flat sheet (rest) rolled onto a cylinder of radius R about the y axis
  // stores (D/2) κ² per unit area in plate theory.  The vertical hinges carry
  // all of it (diagonal and horizontal hinges stay flat, every quad maps to a
  // planar rectangle), and the strips next to the two free edges hold half a
  // hinge each, hence the (n - 1)/n factor.
  const int nx = 12, ny = 4;
  const double Lx = 0.3, Ly = 0.1, R = 0.25;
  const TriangleMesh sheet = make_rectangular_sheet({0, 0, 0}, {Lx, 0, 0}, {0, Ly, 0}, nx, ny);
  const double D = plate_bending_stiffness(2e6, 0.3, 1e-3);
  HingeTerm<double> hinges("sheet", sheet, 0, D);
  std::vector<double> x = flatten(sheet);
  for (std::size_t v = 0; v < sheet.vertices.size(); ++v) {
    const double s = sheet.vertices[v][0];
    x[3 * v] = R * std::sin(s / R);
    x[3 * v + 2] = R * (1 - std::cos(s / R));
  }
  const double expected = 0.5 * D / (R * R) * Lx * Ly * double(nx - 1) / nx;
  EXPECT_NEAR(hinges.energy(x.data()), expected, 1e-9 * expected);
}

TEST(ShellTerms, RestStiffnessIsTheRestHessianAndItsVjpMatchesFiniteDifferences) {
  // A curved rest shape, so hinge rest angles are not zero.
  TriangleMesh sheet = make_rectangular_sheet({0, 0, 0}, {0.3, 0, 0}, {0, 0.2, 0}, 3, 2);
  for (auto& v : sheet.vertices) v[2] = 0.05 * std::sin(10 * v[0]) + 0.03 * v[1] * v[1];
  const std::vector<double> rest = flatten(sheet);
  const std::size_t n = rest.size();
  ShellMaterial m;
  m.model = MembraneModel::kNeoHookean;
  m.youngs_modulus = 3e4;
  MembraneTerm<double> membrane("sheet", sheet, 0, m);
  HingeTerm<double> hinges("sheet", sheet, 0, 0.02, 0.4);
  const std::vector<double> u = perturbed(std::vector<double>(n, 0.0), 1.0, 21);
  const std::vector<double> w = perturbed(std::vector<double>(n, 0.0), 1.0, 22);
  for (EnergyTerm<double>* term : std::vector<EnergyTerm<double>*>{&membrane, &hinges}) {
    ASSERT_TRUE(term->has_rest_stiffness());
    std::vector<Eigen::Triplet<double>> k0, h;
    term->add_rest_stiffness(k0);
    term->add_hessian(rest.data(), false, h);
    const int dofs = int(n);
    Eigen::SparseMatrix<double> K0(dofs, dofs), H(dofs, dofs);
    K0.setFromTriplets(k0.begin(), k0.end());
    H.setFromTriplets(h.begin(), h.end());
    EXPECT_LT((Eigen::MatrixXd(K0) - Eigen::MatrixXd(H)).norm(), 1e-10 * Eigen::MatrixXd(H).norm()) << term->name();
    std::vector<double> ku(n, 0.0);
    term->add_rest_stiffness_vector(u.data(), ku.data());
    const Eigen::VectorXd expected = K0 * Eigen::Map<const Eigen::VectorXd>(u.data(), dofs);
    EXPECT_LT(max_relative_error(ku, std::vector<double>(expected.data(), expected.data() + n)), 1e-12) << term->name();
    // d(wᵀ K0 u)/dθ.
    const std::vector<double> theta = term->parameters();
    std::vector<double> adj(theta.size(), 0.0);
    term->add_rest_stiffness_parameter_vjp(u.data(), w.data(), adj.data());
    for (std::size_t p = 0; p < theta.size(); ++p) {
      auto wKu = [&](double value) {
        std::vector<double> t = theta;
        t[p] = value;
        term->set_parameters(t);
        std::vector<double> out(n, 0.0);
        term->add_rest_stiffness_vector(u.data(), out.data());
        double sum = 0;
        for (std::size_t i = 0; i < n; ++i) sum += w[i] * out[i];
        return sum;
      };
      const double step = 1e-6 * std::fabs(theta[p]);
      const double fd = (wKu(theta[p] + step) - wKu(theta[p] - step)) / (2 * step);
      term->set_parameters(theta);
      EXPECT_NEAR(adj[p], fd, 1e-6 * std::max(1.0, std::fabs(fd))) << term->name() << " " << term->parameter_names()[p];
    }
  }
}

}  // namespace
}  // namespace pl::fem
