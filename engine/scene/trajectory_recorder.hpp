// The trajectory of a run, kept in memory and written as one .npz at the end
// (`output.format: [ply, npz]`, docs/scene_format.md).
//
// Arrays in trajectory.npz (F = frames recorded, N = particles, D = dim):
//   positions      float32 (F, N, D)  [m]
//   velocities     float32 (F, N, D)  [m/s]
//   frame          int32   (F,)       frame numbers (0 = initial state)
//   time           float64 (F,)       simulated time [s]
//   material       int32   (N,)       index into material_names (scene file order)
//   body           int32   (N,)       index into body_names
//   material_names <U     (M,)       material labels
//   body_names     <U     (B,)       body names
// Particles keep their order (and count) during a run, so particle i is the
// same in every frame and in every PLY file.
//
// Memory: the recorder holds F * N * 2 * D floats until the end of the run
// (about 29 MB for 20k particles over 60 3D frames).
#pragma once

#include <string>
#include <vector>

#include "engine/mpm/particle_set.hpp"

namespace pl::scene {

class TrajectoryRecorder {
 public:
  TrajectoryRecorder(int dim, std::vector<std::string> material_names, std::vector<std::string> body_names)
      : dim_(dim), material_names_(std::move(material_names)), body_names_(std::move(body_names)) {}

  /// Appends one frame.  Throws std::logic_error if the particle count changed.
  template <class Real, int D>
  void record(int frame, double time, const ParticleSet<Real, D>& particles);

  int frames() const { return int(frame_.size()); }
  /// The .npz bytes of everything recorded.
  std::string encode() const;

 private:
  int dim_;
  std::vector<std::string> material_names_, body_names_;
  std::size_t particles_ = 0;
  std::vector<float> positions_, velocities_;
  std::vector<int> frame_, material_, body_;
  std::vector<double> time_;
};

}  // namespace pl::scene
