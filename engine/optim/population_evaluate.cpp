#include "engine/optim/population_evaluate.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "engine/core/error.hpp"

namespace pl::optim {

std::vector<Evaluation> checked_population(const PopulationEvaluate& evaluate,
                                           const std::vector<std::vector<double>>& points, std::uint64_t seed,
                                           bool gradient) {
  std::vector<Evaluation> out = evaluate(points, seed, gradient);
  if (out.size() != points.size())
    throw SimulationError("population evaluator returned " + std::to_string(out.size()) + " results for " +
                          std::to_string(points.size()) + " points");
  for (std::size_t k = 0; k < out.size(); ++k) {
    Evaluation& e = out[k];
    if (!e.ok) {
      // A failed candidate ranks last, whatever loss the evaluator filled in.
      e.loss = std::numeric_limits<double>::infinity();
      continue;
    }
    if (gradient && e.gradient.size() != points[k].size())
      throw SimulationError("population evaluator returned a gradient of size " + std::to_string(e.gradient.size()) +
                            " for point " + std::to_string(k) + " of dimension " + std::to_string(points[k].size()));
    if (std::isnan(e.loss))
      throw SimulationError("population evaluator returned a NaN loss marked ok for point " + std::to_string(k));
  }
  return out;
}

}  // namespace pl::optim
