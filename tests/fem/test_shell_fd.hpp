// Central finite differences for the shell tests (double precision).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace pl::fem::testing {

/// Central difference of f along coordinate i of x.
inline double central_difference(const std::function<double(const std::vector<double>&)>& f,
                                 std::vector<double> x, std::size_t i, double h) {
  const double x0 = x[i];
  x[i] = x0 + h;
  const double fp = f(x);
  x[i] = x0 - h;
  const double fm = f(x);
  return (fp - fm) / (2 * h);
}

/// |a - b| <= tol * max(1, |a|, |b|) over all entries, with a message on failure.
inline double max_relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 1e-300;
  for (std::size_t i = 0; i < a.size(); ++i) scale = std::max({scale, std::fabs(a[i]), std::fabs(b[i])});
  double err = 0;
  for (std::size_t i = 0; i < a.size(); ++i) err = std::max(err, std::fabs(a[i] - b[i]) / scale);
  return err;
}

}  // namespace pl::fem::testing
