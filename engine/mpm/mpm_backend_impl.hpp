// The one implementation of MpmBackend, parameterized by an execution
// backend `Exec` that provides:
//   template <class T> using Vector = ...;   // thrust::host_vector or device_vector
//   static auto policy();                    // thrust::omp::par or thrust::cuda::par
//   template <class Real, int D> using P2GRunner = ...;  // how P2G scatters (see cpu_p2g.hpp)
// Included only by mpm_backend_cpu.cpp and mpm_backend_cuda.cu, which
// instantiate it; everything here is orchestration, the physics is in kernels/mpm.
#pragma once

#include <thrust/copy.h>
#include <thrust/fill.h>

#include "engine/core/parallel.hpp"
#include "engine/mpm/mpm_backend.hpp"
#include "kernels/mpm/g2p.hpp"
#include "kernels/mpm/grid_update.hpp"
#include "kernels/mpm/p2g.hpp"

namespace pl {

template <class Exec, class T>
T* raw(typename Exec::template Vector<T>& v) {
  return thrust::raw_pointer_cast(v.data());
}
template <class Exec, class T>
const T* raw(const typename Exec::template Vector<T>& v) {
  return thrust::raw_pointer_cast(v.data());
}

template <class Exec, class Real, int D>
class MpmBackendImpl final : public MpmBackend<Real, D> {
  template <class T>
  using Vector = typename Exec::template Vector<T>;

 public:
  explicit MpmBackendImpl(const GridShape<Real, D>& shape) : shape_(shape) {
    const std::size_t n = shape.num_nodes();
    grid_momentum_.resize(n);
    grid_mass_.resize(n);
    grid_velocity_.resize(n);
    fault_.resize(1);
  }

  void upload(const ParticleSet<Real, D>& p, const std::vector<MaterialSlot<Real>>& materials) override {
    assign(x_, p.x);
    assign(v_, p.v);
    assign(F_, p.F);
    assign(C_, p.C);
    assign(plastic_, p.plastic);
    assign(mass_, p.mass);
    assign(volume_, p.volume);
    assign(material_, p.material);
    assign(force_, p.force);
    assign(materials_, materials);
  }

  void download(ParticleSet<Real, D>& p) const override {
    fetch(x_, p.x);
    fetch(v_, p.v);
    fetch(F_, p.F);
    fetch(C_, p.C);
    fetch(plastic_, p.plastic);
  }

  std::uint64_t substep(const SubstepParams<Real, D>& params) override {
    const std::size_t n = x_.size();
    thrust::fill(Exec::policy(), grid_momentum_.begin(), grid_momentum_.end(), Vec<Real, D>::zero());
    thrust::fill(Exec::policy(), grid_mass_.begin(), grid_mass_.end(), Real(0));
    thrust::fill(Exec::policy(), fault_.begin(), fault_.end(), kNoFault);

    const ParticleView<Real, D> particles = particle_view();
    const GridView<Real, D> grid = grid_view();
    const MaterialSlot<Real>* materials = thrust::raw_pointer_cast(materials_.data());

    p2g_(n, particles, grid, shape_.num_nodes(), materials, params.dt);
    parallel_for<Exec>(shape_.num_nodes(), GridUpdate<Real, D>{grid, params.walls, params.gravity, params.dt, params.velocity_scale});
    parallel_for<Exec>(n, G2P<Real, D>{particles, grid, materials, params.dt, thrust::raw_pointer_cast(fault_.data())});

    std::uint64_t fault = fault_[0];  // one word back to the host per substep
    return fault;
  }

  void download_grid(std::vector<Real>& mass, std::vector<Vec<Real, D>>& velocity) const override {
    fetch(grid_mass_, mass);
    fetch(grid_velocity_, velocity);
  }

 private:
  template <class T>
  static void assign(Vector<T>& dst, const std::vector<T>& src) {
    dst.resize(src.size());
    if (!src.empty()) thrust::copy(src.begin(), src.end(), dst.begin());
  }
  template <class T>
  static void fetch(const Vector<T>& src, std::vector<T>& dst) {
    dst.resize(src.size());
    if (!dst.empty()) thrust::copy(src.begin(), src.end(), dst.begin());
  }

  ParticleView<Real, D> particle_view() {
    ParticleView<Real, D> v;
    v.x = thrust::raw_pointer_cast(x_.data());
    v.v = thrust::raw_pointer_cast(v_.data());
    v.F = thrust::raw_pointer_cast(F_.data());
    v.C = thrust::raw_pointer_cast(C_.data());
    v.plastic = thrust::raw_pointer_cast(plastic_.data());
    v.mass = thrust::raw_pointer_cast(mass_.data());
    v.volume = thrust::raw_pointer_cast(volume_.data());
    v.material = thrust::raw_pointer_cast(material_.data());
    v.force = force_.empty() ? nullptr : thrust::raw_pointer_cast(force_.data());
    return v;
  }

  GridView<Real, D> grid_view() {
    GridView<Real, D> g;
    g.momentum = thrust::raw_pointer_cast(grid_momentum_.data());
    g.mass = thrust::raw_pointer_cast(grid_mass_.data());
    g.velocity = thrust::raw_pointer_cast(grid_velocity_.data());
    for (int a = 0; a < D; ++a) g.res[a] = shape_.res[a];
    g.origin = shape_.origin;
    g.dx = shape_.dx;
    g.inv_dx = Real(1) / shape_.dx;
    return g;
  }

  GridShape<Real, D> shape_;
  typename Exec::template P2GRunner<Real, D> p2g_;
  Vector<Vec<Real, D>> x_, v_, force_;
  Vector<Mat<Real, D>> F_, C_;
  Vector<Real> plastic_, mass_, volume_;
  Vector<int> material_;
  Vector<MaterialSlot<Real>> materials_;
  Vector<Vec<Real, D>> grid_momentum_, grid_velocity_;
  Vector<Real> grid_mass_;
  Vector<std::uint64_t> fault_;
};

}  // namespace pl
