// Launches the per-element shell kernels (kernels/fem/shell_membrane.hpp,
// discrete_shell_hinge.hpp) on the CPU with the Thrust OpenMP policy into
// per-element buffers, then gathers them in element order (deterministic).
#include "engine/fem/shell_terms.hpp"

#include <thrust/system/omp/execution_policy.h>

#include <cmath>
#include <map>
#include <sstream>
#include <utility>

#include "engine/core/error.hpp"
#include "engine/core/parallel.hpp"
#include "engine/fem/sheet_mesh.hpp"

namespace pl::fem {
namespace {

struct ShellCpuExec {
  static auto policy() { return thrust::omp::par; }
};

template <class Real, int N>
PL_HD inline void load_vertices(const Real* x, const int* ids, V3<Real> (&out)[N]) {
  for (int k = 0; k < N; ++k)
    for (int a = 0; a < 3; ++a) out[k][a] = x[3 * ids[k] + a];
}

template <class Real>
std::string number(Real v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

std::string validate(const ShellMaterial& m) {
  if (!(m.youngs_modulus > 0) || !std::isfinite(m.youngs_modulus))
    return "youngs_modulus " + number(m.youngs_modulus) + " Pa: expected a positive finite value";
  if (!(m.poisson_ratio > -1 && m.poisson_ratio < 0.5))
    return "poisson_ratio " + number(m.poisson_ratio) + ": expected a value in (-1, 0.5)";
  if (!(m.thickness > 0) || !std::isfinite(m.thickness))
    return "thickness " + number(m.thickness) + " m: expected a positive finite value";
  return "";
}

std::vector<HingeVertices> extract_hinges(const TriangleMesh& mesh, const std::string& context) {
  // Directed edge (a, b) -> the vertex opposite it in its triangle.  A hinge is
  // an edge present in both directions: (a, b) in triangle A = (a, b, wing_A)
  // and (b, a) in triangle B = (b, a, wing_B), which is the layout of
  // dihedral_angle.hpp with x0 = a, x1 = b.
  std::map<std::pair<int, int>, int> opposite;
  std::map<std::pair<int, int>, int> count;
  for (std::size_t t = 0; t < mesh.triangles.size(); ++t)
    for (int k = 0; k < 3; ++k) {
      const auto& tri = mesh.triangles[t];
      const int a = tri[std::size_t(k)], b = tri[std::size_t((k + 1) % 3)], c = tri[std::size_t((k + 2) % 3)];
      if (++count[{std::min(a, b), std::max(a, b)}] > 2) {
        std::ostringstream msg;
        msg << context << ": edge (" << std::min(a, b) + 1 << ", " << std::max(a, b) + 1
            << ") is shared by more than two triangles (non-manifold); a shell hinge needs exactly two";
        throw InputError(msg.str());
      }
      if (!opposite.emplace(std::make_pair(a, b), c).second) {
        std::ostringstream msg;
        msg << context << ": two triangles traverse edge (" << a + 1 << ", " << b + 1
            << ") in the same direction (inconsistent orientation); flip one of them";
        throw InputError(msg.str());
      }
    }
  std::vector<HingeVertices> hinges;
  for (const auto& [edge, wing_a] : opposite) {
    const int a = edge.first, b = edge.second;
    if (a > b) continue;  // each undirected edge once, from its (smaller, larger) direction
    const auto other = opposite.find({b, a});
    if (other == opposite.end()) continue;  // boundary edge
    hinges.push_back({a, b, wing_a, other->second});
  }
  return hinges;
}

// ---- MembraneTerm ---------------------------------------------------------------

template <class Real>
MembraneTerm<Real>::MembraneTerm(std::string label, const TriangleMesh& rest_mesh, int first_vertex,
                                 const ShellMaterial& material)
    : label_(std::move(label)), material_(material) {
  throw_if_invalid(name(), validate(material));
  validate_sheet_mesh(rest_mesh, name());
  triangles_.reserve(rest_mesh.triangles.size());
  rest_.reserve(rest_mesh.triangles.size());
  for (const auto& t : rest_mesh.triangles) {
    V3<Real> X[3];
    for (int k = 0; k < 3; ++k)
      for (int a = 0; a < 3; ++a) X[k][a] = Real(rest_mesh.vertices[std::size_t(t[std::size_t(k)])][std::size_t(a)]);
    triangles_.push_back({t[0] + first_vertex, t[1] + first_vertex, t[2] + first_vertex});
    rest_.push_back(membrane_rest(X));
    for (int k = 0; k < 3; ++k)
      for (int a = 0; a < 3; ++a) rest_positions_.push_back(X[k][a]);
  }
}

template <class Real>
std::vector<Real> MembraneTerm<Real>::rest_blocks(Lame<Real> lame, Real thickness) const {
  const std::size_t n = triangles_.size();
  std::vector<Real> K(81 * n);
  const Real* X = rest_positions_.data();
  const MembraneRest<Real>* rest = rest_.data();
  Real* out = K.data();
  const MembraneModel model = material_.model;
  parallel_for<ShellCpuExec>(n, [=](std::size_t t) {
    V3<Real> p[3];
    for (int k = 0; k < 3; ++k)
      for (int a = 0; a < 3; ++a) p[k][a] = X[9 * t + std::size_t(3 * k + a)];
    Real He[9][9];
    membrane_hessian(model, p, rest[t], lame, thickness, false, He);
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 9; ++j) out[81 * t + std::size_t(9 * i + j)] = He[i][j];
  });
  return K;
}

template <class Real>
void MembraneTerm<Real>::add_rest_stiffness(std::vector<Eigen::Triplet<Real>>& out) const {
  const std::vector<Real> K =
      rest_blocks(membrane_lame(Real(material_.youngs_modulus), Real(material_.poisson_ratio)), Real(material_.thickness));
  for (std::size_t t = 0; t < triangles_.size(); ++t)
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 9; ++j)
        out.emplace_back(3 * triangles_[t][std::size_t(i / 3)] + i % 3, 3 * triangles_[t][std::size_t(j / 3)] + j % 3,
                         K[81 * t + std::size_t(9 * i + j)]);
}

template <class Real>
void MembraneTerm<Real>::add_rest_stiffness_vector(const Real* u, Real* out) const {
  const std::vector<Real> K =
      rest_blocks(membrane_lame(Real(material_.youngs_modulus), Real(material_.poisson_ratio)), Real(material_.thickness));
  for (std::size_t t = 0; t < triangles_.size(); ++t)
    for (int i = 0; i < 9; ++i) {
      Real sum = Real(0);
      for (int j = 0; j < 9; ++j) sum += K[81 * t + std::size_t(9 * i + j)] * u[3 * triangles_[t][std::size_t(j / 3)] + j % 3];
      out[3 * triangles_[t][std::size_t(i / 3)] + i % 3] += sum;
    }
}

template <class Real>
void MembraneTerm<Real>::add_rest_stiffness_parameter_vjp(const Real* u, const Real* w, Real* adj_theta) const {
  // K0 = h (mu K_mu + lambda K_lambda) with K_mu, K_lambda the rest Hessians
  // for (mu, lambda, h) = (1, 0, 1) and (0, 1, 1): linear in each parameter.
  auto wKu = [&](Lame<Real> lame) {
    const std::vector<Real> K = rest_blocks(lame, Real(1));
    Real s = Real(0);
    for (std::size_t t = 0; t < triangles_.size(); ++t)
      for (int i = 0; i < 9; ++i)
        for (int j = 0; j < 9; ++j)
          s += w[3 * triangles_[t][std::size_t(i / 3)] + i % 3] * K[81 * t + std::size_t(9 * i + j)] *
               u[3 * triangles_[t][std::size_t(j / 3)] + j % 3];
    return s;
  };
  const Real a_mu = wKu({Real(1), Real(0)}), a_lambda = wKu({Real(0), Real(1)});
  const Real E = Real(material_.youngs_modulus), nu = Real(material_.poisson_ratio), h = Real(material_.thickness);
  const Lame<Real> lame = membrane_lame(E, nu);
  adj_membrane_lame(E, nu, h * a_mu, h * a_lambda, adj_theta[0], adj_theta[1]);
  adj_theta[2] += lame.mu * a_mu + lame.lambda * a_lambda;
}

template <class Real>
std::vector<std::string> MembraneTerm<Real>::parameter_names() const {
  return {"youngs_modulus", "poisson_ratio", "thickness"};
}

template <class Real>
std::vector<Real> MembraneTerm<Real>::parameters() const {
  return {Real(material_.youngs_modulus), Real(material_.poisson_ratio), Real(material_.thickness)};
}

template <class Real>
void MembraneTerm<Real>::set_parameters(const std::vector<Real>& theta) {
  if (theta.size() != 3)
    throw InputError(name() + ": expected 3 parameters (youngs_modulus, poisson_ratio, thickness), got " +
                     std::to_string(theta.size()));
  ShellMaterial m = material_;
  m.youngs_modulus = double(theta[0]);
  m.poisson_ratio = double(theta[1]);
  m.thickness = double(theta[2]);
  throw_if_invalid(name(), validate(m));
  material_ = m;
}

template <class Real>
Real MembraneTerm<Real>::energy(const Real* x) const {
  const std::size_t n = triangles_.size();
  std::vector<Real> e(n);
  const int* tri = triangles_.front().data();
  const MembraneRest<Real>* rest = rest_.data();
  Real* out = e.data();
  const MembraneModel model = material_.model;
  const Lame<Real> lame = membrane_lame(Real(material_.youngs_modulus), Real(material_.poisson_ratio));
  const Real h = Real(material_.thickness);
  parallel_for<ShellCpuExec>(n, [=](std::size_t t) {
    V3<Real> p[3];
    load_vertices(x, tri + 3 * t, p);
    out[t] = membrane_energy(model, p, rest[t], lame, h);
  });
  Real sum = Real(0);
  for (Real v : e) sum += v;
  return sum;
}

template <class Real>
void MembraneTerm<Real>::add_gradient(const Real* x, Real* grad) const {
  const std::size_t n = triangles_.size();
  std::vector<Real> g(9 * n);
  const int* tri = triangles_.front().data();
  const MembraneRest<Real>* rest = rest_.data();
  Real* out = g.data();
  const MembraneModel model = material_.model;
  const Lame<Real> lame = membrane_lame(Real(material_.youngs_modulus), Real(material_.poisson_ratio));
  const Real h = Real(material_.thickness);
  parallel_for<ShellCpuExec>(n, [=](std::size_t t) {
    V3<Real> p[3];
    load_vertices(x, tri + 3 * t, p);
    Real ge[9];
    membrane_gradient(model, p, rest[t], lame, h, ge);
    for (int i = 0; i < 9; ++i) out[9 * t + std::size_t(i)] = ge[i];
  });
  for (std::size_t t = 0; t < n; ++t)
    for (int k = 0; k < 3; ++k)
      for (int a = 0; a < 3; ++a) grad[3 * triangles_[t][std::size_t(k)] + a] += g[9 * t + std::size_t(3 * k + a)];
}

template <class Real>
void MembraneTerm<Real>::add_hessian(const Real* x, bool project_psd,
                                     std::vector<Eigen::Triplet<Real>>& out_triplets) const {
  const std::size_t n = triangles_.size();
  std::vector<Real> H(81 * n);
  const int* tri = triangles_.front().data();
  const MembraneRest<Real>* rest = rest_.data();
  Real* out = H.data();
  const MembraneModel model = material_.model;
  const Lame<Real> lame = membrane_lame(Real(material_.youngs_modulus), Real(material_.poisson_ratio));
  const Real h = Real(material_.thickness);
  parallel_for<ShellCpuExec>(n, [=](std::size_t t) {
    V3<Real> p[3];
    load_vertices(x, tri + 3 * t, p);
    Real He[9][9];
    membrane_hessian(model, p, rest[t], lame, h, project_psd, He);
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 9; ++j) out[81 * t + std::size_t(9 * i + j)] = He[i][j];
  });
  out_triplets.reserve(out_triplets.size() + 81 * n);
  for (std::size_t t = 0; t < n; ++t)
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 9; ++j)
        out_triplets.emplace_back(3 * triangles_[t][std::size_t(i / 3)] + i % 3,
                                  3 * triangles_[t][std::size_t(j / 3)] + j % 3, H[81 * t + std::size_t(9 * i + j)]);
}

template <class Real>
void MembraneTerm<Real>::add_hessian_vector(const Real* x, const Real* u, Real* out_vec) const {
  const std::size_t n = triangles_.size();
  std::vector<Real> hu(9 * n);
  const int* tri = triangles_.front().data();
  const MembraneRest<Real>* rest = rest_.data();
  Real* out = hu.data();
  const MembraneModel model = material_.model;
  const Lame<Real> lame = membrane_lame(Real(material_.youngs_modulus), Real(material_.poisson_ratio));
  const Real h = Real(material_.thickness);
  parallel_for<ShellCpuExec>(n, [=](std::size_t t) {
    V3<Real> p[3];
    load_vertices(x, tri + 3 * t, p);
    Real He[9][9];
    membrane_hessian(model, p, rest[t], lame, h, false, He);
    for (int i = 0; i < 9; ++i) {
      Real sum = Real(0);
      for (int j = 0; j < 9; ++j) sum += He[i][j] * u[3 * tri[3 * t + std::size_t(j / 3)] + j % 3];
      out[9 * t + std::size_t(i)] = sum;
    }
  });
  for (std::size_t t = 0; t < n; ++t)
    for (int i = 0; i < 9; ++i) out_vec[3 * triangles_[t][std::size_t(i / 3)] + i % 3] += hu[9 * t + std::size_t(i)];
}

template <class Real>
void MembraneTerm<Real>::add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const {
  const std::size_t n = triangles_.size();
  std::vector<Real> adj(3 * n);
  const int* tri = triangles_.front().data();
  const MembraneRest<Real>* rest = rest_.data();
  Real* out = adj.data();
  const MembraneModel model = material_.model;
  const Real E = Real(material_.youngs_modulus), nu = Real(material_.poisson_ratio), h = Real(material_.thickness);
  const Lame<Real> lame = membrane_lame(E, nu);
  parallel_for<ShellCpuExec>(n, [=](std::size_t t) {
    V3<Real> p[3];
    load_vertices(x, tri + 3 * t, p);
    Real we[9];
    for (int k = 0; k < 3; ++k)
      for (int a = 0; a < 3; ++a) we[3 * k + a] = w[3 * tri[3 * t + std::size_t(k)] + a];
    Real am = Real(0), al = Real(0), ah = Real(0);
    membrane_gradient_vjp(model, p, rest[t], lame, h, we, am, al, ah);
    out[3 * t] = am;
    out[3 * t + 1] = al;
    out[3 * t + 2] = ah;
  });
  Real adj_mu = 0, adj_lambda = 0, adj_h = 0;
  for (std::size_t t = 0; t < n; ++t) {
    adj_mu += adj[3 * t];
    adj_lambda += adj[3 * t + 1];
    adj_h += adj[3 * t + 2];
  }
  adj_membrane_lame(E, nu, adj_mu, adj_lambda, adj_theta[0], adj_theta[1]);
  adj_theta[2] += adj_h;
}

// ---- HingeTerm ----------------------------------------------------------------

template <class Real>
void HingeTerm<Real>::check_parameters(Real k, Real yield) const {
  if (!(k >= Real(0)) || !std::isfinite(double(k)))
    throw InputError(name() + ": bending_stiffness " + number(k) + " J: expected a finite value >= 0");
  if (!(yield > Real(0)))
    throw InputError(name() + ": yield_angle " + number(yield) +
                     " rad: expected a value > 0 (infinity for purely elastic bending)");
}

template <class Real>
HingeTerm<Real>::HingeTerm(std::string label, const TriangleMesh& rest_mesh, int first_vertex, Real bending_stiffness,
                           Real yield_angle)
    : label_(std::move(label)), stiffness_(bending_stiffness), yield_angle_(yield_angle) {
  check_parameters(bending_stiffness, yield_angle);
  validate_sheet_mesh(rest_mesh, name());
  const std::vector<HingeVertices> local = extract_hinges(rest_mesh, name());
  hinges_.reserve(local.size());
  for (const HingeVertices& hv : local) {
    V3<Real> X[4];
    for (int k = 0; k < 4; ++k)
      for (int a = 0; a < 3; ++a) X[k][a] = Real(rest_mesh.vertices[std::size_t(hv[std::size_t(k)])][std::size_t(a)]);
    hinges_.push_back({hv[0] + first_vertex, hv[1] + first_vertex, hv[2] + first_vertex, hv[3] + first_vertex});
    weight_.push_back(hinge_weight(X));
    rest_angle_.push_back(dihedral_angle(X));
    V3<Real> g[4];
    const bool degenerate = hinge_is_degenerate(X);
    if (!degenerate) dihedral_angle_gradient(X, g);
    for (int v = 0; v < 4; ++v)
      for (int a = 0; a < 3; ++a) rest_angle_gradient_.push_back(degenerate ? Real(0) : g[v][a]);
  }
}

template <class Real>
void HingeTerm<Real>::add_rest_stiffness(std::vector<Eigen::Triplet<Real>>& out) const {
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    const Real* g = &rest_angle_gradient_[12 * i];
    for (int r = 0; r < 12; ++r)
      for (int c = 0; c < 12; ++c)
        out.emplace_back(3 * hinges_[i][std::size_t(r / 3)] + r % 3, 3 * hinges_[i][std::size_t(c / 3)] + c % 3,
                         stiffness_ * weight_[i] * g[r] * g[c]);
  }
}

template <class Real>
void HingeTerm<Real>::add_rest_stiffness_vector(const Real* u, Real* out) const {
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    const Real* g = &rest_angle_gradient_[12 * i];
    Real gu = Real(0);
    for (int r = 0; r < 12; ++r) gu += g[r] * u[3 * hinges_[i][std::size_t(r / 3)] + r % 3];
    for (int r = 0; r < 12; ++r) out[3 * hinges_[i][std::size_t(r / 3)] + r % 3] += stiffness_ * weight_[i] * gu * g[r];
  }
}

template <class Real>
void HingeTerm<Real>::add_rest_stiffness_parameter_vjp(const Real* u, const Real* w, Real* adj_theta) const {
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    const Real* g = &rest_angle_gradient_[12 * i];
    Real gu = Real(0), gw = Real(0);
    for (int r = 0; r < 12; ++r) {
      gu += g[r] * u[3 * hinges_[i][std::size_t(r / 3)] + r % 3];
      gw += g[r] * w[3 * hinges_[i][std::size_t(r / 3)] + r % 3];
    }
    adj_theta[0] += weight_[i] * gw * gu;
  }
}

template <class Real>
std::vector<std::string> HingeTerm<Real>::parameter_names() const {
  return {"bending_stiffness", "yield_angle"};
}

template <class Real>
std::vector<Real> HingeTerm<Real>::parameters() const {
  return {stiffness_, yield_angle_};
}

template <class Real>
void HingeTerm<Real>::set_parameters(const std::vector<Real>& theta) {
  if (theta.size() != 2)
    throw InputError(name() + ": expected 2 parameters (bending_stiffness, yield_angle), got " +
                     std::to_string(theta.size()));
  check_parameters(theta[0], theta[1]);
  stiffness_ = theta[0];
  yield_angle_ = theta[1];
}

template <class Real>
void HingeTerm<Real>::set_internal_state(const std::vector<Real>& s) {
  if (s.size() != hinges_.size())
    throw InputError(name() + ": expected " + std::to_string(hinges_.size()) + " rest angles, got " +
                     std::to_string(s.size()));
  for (Real v : s)
    if (!std::isfinite(double(v))) throw InputError(name() + ": rest angles must be finite");
  rest_angle_ = s;
}

template <class Real>
std::vector<Real> HingeTerm<Real>::angles(const Real* x) const {
  std::vector<Real> out(hinges_.size());
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    V3<Real> p[4];
    load_vertices(x, hinges_[i].data(), p);
    out[i] = dihedral_angle(p);
  }
  return out;
}

template <class Real>
Real HingeTerm<Real>::energy(const Real* x) const {
  const std::size_t n = hinges_.size();
  if (n == 0) return Real(0);
  std::vector<Real> e(n);
  const int* hv = hinges_.front().data();
  const Real* weight = weight_.data();
  const Real* rest = rest_angle_.data();
  Real* out = e.data();
  const Real k = stiffness_;
  parallel_for<ShellCpuExec>(n, [=](std::size_t i) {
    V3<Real> p[4];
    load_vertices(x, hv + 4 * i, p);
    out[i] = hinge_energy(p, weight[i], k, rest[i]);
  });
  Real sum = Real(0);
  for (Real v : e) sum += v;
  return sum;
}

template <class Real>
void HingeTerm<Real>::add_gradient(const Real* x, Real* grad) const {
  const std::size_t n = hinges_.size();
  if (n == 0) return;
  std::vector<Real> g(12 * n);
  const int* hv = hinges_.front().data();
  const Real* weight = weight_.data();
  const Real* rest = rest_angle_.data();
  Real* out = g.data();
  const Real k = stiffness_;
  parallel_for<ShellCpuExec>(n, [=](std::size_t i) {
    V3<Real> p[4];
    load_vertices(x, hv + 4 * i, p);
    Real ge[12];
    hinge_gradient(p, weight[i], k, rest[i], ge);
    for (int j = 0; j < 12; ++j) out[12 * i + std::size_t(j)] = ge[j];
  });
  for (std::size_t i = 0; i < n; ++i)
    for (int v = 0; v < 4; ++v)
      for (int a = 0; a < 3; ++a) grad[3 * hinges_[i][std::size_t(v)] + a] += g[12 * i + std::size_t(3 * v + a)];
}

template <class Real>
void HingeTerm<Real>::add_hessian(const Real* x, bool project_psd, std::vector<Eigen::Triplet<Real>>& out_triplets) const {
  const std::size_t n = hinges_.size();
  if (n == 0) return;
  std::vector<Real> H(144 * n);
  const int* hv = hinges_.front().data();
  const Real* weight = weight_.data();
  const Real* rest = rest_angle_.data();
  Real* out = H.data();
  const Real k = stiffness_;
  parallel_for<ShellCpuExec>(n, [=](std::size_t i) {
    V3<Real> p[4];
    load_vertices(x, hv + 4 * i, p);
    Real He[12][12];
    hinge_hessian(p, weight[i], k, rest[i], project_psd, He);
    for (int r = 0; r < 12; ++r)
      for (int c = 0; c < 12; ++c) out[144 * i + std::size_t(12 * r + c)] = He[r][c];
  });
  out_triplets.reserve(out_triplets.size() + 144 * n);
  for (std::size_t i = 0; i < n; ++i)
    for (int r = 0; r < 12; ++r)
      for (int c = 0; c < 12; ++c)
        out_triplets.emplace_back(3 * hinges_[i][std::size_t(r / 3)] + r % 3, 3 * hinges_[i][std::size_t(c / 3)] + c % 3,
                                  H[144 * i + std::size_t(12 * r + c)]);
}

template <class Real>
void HingeTerm<Real>::add_hessian_vector(const Real* x, const Real* u, Real* out_vec) const {
  const std::size_t n = hinges_.size();
  if (n == 0) return;
  std::vector<Real> hu(12 * n);
  const int* hv = hinges_.front().data();
  const Real* weight = weight_.data();
  const Real* rest = rest_angle_.data();
  Real* out = hu.data();
  const Real k = stiffness_;
  parallel_for<ShellCpuExec>(n, [=](std::size_t i) {
    V3<Real> p[4];
    load_vertices(x, hv + 4 * i, p);
    Real He[12][12];
    hinge_hessian(p, weight[i], k, rest[i], false, He);
    for (int r = 0; r < 12; ++r) {
      Real sum = Real(0);
      for (int c = 0; c < 12; ++c) sum += He[r][c] * u[3 * hv[4 * i + std::size_t(c / 3)] + c % 3];
      out[12 * i + std::size_t(r)] = sum;
    }
  });
  for (std::size_t i = 0; i < n; ++i)
    for (int r = 0; r < 12; ++r) out_vec[3 * hinges_[i][std::size_t(r / 3)] + r % 3] += hu[12 * i + std::size_t(r)];
}

template <class Real>
void HingeTerm<Real>::add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const {
  // ∂(∂E/∂x)/∂k_b · w per hinge; the yield angle does not enter the energy
  // (only end_step), so its entry gets nothing here.
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    V3<Real> p[4];
    load_vertices(x, hinges_[i].data(), p);
    Real we[12];
    for (int v = 0; v < 4; ++v)
      for (int a = 0; a < 3; ++a) we[3 * v + a] = w[3 * hinges_[i][std::size_t(v)] + a];
    Real adj_rest_unused = Real(0);
    hinge_gradient_vjp(p, weight_[i], stiffness_, rest_angle_[i], we, adj_theta[0], adj_rest_unused);
  }
}

template <class Real>
void HingeTerm<Real>::add_gradient_state_vjp(const Real* x, const Real* w, Real* adj_s) const {
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    V3<Real> p[4];
    load_vertices(x, hinges_[i].data(), p);
    Real we[12];
    for (int v = 0; v < 4; ++v)
      for (int a = 0; a < 3; ++a) we[3 * v + a] = w[3 * hinges_[i][std::size_t(v)] + a];
    Real adj_k_unused = Real(0);
    hinge_gradient_vjp(p, weight_[i], stiffness_, rest_angle_[i], we, adj_k_unused, adj_s[i]);
  }
}

template <class Real>
void HingeTerm<Real>::end_step(const Real* x) {
  if (!std::isfinite(double(yield_angle_))) return;  // elastic: rest angles never change
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    V3<Real> p[4];
    load_vertices(x, hinges_[i].data(), p);
    if (hinge_is_degenerate(p)) continue;  // no reliable angle: keep the rest angle
    rest_angle_[i] = plastic_rest_angle(dihedral_angle(p), rest_angle_[i], yield_angle_);
  }
}

template <class Real>
void HingeTerm<Real>::adj_end_step(const Real* x, const std::vector<Real>& s_before, const Real* adj_s_after,
                                   Real* adj_x, Real* adj_s_before) const {
  const bool plastic = std::isfinite(double(yield_angle_));
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    V3<Real> p[4];
    load_vertices(x, hinges_[i].data(), p);
    if (!plastic || hinge_is_degenerate(p)) {  // identity, as in end_step
      adj_s_before[i] += adj_s_after[i];
      continue;
    }
    Real adj_angle = Real(0), adj_yield_unused = Real(0);
    adj_plastic_rest_angle(dihedral_angle(p), s_before[i], yield_angle_, adj_s_after[i], adj_angle, adj_s_before[i],
                           adj_yield_unused);
    if (adj_angle != Real(0)) {
      V3<Real> g[4];
      dihedral_angle_gradient(p, g);
      for (int v = 0; v < 4; ++v)
        for (int a = 0; a < 3; ++a) adj_x[3 * hinges_[i][std::size_t(v)] + a] += adj_angle * g[v][a];
    }
  }
}

template <class Real>
void HingeTerm<Real>::adj_end_step_parameters(const Real* x, const std::vector<Real>& s_before, const Real* adj_s_after,
                                              Real* adj_theta) const {
  if (!std::isfinite(double(yield_angle_))) return;
  for (std::size_t i = 0; i < hinges_.size(); ++i) {
    V3<Real> p[4];
    load_vertices(x, hinges_[i].data(), p);
    if (hinge_is_degenerate(p)) continue;
    Real adj_angle_unused = Real(0), adj_rest_unused = Real(0);
    adj_plastic_rest_angle(dihedral_angle(p), s_before[i], yield_angle_, adj_s_after[i], adj_angle_unused,
                           adj_rest_unused, adj_theta[1]);
  }
}

template class MembraneTerm<float>;
template class MembraneTerm<double>;
template class HingeTerm<float>;
template class HingeTerm<double>;

}  // namespace pl::fem
