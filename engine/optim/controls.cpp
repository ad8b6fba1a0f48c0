#include "engine/optim/controls.hpp"

#include <algorithm>
#include <cmath>

namespace pl::optim {

namespace {
double clamp01(double u) { return std::isnan(u) ? 0.0 : std::min(1.0, std::max(0.0, u)); }
}  // namespace

ControlLayout::ControlLayout(const std::vector<scene::ControlDesc>& controls) : controls_(controls) {
  for (const auto& c : controls_) {
    offsets_.push_back(size_);
    size_ += c.size();
  }
}

std::vector<double> ControlLayout::to_physical(const std::vector<double>& u) const {
  std::vector<double> p(static_cast<std::size_t>(size_));
  for (std::size_t c = 0; c < controls_.size(); ++c) {
    const auto& d = controls_[c];
    for (int k = 0; k < d.size(); ++k) {
      const std::size_t i = std::size_t(offsets_[c] + k), j = std::size_t(k);
      const double t = clamp01(u[i]);
      p[i] = d.log_space ? std::exp(std::log(d.lower[j]) + t * (std::log(d.upper[j]) - std::log(d.lower[j])))
                         : d.lower[j] + t * (d.upper[j] - d.lower[j]);
      p[i] = std::min(d.upper[j], std::max(d.lower[j], p[i]));  // exp/log round-off must not leave the range
    }
  }
  return p;
}

std::vector<double> ControlLayout::to_unit(const std::vector<double>& physical) const {
  std::vector<double> u(static_cast<std::size_t>(size_));
  for (std::size_t c = 0; c < controls_.size(); ++c) {
    const auto& d = controls_[c];
    for (int k = 0; k < d.size(); ++k) {
      const std::size_t i = std::size_t(offsets_[c] + k), j = std::size_t(k);
      const double p = std::min(d.upper[j], std::max(d.lower[j], physical[i]));
      u[i] = d.log_space ? (std::log(p) - std::log(d.lower[j])) / (std::log(d.upper[j]) - std::log(d.lower[j]))
                         : (p - d.lower[j]) / (d.upper[j] - d.lower[j]);
    }
  }
  return u;
}

std::vector<double> ControlLayout::dphysical_du(const std::vector<double>& u) const {
  const std::vector<double> p = to_physical(u);
  std::vector<double> g(static_cast<std::size_t>(size_));
  for (std::size_t c = 0; c < controls_.size(); ++c) {
    const auto& d = controls_[c];
    for (int k = 0; k < d.size(); ++k) {
      const std::size_t i = std::size_t(offsets_[c] + k), j = std::size_t(k);
      g[i] = d.log_space ? (std::log(d.upper[j]) - std::log(d.lower[j])) * p[i] : d.upper[j] - d.lower[j];
    }
  }
  return g;
}

std::vector<double> ControlLayout::initial_unit() const {
  std::vector<double> p;
  for (const auto& c : controls_) p.insert(p.end(), c.init.begin(), c.init.end());
  return to_unit(p);
}

std::string ControlLayout::entry_name(int i) const {
  for (std::size_t c = controls_.size(); c-- > 0;)
    if (i >= offsets_[c]) return controls_[c].name + "[" + std::to_string(i - offsets_[c]) + "]";
  return "?";
}

}  // namespace pl::optim
