// Host-side copy of the MPM particle state (structure of arrays).  This is
// what users read and write; backends keep their own copy in their memory and
// convert on upload/download.
#pragma once

#include <string>
#include <vector>

#include "kernels/math/mat.hpp"

namespace pl {

template <class Real, int D>
struct ParticleSet {
  std::vector<Vec<Real, D>> x, v;
  std::vector<Mat<Real, D>> F, C;
  std::vector<Real> plastic, mass, volume;
  std::vector<int> material;  // index into the world's material table
  std::vector<int> body;      // index into the world's body table
  std::vector<Vec<Real, D>> force;  // external force [N]; empty = none

  std::size_t size() const { return x.size(); }
};

/// A named group of particles created by one sampling call.
struct BodyInfo {
  std::string name;
  int material = 0;
  std::size_t first = 0, count = 0;
};

}  // namespace pl
