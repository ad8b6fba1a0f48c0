// Error types that reach users.
//
// InputError: the user gave us something wrong (scene file, parameter, mesh,
//   Python call).  The message names the file / key / parameter and says what
//   was expected.  The CLI maps it to exit code 2.
// SimulationError: the input was accepted but the run failed (instability,
//   NaN, a particle leaving the domain).  The message names the step, the body
//   and the quantity.  The CLI maps it to exit code 1.
// Programmer errors are asserts, never these.
#pragma once

#include <stdexcept>
#include <string>

namespace pl {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SimulationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws InputError(message) when message is not empty: the shape of every
/// validate() in the code base ("" means valid).
inline void throw_if_invalid(const std::string& context, const std::string& message) {
  if (!message.empty()) throw InputError(context.empty() ? message : context + ": " + message);
}

}  // namespace pl
