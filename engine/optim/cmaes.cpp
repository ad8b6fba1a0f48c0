#include "engine/optim/cmaes.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace pl::optim {

Cmaes::Cmaes(int n, int population, std::uint64_t seed) : n_(n), rng_(seed) {
  if (n < 1) throw std::invalid_argument("Cmaes: dimension must be >= 1");
  // Table 1 of the tutorial.
  lambda_ = population > 0 ? population : 4 + int(std::floor(3 * std::log(double(n))));
  lambda_ = std::max(lambda_, 2);
  mu_ = lambda_ / 2;
  weights_.resize(std::size_t(mu_));
  for (int i = 0; i < mu_; ++i) weights_[std::size_t(i)] = std::log((lambda_ + 1) / 2.0) - std::log(i + 1.0);
  const double sum = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  double sq = 0;
  for (double& w : weights_) w /= sum, sq += w * w;
  mu_eff_ = 1 / sq;
  const double nd = n;
  c_sigma_ = (mu_eff_ + 2) / (nd + mu_eff_ + 5);
  d_sigma_ = 1 + 2 * std::max(0.0, std::sqrt((mu_eff_ - 1) / (nd + 1)) - 1) + c_sigma_;
  c_c_ = (4 + mu_eff_ / nd) / (nd + 4 + 2 * mu_eff_ / nd);
  c_1_ = 2 / ((nd + 1.3) * (nd + 1.3) + mu_eff_);
  c_mu_ = std::min(1 - c_1_, 2 * (mu_eff_ - 2 + 1 / mu_eff_) / ((nd + 2) * (nd + 2) + mu_eff_));
  chi_n_ = std::sqrt(nd) * (1 - 1 / (4 * nd) + 1 / (21 * nd * nd));  // E||N(0, I)||
  start(std::vector<double>(std::size_t(n), 0.0), 0.2);
}

void Cmaes::start(const std::vector<double>& mean, double sigma) {
  const std::size_t n = std::size_t(n_);
  mean_ = mean;
  sigma_ = sigma;
  ps_.assign(n, 0.0);
  pc_.assign(n, 0.0);
  C_.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) C_[i * n + i] = 1;
  generation_ = 0;
  asked_ = false;
  decompose();
}

void Cmaes::decompose() {
  const int n = n_;
  Eigen::MatrixXd C(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) C(i, j) = 0.5 * (C_[std::size_t(i * n + j)] + C_[std::size_t(j * n + i)]);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(C);
  B_.assign(std::size_t(n * n), 0.0);
  d_.assign(std::size_t(n), 0.0);
  for (int i = 0; i < n; ++i) {
    d_[std::size_t(i)] = std::sqrt(std::max(es.eigenvalues()(i), 1e-300));
    for (int j = 0; j < n; ++j) B_[std::size_t(j * n + i)] = es.eigenvectors()(j, i);
  }
}

const std::vector<std::vector<double>>& Cmaes::ask() {
  if (asked_) return x_;
  const std::size_t n = std::size_t(n_);
  z_.assign(std::size_t(lambda_), std::vector<double>(n));
  y_ = x_ = z_;
  for (int k = 0; k < lambda_; ++k) {
    auto& z = z_[std::size_t(k)];
    for (auto& v : z) v = rng_.normal();
    for (std::size_t i = 0; i < n; ++i) {  // y = B D z (eq. 39)
      double s = 0;
      for (std::size_t j = 0; j < n; ++j) s += B_[i * n + j] * d_[j] * z[j];
      y_[std::size_t(k)][i] = s;
      x_[std::size_t(k)][i] = mean_[i] + sigma_ * s;  // eq. 40
    }
  }
  asked_ = true;
  return x_;
}

void Cmaes::tell(const std::vector<double>& fitness) {
  if (!asked_ || int(fitness.size()) != lambda_) throw std::logic_error("Cmaes::tell: needs one fitness per asked candidate");
  const std::size_t n = std::size_t(n_);
  std::vector<int> order(static_cast<std::size_t>(lambda_));
  std::iota(order.begin(), order.end(), 0);
  // NaN ranks last; ties keep the sampling order (stable), so ranking is deterministic.
  const auto key = [&](int k) {
    const double f = fitness[std::size_t(k)];
    return std::isnan(f) ? std::numeric_limits<double>::infinity() : f;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
  // y_w and the mean (eq. 41, c_m = 1).
  std::vector<double> yw(n, 0.0), zw(n, 0.0);
  for (int i = 0; i < mu_; ++i) {
    const double w = weights_[std::size_t(i)];
    for (std::size_t j = 0; j < n; ++j) {
      yw[j] += w * y_[std::size_t(order[std::size_t(i)])][j];
      zw[j] += w * z_[std::size_t(order[std::size_t(i)])][j];
    }
  }
  for (std::size_t j = 0; j < n; ++j) mean_[j] += sigma_ * yw[j];
  // p_sigma (eq. 43): C^-1/2 y_w = B z_w.
  const double cs = std::sqrt(c_sigma_ * (2 - c_sigma_) * mu_eff_);
  double ps_norm = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double bz = 0;
    for (std::size_t j = 0; j < n; ++j) bz += B_[i * n + j] * zw[j];
    ps_[i] = (1 - c_sigma_) * ps_[i] + cs * bz;
    ps_norm += ps_[i] * ps_[i];
  }
  ps_norm = std::sqrt(ps_norm);
  // h_sigma stalls the rank-one path while the step size grows fast (p. 37).
  const double hs_lhs = ps_norm / std::sqrt(1 - std::pow(1 - c_sigma_, 2.0 * (generation_ + 1)));
  const double h_sigma = hs_lhs < (1.4 + 2 / (double(n) + 1)) * chi_n_ ? 1.0 : 0.0;
  const double cc = std::sqrt(c_c_ * (2 - c_c_) * mu_eff_);
  for (std::size_t i = 0; i < n; ++i) pc_[i] = (1 - c_c_) * pc_[i] + h_sigma * cc * yw[i];  // eq. 45
  const double delta = (1 - h_sigma) * c_c_ * (2 - c_c_);
  // C (eq. 47 with positive weights, sum w = 1).
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double rank_mu = 0;
      for (int k = 0; k < mu_; ++k) {
        const auto& y = y_[std::size_t(order[std::size_t(k)])];
        rank_mu += weights_[std::size_t(k)] * y[i] * y[j];
      }
      C_[i * n + j] = (1 + c_1_ * delta - c_1_ - c_mu_) * C_[i * n + j] + c_1_ * pc_[i] * pc_[j] + c_mu_ * rank_mu;
    }
  // Step size (eq. 44).
  sigma_ *= std::exp(c_sigma_ / d_sigma_ * (ps_norm / chi_n_ - 1));
  ++generation_;
  asked_ = false;
  decompose();
}

std::string Cmaes::save() const {
  nlohmann::json j;
  j["n"] = n_;
  j["lambda"] = lambda_;
  j["mean"] = mean_;
  j["ps"] = ps_;
  j["pc"] = pc_;
  j["C"] = C_;
  j["sigma"] = sigma_;
  j["generation"] = generation_;
  j["rng"] = rng_.save();
  return j.dump();
}

void Cmaes::load(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  if (j.at("n").get<int>() != n_ || j.at("lambda").get<int>() != lambda_)
    throw std::runtime_error("the saved CMA-ES state has a different dimension or population");
  mean_ = j.at("mean").get<std::vector<double>>();
  ps_ = j.at("ps").get<std::vector<double>>();
  pc_ = j.at("pc").get<std::vector<double>>();
  C_ = j.at("C").get<std::vector<double>>();
  sigma_ = j.at("sigma").get<double>();
  generation_ = j.at("generation").get<int>();
  rng_.load(j.at("rng").get<std::string>());
  asked_ = false;
  decompose();
}

}  // namespace pl::optim
