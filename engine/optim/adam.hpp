// Adam (Kingma & Ba 2015, Algorithm 1) on the box [0, 1]^n: after each step
// the iterate is projected back onto the box (projected gradient), because
// every optimization variable is a control mapped onto [0, 1] (controls.hpp).
//   m_t = b1 m_{t-1} + (1 - b1) g_t,   v_t = b2 v_{t-1} + (1 - b2) g_t^2
//   x_t = clamp(x_{t-1} - lr_t m_t / (1 - b1^t) / (sqrt(v_t / (1 - b2^t)) + eps), 0, 1)
// Gradient clipping (by the global norm) happens before the moments see g.
#pragma once

#include <string>
#include <vector>

namespace pl::optim {

struct AdamSettings {
  double learning_rate = 0.05;
  std::string schedule = "constant";  // constant | exponential | cosine
  double decay = 0.97;                // exponential: lr decay^k
  int horizon = 100;                  // cosine: lr (0.05 + 0.95 (1 + cos(pi k / horizon)) / 2)
  double clip_norm = 0;               // 0 = off
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
};

struct AdamState {
  std::vector<double> x, m, v;
  int t = 0;  // steps taken

  void start(const std::vector<double>& x0) {
    x = x0;
    m.assign(x0.size(), 0.0);
    v.assign(x0.size(), 0.0);
    t = 0;
  }
};

/// The learning rate of step k (0-based) under the schedule.
double adam_learning_rate(const AdamSettings& s, int k);

/// One step from gradient g at state.x; returns the norm of g after clipping.
double adam_step(AdamState& state, std::vector<double> g, const AdamSettings& s);

}  // namespace pl::optim
