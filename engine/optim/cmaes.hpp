// CMA-ES, following N. Hansen, "The CMA Evolution Strategy: A Tutorial"
// (arXiv:1604.00772, 2016): Table 1 default parameters, positive recombination
// weights only, sampling eq. (38)-(40), mean update eq. (41), step-size
// control eq. (43)-(44) (cumulative path length), covariance update eq. (45)
// with the rank-one and rank-mu terms and the h_sigma stall of the rank-one
// path (p. 37).
//
// Bounds: candidates live in R^n; the caller evaluates them at the box's
// projection and adds a quadratic penalty on the distance to the box (the
// "repair + penalty" approach of the tutorial's boundary-handling section), so
// the ranking keeps the search inside.
//
// Everything that determines the next generation — mean, step size, paths,
// covariance, generation count and the generator's state — is in State, which
// saves to and loads from JSON text exactly (doubles round-trip), so a resumed
// run continues with the same samples.
//
// Usage:
//   Cmaes es(n, /*population=*/0, seed);  es.start(mean, sigma);
//   while (...) { auto xs = es.ask(); std::vector<double> f = eval(xs); es.tell(f); }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/optim/rng.hpp"

namespace pl::optim {

class Cmaes {
 public:
  /// population 0 = 4 + floor(3 ln n) (Table 1).
  Cmaes(int n, int population, std::uint64_t seed);

  void start(const std::vector<double>& mean, double sigma);
  /// The next generation's candidates (population of them).  Calling ask()
  /// twice without tell() returns the same candidates.
  const std::vector<std::vector<double>>& ask();
  /// Fitness of each candidate of the last ask() (lower is better; +inf allowed).
  void tell(const std::vector<double>& fitness);

  int population() const { return lambda_; }
  int generation() const { return generation_; }
  double sigma() const { return sigma_; }
  const std::vector<double>& mean() const { return mean_; }

  std::string save() const;                 // JSON text
  void load(const std::string& json_text);  // throws std::runtime_error on a mismatch

 private:
  void decompose();  // C = B diag(d^2) B^T

  int n_, lambda_, mu_;
  std::vector<double> weights_;
  double mu_eff_, c_sigma_, d_sigma_, c_c_, c_1_, c_mu_, chi_n_;
  std::vector<double> mean_, ps_, pc_;
  std::vector<double> C_, B_, d_;  // row-major n x n, eigenvectors (columns), sqrt of eigenvalues
  double sigma_ = 0.2;
  int generation_ = 0;
  Rng rng_;
  // The pending generation: z ~ N(0, I), y = B D z, x = mean + sigma y.
  std::vector<std::vector<double>> z_, y_, x_;
  bool asked_ = false;
};

}  // namespace pl::optim
