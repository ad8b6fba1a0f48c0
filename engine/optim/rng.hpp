// A seeded generator whose whole state can be saved and restored, so that an
// optimization resumed after a kill draws the same numbers as one that never
// stopped.  std::normal_distribution caches a second value between calls (and
// its algorithm is the library's choice); the Box-Muller transform below uses
// exactly two 64-bit draws per normal number and keeps nothing in between.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

namespace pl::optim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}

  /// Uniform in (0, 1): 53 random bits, never 0.
  double uniform() { return (double(engine_() >> 11) + 0.5) * 0x1.0p-53; }
  /// Standard normal (Box-Muller, Box & Muller 1958): sqrt(-2 ln u1) cos(2 pi u2).
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  std::string save() const {
    std::ostringstream os;
    os << engine_;
    return os.str();
  }
  void load(const std::string& text) {
    std::istringstream is(text);
    is >> engine_;
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace pl::optim
