#include "engine/optim/adam.hpp"

#include <algorithm>
#include <cmath>

namespace pl::optim {

double adam_learning_rate(const AdamSettings& s, int k) {
  if (s.schedule == "exponential") return s.learning_rate * std::pow(s.decay, k);
  if (s.schedule == "cosine") {
    const double t = std::min(1.0, double(k) / std::max(1, s.horizon));
    return s.learning_rate * (0.05 + 0.95 * 0.5 * (1 + std::cos(3.141592653589793 * t)));
  }
  return s.learning_rate;
}

double adam_step(AdamState& st, std::vector<double> g, const AdamSettings& s) {
  double norm = 0;
  for (double v : g) norm += v * v;
  norm = std::sqrt(norm);
  if (s.clip_norm > 0 && norm > s.clip_norm) {
    for (double& v : g) v *= s.clip_norm / norm;
    norm = s.clip_norm;
  }
  const double lr = adam_learning_rate(s, st.t);
  ++st.t;
  const double c1 = 1 - std::pow(s.beta1, st.t), c2 = 1 - std::pow(s.beta2, st.t);
  for (std::size_t i = 0; i < g.size(); ++i) {
    st.m[i] = s.beta1 * st.m[i] + (1 - s.beta1) * g[i];
    st.v[i] = s.beta2 * st.v[i] + (1 - s.beta2) * g[i] * g[i];
    st.x[i] -= lr * (st.m[i] / c1) / (std::sqrt(st.v[i] / c2) + s.epsilon);
    st.x[i] = std::min(1.0, std::max(0.0, st.x[i]));
  }
  return norm;
}

}  // namespace pl::optim
