#include "engine/scene/tool_reaction_csv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pl::scene {

namespace {

/// A CSV field: quoted (with doubled quotes) when it holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string encode_tool_reaction_csv(const std::vector<std::string>& names,
                                     const std::vector<std::vector<ToolReaction>>& reactions, int frames,
                                     int substeps_per_frame, double dt) {
  std::string out =
      "frame,time_s,tool,force_x_N,force_y_N,force_z_N,torque_x_Nm,torque_y_Nm,torque_z_Nm,peak_force_N\n";
  char line[512];
  for (int f = 1; f <= frames; ++f)
    for (std::size_t k = 0; k < names.size() && k < reactions.size(); ++k) {
      double force[3] = {0, 0, 0}, torque[3] = {0, 0, 0}, peak = 0;
      int count = 0;
      for (long n = long(f - 1) * substeps_per_frame; n < long(f) * substeps_per_frame; ++n) {
        if (std::size_t(n) >= reactions[k].size()) break;
        const ToolReaction& r = reactions[k][std::size_t(n)];
        for (int a = 0; a < 3; ++a) force[a] += r.force[a], torque[a] += r.torque[a];
        peak = std::max(peak, std::sqrt(r.force[0] * r.force[0] + r.force[1] * r.force[1] + r.force[2] * r.force[2]));
        ++count;
      }
      if (count == 0) return out;  // frames not simulated yet
      for (int a = 0; a < 3; ++a) force[a] /= count, torque[a] /= count;
      std::snprintf(line, sizeof line, "%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", force[0], force[1], force[2], torque[0],
                    torque[1], torque[2], peak);
      char head[64];
      std::snprintf(head, sizeof head, "%d,%.9g,", f, double(f) * substeps_per_frame * dt);
      out += head + csv_field(names[k]) + "," + line;
    }
  return out;
}

}  // namespace pl::scene
