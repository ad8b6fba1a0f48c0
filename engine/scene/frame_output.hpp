// Run outputs: per-frame particle files and atomic file writes.
//
// Every output file is written atomically: the bytes go to a temporary file in
// the same directory ("name.tmp.<pid>"), which is then renamed over `name`.
// Rename within a directory is atomic on POSIX, so a reader (or a run killed
// half-way) never sees a truncated file under a final name.
//
// PLY layout (binary_little_endian 1.0, whatever the host's byte order), one
// vertex per particle:
//   property float x, y, z     position [m] (z = 0 in 2D)
//   property float vx, vy, vz  velocity [m/s] (vz = 0 in 2D)
//   property int material      index into the scene's materials (file order)
//   property int body          index into the scene's bodies (file order)
// The header's comment lines name the writer, the frame and the time.
#pragma once

#include <string>
#include <vector>

#include "engine/mpm/particle_set.hpp"

namespace pl::scene {

/// Writes `data` to `path` via a temporary file and rename.  Throws
/// SimulationError (the run itself failed, not its input) when it cannot.
void write_file_atomic(const std::string& path, const std::string& data);

/// "frame_00042.ply"
std::string frame_file_name(int frame);

/// The PLY bytes for `particles`; each entry of `comments` becomes a header comment line.
template <class Real, int D>
std::string encode_ply(const ParticleSet<Real, D>& particles, const std::vector<std::string>& comments = {});

}  // namespace pl::scene
