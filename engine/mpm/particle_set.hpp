// Host-side copy of the MPM particle state (structure of arrays).  This is
// what users read and write; backends keep their own copy in their memory and
// convert on upload/download.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "kernels/math/mat.hpp"
#include "materials/model_base.hpp"

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

/// Host-side adjoint of the particle state, same layout as ParticleSet:
/// x[p] holds dL/dx_p, and so on.  Empty vectors in an argument mean zero.
template <class Real, int D>
struct ParticleAdjoint {
  std::vector<Vec<Real, D>> x, v;
  std::vector<Mat<Real, D>> F, C;
  std::vector<Real> plastic;

  /// n entries each, all zero.
  void resize(std::size_t n) {
    x.assign(n, Vec<Real, D>::zero());
    v.assign(n, Vec<Real, D>::zero());
    F.assign(n, Mat<Real, D>::zero());
    C.assign(n, Mat<Real, D>::zero());
    plastic.assign(n, Real(0));
  }
  std::size_t size() const { return x.size(); }
};

/// Gradients with respect to what is not particle state, accumulated over
/// every adjoint_substep since the last zero_adjoint.
///   per_particle[p][k]  dL/d(parameter k of particle p's material), as if each
///                       particle had its own copy of the parameters
///   per_material[m][k]  sum of per_particle over the particles of material m
///   mass[p]             dL/d(mass of particle p); a density gradient is
///                       sum_p V0_p mass[p] over the material's particles (m = rho V0)
///   wall_friction[0][a][side]  dL/d(Coulomb coefficient of the wall face on
///                       axis a, side 0 = low / 1 = high); one entry (the world's
///                       walls), a vector so that more wall sets can follow
/// Parameter indices are the models' enums (materials/<model>.hpp).
template <class Real, int D>
struct ParameterGradients {
  std::vector<std::array<Real, materials::kMaxParams>> per_material;
  std::vector<std::array<Real, materials::kMaxParams>> per_particle;
  std::vector<Real> mass;
  std::vector<std::array<std::array<Real, 2>, D>> wall_friction;
};

/// A named group of particles created by one sampling call.
struct BodyInfo {
  std::string name;
  int material = 0;
  std::size_t first = 0, count = 0;
};

}  // namespace pl
