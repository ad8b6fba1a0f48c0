#include "engine/optim/optimizer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "engine/core/error.hpp"

namespace pl::optim {

namespace {

/// JSON has no infinity: non-finite numbers are stored as null and read back as +inf.
nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double num(const nlohmann::json& j) { return j.is_null() ? std::numeric_limits<double>::infinity() : j.get<double>(); }

std::vector<double> clamp01(std::vector<double> u) {
  for (double& v : u) v = std::min(1.0, std::max(0.0, v));
  return u;
}

}  // namespace

Optimizer::Optimizer(const scene::OptimizerDesc& desc, const std::vector<double>& u0)
    : desc_(desc), n_(int(u0.size())), best_u_(u0) {
  adam_settings_.learning_rate = desc.learning_rate;
  adam_settings_.schedule = desc.schedule;
  adam_settings_.decay = desc.decay;
  adam_settings_.clip_norm = desc.clip_norm;
  adam_settings_.beta1 = desc.beta1;
  adam_settings_.beta2 = desc.beta2;
  adam_settings_.horizon = desc.method == "hybrid" ? desc.refine_iterations : desc.iterations;
  adam_.start(u0);
  if (desc.method == "adam") {
    phase_ = "adam";
  } else {
    cmaes_ = std::make_unique<Cmaes>(n_, desc.population, desc.seed);
    cmaes_->start(u0, desc.sigma);
    phase_ = "cmaes";
  }
}

void Optimizer::consider(double loss, const std::vector<double>& u, const std::map<std::string, double>& metrics) {
  if (loss < best_loss_) {
    best_loss_ = loss;
    best_u_ = u;
    best_metrics_ = metrics;
  }
}

void Optimizer::remember_candidate(double loss, const std::vector<double>& u) {
  if (!std::isfinite(loss)) return;
  for (const auto& [l, v] : top_)
    if (v == u) return;
  top_.emplace_back(loss, u);
  std::stable_sort(top_.begin(), top_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (int(top_.size()) > desc_.refine_candidates) top_.resize(std::size_t(desc_.refine_candidates));
}

void Optimizer::start_refinement() {
  phase_ = (top_.empty() || desc_.refine_iterations == 0) ? "done" : "refine";
  refine_index_ = 0;
  refine_step_ = 0;
  if (phase_ == "refine") adam_.start(top_[0].second);
}

IterationRecord Optimizer::adam_iteration(const BatchEvaluate& evaluate, const std::string& phase) {
  IterationRecord r;
  r.phase = phase;
  r.u = adam_.x;
  const Evaluation e = evaluate({adam_.x}, true).at(0);
  r.evaluations = 1;
  r.loss = e.loss;
  r.metrics = e.metrics;
  if (!e.ok) {
    if (phase == "adam")
      throw SimulationError("optimizer: the rollout failed at iteration " + std::to_string(iteration_) + ": " + e.error +
                            " (lower optimizer.learning_rate or narrow the controls' bounds)");
    r.failed = 1;
    ++refine_index_;  // give up on this candidate
    refine_step_ = 0;
    if (refine_index_ >= int(top_.size())) phase_ = "done";
    else adam_.start(top_[std::size_t(refine_index_)].second);
    return r;
  }
  consider(e.loss, adam_.x, e.metrics);
  r.grad_norm = adam_step(adam_, e.gradient, adam_settings_);
  last_grad_norm_ = r.grad_norm;
  if (phase == "refine" && ++refine_step_ >= desc_.refine_iterations) {
    ++refine_index_;
    refine_step_ = 0;
    if (refine_index_ >= int(top_.size())) phase_ = "done";
    else adam_.start(top_[std::size_t(refine_index_)].second);
  }
  return r;
}

IterationRecord Optimizer::cmaes_iteration(const BatchEvaluate& evaluate) {
  IterationRecord r;
  r.phase = "cmaes";
  const auto& xs = cmaes_->ask();
  std::vector<std::vector<double>> points;
  for (const auto& x : xs) points.push_back(clamp01(x));
  const std::vector<Evaluation> es = evaluate(points, false);
  r.evaluations = int(es.size());
  // Repair + penalty: f(clamp(x)) + gamma |x - clamp(x)|^2, gamma the median |f|
  // of the generation, so the penalty has the loss's scale whatever its unit.
  std::vector<double> finite;
  for (const auto& e : es)
    if (std::isfinite(e.loss)) finite.push_back(std::fabs(e.loss));
  double gamma = 1;
  if (!finite.empty()) {
    std::nth_element(finite.begin(), finite.begin() + long(finite.size() / 2), finite.end());
    gamma = std::max(finite[finite.size() / 2], 1e-12);
  }
  std::vector<double> fitness;
  int best = -1;
  for (std::size_t k = 0; k < es.size(); ++k) {
    double d2 = 0;
    for (std::size_t i = 0; i < points[k].size(); ++i) d2 += (xs[k][i] - points[k][i]) * (xs[k][i] - points[k][i]);
    fitness.push_back(es[k].loss + gamma * d2);
    if (!es[k].ok) ++r.failed;
    if (es[k].ok && (best < 0 || es[k].loss < es[std::size_t(best)].loss)) best = int(k);
    if (es[k].ok) {
      consider(es[k].loss, points[k], es[k].metrics);
      if (desc_.method == "hybrid") remember_candidate(es[k].loss, points[k]);
    }
  }
  cmaes_->tell(fitness);
  r.sigma = cmaes_->sigma();
  if (best >= 0) {
    r.loss = es[std::size_t(best)].loss;
    r.u = points[std::size_t(best)];
    r.metrics = es[std::size_t(best)].metrics;
  } else {
    r.loss = std::numeric_limits<double>::infinity();
  }
  if (desc_.method == "hybrid" && cmaes_->generation() >= desc_.cmaes_iterations) start_refinement();
  return r;
}

IterationRecord Optimizer::iterate(const BatchEvaluate& evaluate) {
  IterationRecord r = phase_ == "cmaes" ? cmaes_iteration(evaluate) : adam_iteration(evaluate, phase_);
  r.iteration = iteration_++;
  r.best_loss = best_loss_;
  best_history_.push_back(best_loss_);
  return r;
}

bool Optimizer::done() const { return !stop_reason().empty(); }

std::string Optimizer::stop_reason() const {
  if (iteration_ >= desc_.iterations) return "reached optimizer.iterations = " + std::to_string(desc_.iterations);
  if (best_loss_ <= desc_.target_loss) return "best loss <= optimizer.target_loss";
  if (phase_ == "done") return "every hybrid candidate refined";
  if (desc_.rel_tolerance > 0 && int(best_history_.size()) > desc_.patience) {
    const double before = best_history_[best_history_.size() - 1 - std::size_t(desc_.patience)];
    if (std::isfinite(before) && before - best_loss_ <= desc_.rel_tolerance * std::fabs(before))
      return "best loss improved by less than optimizer.rel_tolerance over optimizer.patience iterations";
  }
  if (desc_.grad_tolerance > 0 && (phase_ == "adam") && last_grad_norm_ < desc_.grad_tolerance)
    return "gradient norm < optimizer.grad_tolerance";
  if (cmaes_ && phase_ == "cmaes" && cmaes_->sigma() < 1e-12) return "CMA-ES step size collapsed (sigma < 1e-12)";
  return "";
}

std::string Optimizer::save() const {
  nlohmann::json j;
  j["method"] = desc_.method;
  j["n"] = n_;
  j["iteration"] = iteration_;
  j["best_loss"] = num(best_loss_);
  j["best_u"] = best_u_;
  nlohmann::json bm = nlohmann::json::object();
  for (const auto& [k, v] : best_metrics_) bm[k] = num(v);
  j["best_metrics"] = bm;
  nlohmann::json hist = nlohmann::json::array();
  for (double v : best_history_) hist.push_back(num(v));
  j["best_history"] = hist;
  j["last_grad_norm"] = std::isnan(last_grad_norm_) ? nlohmann::json(nullptr) : num(last_grad_norm_);
  j["adam"] = {{"x", adam_.x}, {"m", adam_.m}, {"v", adam_.v}, {"t", adam_.t}};
  if (cmaes_) j["cmaes"] = nlohmann::json::parse(cmaes_->save());
  j["phase"] = phase_;
  nlohmann::json top = nlohmann::json::array();
  for (const auto& [l, u] : top_) top.push_back({{"loss", num(l)}, {"u", u}});
  j["top"] = top;
  j["refine_index"] = refine_index_;
  j["refine_step"] = refine_step_;
  return j.dump();
}

void Optimizer::load(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(std::string("the optimizer state is not valid JSON: ") + e.what());
  }
  if (j.value("method", "") != desc_.method || j.value("n", -1) != n_)
    throw InputError("the optimizer state was saved by a different method or number of parameters (" +
                     j.value("method", std::string("?")) + ", " + std::to_string(j.value("n", -1)) + " parameters)");
  iteration_ = j.at("iteration").get<int>();
  best_loss_ = num(j.at("best_loss"));
  best_u_ = j.at("best_u").get<std::vector<double>>();
  best_metrics_.clear();
  for (const auto& [k, v] : j.at("best_metrics").items()) best_metrics_[k] = num(v);
  best_history_.clear();
  for (const auto& v : j.at("best_history")) best_history_.push_back(num(v));
  last_grad_norm_ = j.at("last_grad_norm").is_null() ? std::numeric_limits<double>::quiet_NaN()
                                                     : j.at("last_grad_norm").get<double>();
  const auto& a = j.at("adam");
  adam_.x = a.at("x").get<std::vector<double>>();
  adam_.m = a.at("m").get<std::vector<double>>();
  adam_.v = a.at("v").get<std::vector<double>>();
  adam_.t = a.at("t").get<int>();
  if (cmaes_) {
    try {
      cmaes_->load(j.at("cmaes").dump());
    } catch (const std::runtime_error& e) {
      throw InputError(std::string("the optimizer state does not fit this scene: ") + e.what());
    }
  }
  phase_ = j.at("phase").get<std::string>();
  top_.clear();
  for (const auto& t : j.at("top")) top_.emplace_back(num(t.at("loss")), t.at("u").get<std::vector<double>>());
  refine_index_ = j.at("refine_index").get<int>();
  refine_step_ = j.at("refine_step").get<int>();
}

}  // namespace pl::optim
