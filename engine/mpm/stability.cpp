#include "engine/mpm/stability.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace pl {

std::string StabilityReport::message() const {
  std::ostringstream os;
  os.precision(4);
  os << "dt = " << dt << " s " << (ok() ? "is within" : "exceeds") << " the stability limit " << dt_limit
     << " s (dt (c + |v|) <= cfl dx), set by " << limited_by;
  if (!ok())
    os << "; reduce dt to at most " << dt_limit
       << " s, or set allow_unstable_dt to run anyway";
  return os.str();
}

StabilityReport check_time_step(double dt, double dx, double cfl,
                                const std::vector<materials::MaterialDesc>& materials,
                                const std::vector<double>& max_speed) {
  StabilityReport r;
  r.dt = dt;
  r.dt_limit = std::numeric_limits<double>::infinity();
  r.limited_by = "nothing (no particles)";
  for (std::size_t m = 0; m < materials.size(); ++m) {
    if (m >= max_speed.size() || max_speed[m] < 0) continue;
    const double c = materials::wave_speed(materials[m]);
    const double limit = cfl * dx / (c + max_speed[m]);
    if (limit < r.dt_limit) {
      r.dt_limit = limit;
      std::ostringstream os;
      os.precision(4);
      os << "material '" << materials[m].label << "' (" << materials[m].model_name << "): wave speed " << c
         << " m/s, fastest initial particle speed " << max_speed[m] << " m/s, dx = " << dx << " m, cfl = " << cfl;
      r.limited_by = os.str();
    }
  }
  return r;
}

}  // namespace pl
