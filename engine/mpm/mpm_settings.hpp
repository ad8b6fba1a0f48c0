// Settings of an MPM world, in SI units.  Plain data with defaults; validated
// by validate_settings() (engine/mpm/stability.hpp checks dt against the
// materials).
#pragma once

#include <array>
#include <string>

#include "kernels/mpm/boundary.hpp"

namespace pl {

struct WallSpec {
  WallType type = WallType::Separate;
  double friction = 0.0;  // Coulomb coefficient (Separate only)
};

template <int D>
struct MpmSettings {
  double dx = 1.0 / 64;                // grid spacing [m]
  std::array<int, D> resolution{};     // nodes per axis; the domain is origin + [0, (res-1) dx]
  std::array<double, D> origin{};      // world position of node 0 [m]
  double dt = 1e-4;                    // substep [s]
  std::array<double, D> gravity{};     // [m/s^2]
  int bound_cells = 3;                 // wall layer thickness [cells]
  // Grid velocity damping rate [1/s]: v *= exp(-damping dt) each substep.  Not
  // physical (it also slows free fall); meant for settling a scene into
  // equilibrium before the run that matters.  Default 0: off.
  double damping = 0.0;
  std::array<std::array<WallSpec, 2>, D> walls{};  // [axis][low, high]
  // Stability guard (engine/mpm/stability.hpp): dt (c + |v|) <= cfl dx.
  double cfl = 1.0;
  bool allow_unstable_dt = false;  // report instead of refusing to run

  /// A cube (square in 2D) domain [0, extent]^D with n cells per axis.
  static MpmSettings cube(double extent, int cells) {
    MpmSettings s;
    s.dx = extent / cells;
    s.resolution.fill(cells + 1);
    return s;
  }
};

/// Throws InputError naming the setting when a value is out of range.
template <int D>
void validate_settings(const MpmSettings<D>& s, const std::string& context);

}  // namespace pl
