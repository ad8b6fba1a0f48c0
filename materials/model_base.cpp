#include "materials/model_base.hpp"

#include <cmath>
#include <sstream>

namespace pl::materials {

std::string check_positive(const char* name, double value) {
  if (std::isfinite(value) && value > 0) return "";
  std::ostringstream os;
  os << "parameter '" << name << "' must be a finite number > 0, got " << value;
  return os.str();
}

std::string check_poisson(const char* name, double value) {
  return check_range(name, value, -1.0, 0.5, false, false);
}

std::string check_range(const char* name, double value, double lo, double hi, bool lo_inclusive,
                        bool hi_inclusive) {
  const bool above = lo_inclusive ? value >= lo : value > lo;
  const bool below = hi_inclusive ? value <= hi : value < hi;
  if (std::isfinite(value) && above && below) return "";
  std::ostringstream os;
  os << "parameter '" << name << "' must be in " << (lo_inclusive ? "[" : "(") << lo << ", " << hi
     << (hi_inclusive ? "]" : ")") << ", got " << value;
  return os.str();
}

std::string check_non_negative(const char* name, double value) {
  if (std::isfinite(value) && value >= 0) return "";
  std::ostringstream os;
  os << "parameter '" << name << "' must be a finite number >= 0, got " << value;
  return os.str();
}

std::string first_error(std::initializer_list<std::string> messages) {
  for (const std::string& m : messages)
    if (!m.empty()) return m;
  return "";
}

double elastic_wave_speed(double E, double nu, double density) {
  const double mu = lame_mu(E, nu), lambda = lame_lambda(E, nu);
  return std::sqrt((lambda + 2 * mu) / density);
}

}  // namespace pl::materials
