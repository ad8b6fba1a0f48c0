// Launches the per-element tet kernels on the CPU (Thrust OpenMP policy) and
// assembles their results.  PSD projection of element Hessians (Newton
// directions) is done here on the host with Eigen: it is a dense 12x12
// eigen-decomposition per element, clamped at zero (Teran et al. 2005 project
// per-element; clamping the full 12x12 block keeps it model-independent).
#include "engine/fem/tet_energy_term.hpp"

#include <Eigen/Dense>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/parallel.hpp"
#include "engine/fem/fem_cpu_exec.hpp"
#include "kernels/fem/tet_kernels.hpp"
#include "materials/model_list.hpp"

namespace pl::fem {
namespace {

template <class M>
constexpr bool kTetModel = !M::kHasPlasticity && !M::kIsFluid && M::kHasAdjoint;

}  // namespace

bool tet_model_supported(int model_id) {
  bool ok = false;
  materials::visit_model(model_id, [&](auto m) { ok = kTetModel<decltype(m)>; });
  return ok;
}

template <class Real>
TetEnergyTerm<Real>::TetEnergyTerm(std::string label, const TetMesh& mesh, int vertex_offset,
                                   const materials::MaterialDesc& material)
    : label_(std::move(label)), material_(material) {
  if (!tet_model_supported(material.model_id)) {
    std::string elastic;
    materials::for_each_model([&](auto m) {
      using M = decltype(m);
      if (kTetModel<M>) elastic += std::string(elastic.empty() ? "" : ", ") + M::kName;
    });
    throw InputError("tets '" + label_ + "': model '" + material.model_name +
                     "' cannot be used for tetrahedra (plastic and fluid models are MPM-only); expected one of: " +
                     elastic);
  }
  num_params_ = materials::model_info(material.model_id).num_params;
  for (int i = 0; i < materials::kMaxParams; ++i) params_[std::size_t(i)] = Real(material.params[std::size_t(i)]);
  tets_.reserve(4 * mesh.tets.size());
  rest_.reserve(mesh.tets.size());
  for (std::size_t t = 0; t < mesh.tets.size(); ++t) {
    Real X[12];
    for (int a = 0; a < 4; ++a) {
      const int v = mesh.tets[t][std::size_t(a)];
      tets_.push_back(v + vertex_offset);
      for (int d = 0; d < 3; ++d) X[3 * a + d] = Real(mesh.vertices[std::size_t(v)][std::size_t(d)]);
    }
    const TetRest<Real> r = tet_rest(X);
    if (!(r.volume > Real(0))) {
      std::ostringstream os;
      os << name() << ": tet " << t << " of " << mesh.source << " has rest volume " << r.volume
         << " (expected > 0; was the mesh passed through check_tet_mesh?)";
      throw InputError(os.str());
    }
    rest_.push_back(r);
  }
}

template <class Real>
template <class F>
void TetEnergyTerm<Real>::with_model(F&& f) const {
  materials::visit_model(material_.model_id, [&](auto m) {
    using M = decltype(m);
    if constexpr (kTetModel<M>) f(m);
  });
}

template <class Real>
Real TetEnergyTerm<Real>::energy(const Real* x) const {
  std::vector<Real> per(rest_.size());
  const TetView<Real> v{tets_.data(), rest_.data(), params_.data(), x};
  with_model([&](auto m) {
    fem_cpu_for(rest_.size(), TetEnergyKernel<decltype(m), Real>{v, per.data()});
  });
  Real sum = Real(0);
  for (Real e : per) sum += e;
  return sum;
}

template <class Real>
void TetEnergyTerm<Real>::add_gradient(const Real* x, Real* grad) const {
  std::vector<Real> per(12 * rest_.size());
  const TetView<Real> v{tets_.data(), rest_.data(), params_.data(), x};
  with_model([&](auto m) {
    fem_cpu_for(rest_.size(), TetGradientKernel<decltype(m), Real>{v, per.data()});
  });
  for (std::size_t e = 0; e < rest_.size(); ++e)
    for (int a = 0; a < 4; ++a)
      for (int d = 0; d < 3; ++d) grad[3 * tets_[4 * e + a] + d] += per[12 * e + 3 * a + d];
}

template <class Real>
void TetEnergyTerm<Real>::add_hessian_vector(const Real* x, const Real* u, Real* out) const {
  std::vector<Real> per(12 * rest_.size());
  const TetView<Real> v{tets_.data(), rest_.data(), params_.data(), x};
  with_model([&](auto m) {
    fem_cpu_for(rest_.size(), TetHessianVectorKernel<decltype(m), Real>{v, u, per.data()});
  });
  for (std::size_t e = 0; e < rest_.size(); ++e)
    for (int a = 0; a < 4; ++a)
      for (int d = 0; d < 3; ++d) out[3 * tets_[4 * e + a] + d] += per[12 * e + 3 * a + d];
}

template <class Real>
void TetEnergyTerm<Real>::add_hessian(const Real* x, bool project_psd, std::vector<Eigen::Triplet<Real>>& out) const {
  const std::size_t n = rest_.size();
  std::vector<Real> per(144 * n);
  const TetView<Real> v{tets_.data(), rest_.data(), params_.data(), x};
  with_model([&](auto m) {
    fem_cpu_for(n, TetHessianKernel<decltype(m), Real>{v, per.data()});
  });
  if (project_psd) {
    using M12 = Eigen::Matrix<Real, 12, 12>;
#pragma omp parallel for schedule(static) if (n >= kFemSerialBelow)
    for (long e = 0; e < long(n); ++e) {
      Eigen::Map<Eigen::Matrix<Real, 12, 12, Eigen::RowMajor>> K(per.data() + 144 * std::size_t(e));
      const M12 Kd = K;
      Eigen::SelfAdjointEigenSolver<M12> es(Kd);
      if (es.eigenvalues().minCoeff() >= Real(0)) continue;
      const auto clamped = es.eigenvalues().cwiseMax(Real(0));
      K = es.eigenvectors() * clamped.asDiagonal() * es.eigenvectors().transpose();
    }
  }
  out.reserve(out.size() + 144 * n);
  for (std::size_t e = 0; e < n; ++e)
    for (int i = 0; i < 12; ++i)
      for (int j = 0; j < 12; ++j)
        out.emplace_back(3 * tets_[4 * e + i / 3] + i % 3, 3 * tets_[4 * e + j / 3] + j % 3, per[144 * e + 12 * i + j]);
}

template <class Real>
std::vector<std::string> TetEnergyTerm<Real>::parameter_names() const {
  const auto info = materials::model_info(material_.model_id);
  std::vector<std::string> names;
  for (int i = 0; i < info.num_params; ++i) names.emplace_back(info.params[i].name);
  return names;
}

template <class Real>
std::vector<Real> TetEnergyTerm<Real>::parameters() const {
  return std::vector<Real>(params_.begin(), params_.begin() + num_params_);
}

template <class Real>
void TetEnergyTerm<Real>::set_parameters(const std::vector<Real>& theta) {
  if (int(theta.size()) != num_params_) {
    std::ostringstream os;
    os << name() << ": set_parameters got " << theta.size() << " values, expected " << num_params_;
    throw InputError(os.str());
  }
  double packed[materials::kMaxParams] = {};
  for (int i = 0; i < materials::kMaxParams; ++i)
    packed[i] = i < num_params_ ? double(theta[std::size_t(i)]) : material_.params[std::size_t(i)];
  std::string message;
  with_model([&](auto m) { message = decltype(m)::validate(packed); });
  throw_if_invalid(name(), message);
  for (int i = 0; i < num_params_; ++i) {
    params_[std::size_t(i)] = theta[std::size_t(i)];
    material_.params[std::size_t(i)] = packed[i];
  }
}

template <class Real>
void TetEnergyTerm<Real>::add_gradient_parameter_vjp(const Real* x, const Real* w, Real* adj_theta) const {
  constexpr int kP = materials::kMaxParams;
  std::vector<Real> per(kP * rest_.size());
  const TetView<Real> v{tets_.data(), rest_.data(), params_.data(), x};
  with_model([&](auto m) {
    fem_cpu_for(rest_.size(), TetParameterVjpKernel<decltype(m), Real>{v, w, per.data()});
  });
  for (std::size_t e = 0; e < rest_.size(); ++e)
    for (int i = 0; i < num_params_; ++i) adj_theta[i] += per[kP * e + std::size_t(i)];
}

// ---- rest stiffness (linear elasticity with the model's E, nu) ---------------
// Every tet model here has params (E, nu) at indices 0, 1 (checked at build
// time below) and linearizes to linear elasticity with them.
static_assert(materials::FixedCorotated::kE == 0 && materials::FixedCorotated::kNu == 1 &&
                  materials::StableNeoHookean::kE == 0 && materials::StableNeoHookean::kNu == 1,
              "rest stiffness assumes (E, nu) are the first two parameters of every tet model");

template <class Real>
void TetEnergyTerm<Real>::add_rest_stiffness_vector(const Real* u, Real* out) const {
  const Real mu = materials::lame_mu(params_[0], params_[1]), lambda = materials::lame_lambda(params_[0], params_[1]);
  for (std::size_t e = 0; e < rest_.size(); ++e) {
    Real ue[12], o[12] = {};
    for (int a = 0; a < 4; ++a)
      for (int d = 0; d < 3; ++d) ue[3 * a + d] = u[3 * tets_[4 * e + a] + d];
    tet_add_rest_stiffness_vector(mu, lambda, rest_[e], ue, o);
    for (int a = 0; a < 4; ++a)
      for (int d = 0; d < 3; ++d) out[3 * tets_[4 * e + a] + d] += o[3 * a + d];
  }
}

template <class Real>
void TetEnergyTerm<Real>::add_rest_stiffness(std::vector<Eigen::Triplet<Real>>& out) const {
  const Real mu = materials::lame_mu(params_[0], params_[1]), lambda = materials::lame_lambda(params_[0], params_[1]);
  for (std::size_t e = 0; e < rest_.size(); ++e)
    for (int k = 0; k < 12; ++k) {
      Real unit[12] = {}, col[12] = {};
      unit[k] = Real(1);
      tet_add_rest_stiffness_vector(mu, lambda, rest_[e], unit, col);
      for (int i = 0; i < 12; ++i)
        out.emplace_back(3 * tets_[4 * e + i / 3] + i % 3, 3 * tets_[4 * e + k / 3] + k % 3, col[i]);
    }
}

template <class Real>
void TetEnergyTerm<Real>::add_rest_stiffness_parameter_vjp(const Real* u, const Real* w, Real* adj_theta) const {
  const Real E = params_[0], nu = params_[1];
  const Real mu = materials::lame_mu(E, nu), lambda = materials::lame_lambda(E, nu);
  Real adj_mu = Real(0), adj_lambda = Real(0);
  for (std::size_t e = 0; e < rest_.size(); ++e) {
    Real ue[12], we[12];
    for (int a = 0; a < 4; ++a)
      for (int d = 0; d < 3; ++d) {
        ue[3 * a + d] = u[3 * tets_[4 * e + a] + d];
        we[3 * a + d] = w[3 * tets_[4 * e + a] + d];
      }
    tet_rest_stiffness_form(mu, lambda, rest_[e], we, ue, adj_mu, adj_lambda);
  }
  materials::adj_lame(E, nu, adj_mu, adj_lambda, adj_theta[0], adj_theta[1]);
}

template class TetEnergyTerm<float>;
template class TetEnergyTerm<double>;

}  // namespace pl::fem
