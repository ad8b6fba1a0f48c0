// Time-step stability guard, checked before a run starts.
//
// Explicit MPM is stable when information crosses less than one cell per
// substep: dt (c + |v|) <= cfl dx, with c the fastest elastic wave speed of a
// material (P-wave sqrt((lambda + 2 mu) / rho) for solids, sqrt(K gamma / rho)
// for fluids; each model's wave_speed()) and |v| the fastest initial particle
// speed (MPM course notes, Jiang et al. 2016, Sec. 9.5; Fang et al. 2018).
// Hardening materials (snow) can stiffen during a run; the guard uses their
// initial stiffness, so it is necessary but not sufficient, which is why the
// run also stops on the first NaN.
#pragma once

#include <string>
#include <vector>

#include "engine/mpm/mpm_settings.hpp"
#include "materials/registry.hpp"

namespace pl {

struct StabilityReport {
  double dt = 0;
  double dt_limit = 0;        // largest stable dt for this world
  std::string limited_by;     // e.g. "material 'jelly' (fixed_corotated): wave speed 74.5 m/s"
  bool ok() const { return dt <= dt_limit; }
  std::string message() const;
};

/// `max_speed[m]` is the fastest initial particle speed among particles of material m
/// (negative when no particle uses material m: it is then ignored).
StabilityReport check_time_step(double dt, double dx, double cfl,
                                const std::vector<materials::MaterialDesc>& materials,
                                const std::vector<double>& max_speed);

}  // namespace pl
