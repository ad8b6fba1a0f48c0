#include "engine/scene/trajectory_recorder.hpp"

#include <stdexcept>

#include "engine/scene/npz_writer.hpp"

namespace pl::scene {

template <class Real, int D>
void TrajectoryRecorder::record(int frame, double time, const ParticleSet<Real, D>& p) {
  if (D != dim_) throw std::logic_error("TrajectoryRecorder: dimension mismatch");
  if (frame_.empty()) {
    particles_ = p.size();
    material_ = p.material;
    body_ = p.body;
  } else if (p.size() != particles_) {
    throw std::logic_error("TrajectoryRecorder: the particle count changed during the run");
  }
  positions_.reserve(positions_.size() + p.size() * D);
  velocities_.reserve(velocities_.size() + p.size() * D);
  for (std::size_t i = 0; i < p.size(); ++i)
    for (int a = 0; a < D; ++a) {
      positions_.push_back(float(p.x[i][a]));
      velocities_.push_back(float(p.v[i][a]));
    }
  frame_.push_back(frame);
  time_.push_back(time);
}

std::string TrajectoryRecorder::encode() const {
  const std::size_t f = frame_.size(), n = particles_, d = std::size_t(dim_);
  return encode_npz({
      npy_float32("positions", {f, n, d}, positions_),
      npy_float32("velocities", {f, n, d}, velocities_),
      npy_int32("frame", {f}, frame_),
      npy_float64("time", {f}, time_),
      npy_int32("material", {n}, material_),
      npy_int32("body", {n}, body_),
      npy_strings("material_names", material_names_),
      npy_strings("body_names", body_names_),
  });
}

template void TrajectoryRecorder::record(int, double, const ParticleSet<float, 2>&);
template void TrajectoryRecorder::record(int, double, const ParticleSet<float, 3>&);
template void TrajectoryRecorder::record(int, double, const ParticleSet<double, 2>&);
template void TrajectoryRecorder::record(int, double, const ParticleSet<double, 3>&);

}  // namespace pl::scene
