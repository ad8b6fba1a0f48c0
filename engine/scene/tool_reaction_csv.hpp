// tools.csv (issue 6): each tool's reaction per frame, the tactile signal of a
// `pliant run`.  One row per frame and tool:
//   frame, time_s, tool, force_x_N, force_y_N, force_z_N,
//   torque_x_Nm, torque_y_Nm, torque_z_Nm, peak_force_N
// force and torque are the means over the frame's substeps of the force and
// torque (about the tool position) the material exerted on the tool
// (engine/coupling/tool.hpp, ToolReaction): the frame's impulse divided by its
// duration.  peak_force_N is the largest |force| of a single substep in the
// frame.  2D scenes write z = 0 for the force and x = y = 0 for the torque.
// The runner rewrites the whole file atomically after every frame
// (frame_output.hpp), so it always holds the frames simulated so far.
#pragma once

#include <string>
#include <vector>

#include "engine/coupling/tool.hpp"

namespace pl::scene {

/// The CSV text for frames 1..frames of tools named `names`, whose
/// reactions[k][n] is substep n (frame f covers substeps (f - 1) spf .. f spf - 1).
std::string encode_tool_reaction_csv(const std::vector<std::string>& names,
                                     const std::vector<std::vector<ToolReaction>>& reactions, int frames,
                                     int substeps_per_frame, double dt);

}  // namespace pl::scene
