// The optimizers on functions with known minima: Adam on a quadratic, CMA-ES
// on Rosenbrock (seeded), and the iteration driver's saved state: stopping
// half-way, saving, loading into a fresh driver and continuing gives exactly
// the iterations of a run that never stopped (every method, hybrid included).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/optim/adam.hpp"
#include "engine/optim/cmaes.hpp"
#include "engine/optim/optimizer.hpp"

namespace pl::optim {
namespace {

TEST(OptimAdam, MinimizesAQuadraticInsideTheBox) {
  // f(x) = sum_i c_i (x_i - t_i)^2 with the minimum inside [0, 1]^3 and
  // curvatures 100x apart (Adam's per-coordinate scaling handles that).
  const std::vector<double> t = {0.2, 0.7, 0.55}, c = {1.0, 10.0, 100.0};
  AdamSettings s;
  s.learning_rate = 0.05;
  s.schedule = "exponential";
  s.decay = 0.99;
  AdamState st;
  st.start({0.9, 0.1, 0.0});
  for (int k = 0; k < 600; ++k) {
    std::vector<double> g(3);
    for (int i = 0; i < 3; ++i) g[std::size_t(i)] = 2 * c[std::size_t(i)] * (st.x[std::size_t(i)] - t[std::size_t(i)]);
    adam_step(st, g, s);
  }
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(st.x[std::size_t(i)], t[std::size_t(i)], 1e-3) << "coordinate " << i;
}

TEST(OptimAdam, ProjectsOntoTheBoxAndClipsTheGradient) {
  AdamSettings s;
  s.learning_rate = 0.5;
  s.clip_norm = 1.0;
  AdamState st;
  st.start({0.9, 0.1});
  const double norm = adam_step(st, {-30.0, 40.0}, s);  // |g| = 50, clipped to 1
  EXPECT_DOUBLE_EQ(norm, 1.0);
  EXPECT_DOUBLE_EQ(st.x[0], 1.0);  // 0.9 + 0.5 -> projected to the box
  EXPECT_DOUBLE_EQ(st.x[1], 0.0);
  // Cosine schedule: full rate at 0, 5% at the horizon.
  s.schedule = "cosine";
  s.horizon = 10;
  EXPECT_DOUBLE_EQ(adam_learning_rate(s, 0), 0.5);
  EXPECT_NEAR(adam_learning_rate(s, 10), 0.025, 1e-15);
}

double rosenbrock(const std::vector<double>& x) {
  double f = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i)
    f += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
  return f;
}

TEST(OptimCmaes, ConvergesOnRosenbrock) {
  // 4-D Rosenbrock from the origin: minimum 0 at (1, 1, 1, 1).
  Cmaes es(4, 0, 7);
  es.start({0, 0, 0, 0}, 0.5);
  double best = 1e300;
  int g = 0;
  for (; g < 1000 && best > 1e-10; ++g) {
    const auto xs = es.ask();
    std::vector<double> f;
    for (const auto& x : xs) f.push_back(rosenbrock(x)), best = std::min(best, f.back());
    es.tell(f);
  }
  EXPECT_LT(best, 1e-10) << "after " << g << " generations";
  for (double m : es.mean()) EXPECT_NEAR(m, 1.0, 1e-3);
  EXPECT_EQ(es.population(), 4 + int(std::floor(3 * std::log(4.0))));
}

TEST(OptimCmaes, SavedStateContinuesWithTheSameSamples) {
  Cmaes a(3, 6, 11), b(3, 6, 11);
  a.start({0.5, 0.5, 0.5}, 0.3);
  const auto f = [](const std::vector<std::vector<double>>& xs) {
    std::vector<double> out;
    for (const auto& x : xs) out.push_back(rosenbrock(x));
    return out;
  };
  for (int g = 0; g < 5; ++g) a.tell(f(a.ask()));
  b.load(a.save());
  for (int g = 0; g < 5; ++g) {
    const auto xa = a.ask(), xb = b.ask();
    ASSERT_EQ(xa, xb) << "generation " << g;
    a.tell(f(xa));
    b.tell(f(xb));
  }
  EXPECT_EQ(a.sigma(), b.sigma());
}

/// A stand-in for the rollout: f(u) = sum (u_i - t_i)^2 + 0.3 sin(8 u_0), with gradient.
std::vector<Evaluation> toy(const std::vector<std::vector<double>>& points, bool gradient) {
  std::vector<Evaluation> out;
  for (const auto& u : points) {
    Evaluation e;
    const double t[3] = {0.3, 0.8, 0.45};
    for (std::size_t i = 0; i < u.size(); ++i) e.loss += (u[i] - t[i]) * (u[i] - t[i]);
    e.loss += 0.3 * std::sin(8 * u[0]);
    if (gradient) {
      for (std::size_t i = 0; i < u.size(); ++i) e.gradient.push_back(2 * (u[i] - t[i]));
      e.gradient[0] += 2.4 * std::cos(8 * u[0]);
    }
    e.metrics["x0"] = u[0];
    out.push_back(e);
  }
  return out;
}

TEST(OptimDriver, ResumedRunEqualsUninterruptedForEveryMethod) {
  for (const std::string method : {"adam", "cmaes", "hybrid"}) {
    scene::OptimizerDesc d;
    d.method = method;
    d.iterations = 24;
    d.seed = 5;
    d.learning_rate = 0.05;
    d.cmaes_iterations = 6;
    d.refine_candidates = 2;
    d.refine_iterations = 8;
    const std::vector<double> u0 = {0.9, 0.1, 0.5};
    Optimizer full(d, u0);
    std::vector<double> losses;
    while (!full.done()) losses.push_back(full.iterate(toy).loss);

    Optimizer first(d, u0);
    std::vector<double> resumed;
    for (int k = 0; k < 9 && !first.done(); ++k) resumed.push_back(first.iterate(toy).loss);
    Optimizer second(d, u0);  // a new process: only the saved text survives
    second.load(first.save());
    while (!second.done()) resumed.push_back(second.iterate(toy).loss);

    EXPECT_EQ(losses, resumed) << method;
    EXPECT_EQ(full.best_loss(), second.best_loss()) << method;
    EXPECT_EQ(full.best_u(), second.best_u()) << method;
    EXPECT_LT(full.best_loss(), toy({u0}, false)[0].loss - 0.1) << method << " did not improve";
  }
}

TEST(OptimDriver, HybridRefinesItsBestCandidatesWithGradientSteps) {
  scene::OptimizerDesc d;
  d.method = "hybrid";
  d.iterations = 100;
  d.cmaes_iterations = 5;
  d.refine_candidates = 2;
  d.refine_iterations = 10;
  Optimizer opt(d, {0.9, 0.1, 0.5});
  std::vector<std::string> phases;
  double best_after_cmaes = 0;
  while (!opt.done()) {
    const IterationRecord r = opt.iterate(toy);
    phases.push_back(r.phase);
    if (r.iteration == 4) best_after_cmaes = r.best_loss;
    if (r.phase == "refine") EXPECT_FALSE(std::isnan(r.grad_norm));
  }
  ASSERT_EQ(phases.size(), 5u + 2u * 10u);  // then every candidate is refined and it stops
  for (int k = 0; k < 5; ++k) EXPECT_EQ(phases[std::size_t(k)], "cmaes");
  for (std::size_t k = 5; k < phases.size(); ++k) EXPECT_EQ(phases[k], "refine");
  EXPECT_LT(opt.best_loss(), best_after_cmaes) << "the gradient refinement did not improve on CMA-ES";
  EXPECT_EQ(opt.stop_reason(), "every hybrid candidate refined");
}

TEST(OptimDriver, StopsAtTheTargetLossAndOnStalls) {
  scene::OptimizerDesc d;
  d.method = "adam";
  d.iterations = 1000;
  d.target_loss = 0.0;  // the toy's minimum is below 0 near u0 = 0.6
  Optimizer a(d, {0.9, 0.1, 0.5});
  while (!a.done()) a.iterate(toy);
  EXPECT_LT(a.iteration(), 1000);
  EXPECT_LE(a.best_loss(), 0.0);
  d.target_loss = -1e9;
  d.rel_tolerance = 1e-9;
  d.patience = 5;
  Optimizer b(d, {0.9, 0.1, 0.5});
  while (!b.done()) b.iterate(toy);
  EXPECT_LT(b.iteration(), 1000);
  EXPECT_NE(b.stop_reason().find("rel_tolerance"), std::string::npos) << b.stop_reason();
}

}  // namespace
}  // namespace pl::optim
