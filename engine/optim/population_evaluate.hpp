// The hook through which an optimization hands a whole population to an
// external evaluator (issue 10): a Ray cluster, a process pool, anything that
// can run the evaluation function (evaluate.hpp) on many points at once.
//
// optimize_scene (optimize_run.hpp) calls it with every batch the optimizer
// asks for: a CMA-ES generation (gradient = false), or one Adam/refine point
// (gradient = true).  The evaluator must return exactly one Evaluation per
// point, in the order of `points`; checked_population enforces that, so a
// faulty evaluator is an error here, not a corrupt optimizer state.
//
// Determinism: CMA-ES ranks by loss, so equal losses give equal runs.  An
// evaluator that uses the same per-evaluation thread count everywhere
// (the Python executors use 1) returns bit-identical losses locally and on a
// cluster, hence identical optimizations.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/optim/evaluate.hpp"

namespace pl::optim {

using PopulationEvaluate = std::function<std::vector<Evaluation>(const std::vector<std::vector<double>>& points,
                                                                 std::uint64_t seed, bool gradient)>;

/// Calls `evaluate` and checks what it returned: one Evaluation per point, a
/// gradient of the right size when asked for (for the ok ones).  Throws
/// SimulationError naming the mismatch otherwise.
std::vector<Evaluation> checked_population(const PopulationEvaluate& evaluate,
                                           const std::vector<std::vector<double>>& points, std::uint64_t seed,
                                           bool gradient);

}  // namespace pl::optim
