// The CUDA fast path of MpmBackend (PLIANT_CUDA_PATH=fast, cuda_paths.cuh).
//
// Why a second CUDA backend: the reference path (mpm_backend_impl.hpp with
// thrust::cuda::par) gives each particle a thread in storage order and lets
// all of them add into the global grid with atomics.  With particles in
// random order, neighbouring threads hit unrelated nodes and the 3^D (D + 1)
// global atomics per particle serialize where particles crowd.  The fast path
// does what the fastest GPU MPM codes do (Gao et al. 2018; Claymore, Wang et
// al. 2020), with the SAME per-particle bodies:
//
//  1. Sort by grid block every substep with a cheap key: one 32-bit block
//     index per particle (kernels/mpm/block_layout.hpp), CUB radix sort over
//     only the bits the block count needs, run-length encode into buckets.
//  2. Reorder the particle arrays themselves every kReorderInterval substeps,
//     so the sorted visit order stays close to storage order (coalesced
//     loads) without paying a full permutation each substep.  ids_ keeps each
//     slot's original particle index: downloads, forces and fault reports use
//     the caller's numbering.
//  3. P2G per bucket into a shared-memory tile, flushed with one global
//     atomic per touched node (cuda_block_kernels.cuh).
//  4. G2P2G: in a run of substeps, G2P of step n and P2G of step n + 1 run in
//     one kernel from the particle still in registers (the particle state is
//     read once and written once per substep instead of read twice).  The
//     next grid is double-buffered; the prepared P2G is used only when nothing
//     changed in between (state, forces, materials, dt), else recomputed.
//     When forces change before every substep (actuation), fusion would be
//     wasted work, so a substep fuses only if the one before it was not
//     disturbed either.
//
// Differentiation: the fast path has no backward pass of its own.  The first
// call of the differentiation API (save/load state, adjoints) hands the state
// to a reference backend, which from then on serves every call: checkpoints,
// recomputation and the adjoint kernels run where they were tested.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>
#include <thrust/copy.h>
#include <thrust/gather.h>
#include <thrust/scatter.h>
#include <thrust/sequence.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/core/error.hpp"
#include "engine/mpm/cuda_block_kernels.cuh"
#include "engine/mpm/cuda_exec.cuh"
#include "engine/mpm/cuda_paths.cuh"

// Issue 6 (rigid tools) extends MpmBackend while this path is written: the
// tool API exists once kernels/coupling/tool_reaction.hpp does.  Tools run on
// the reference path (its grid update applies them), so the fast path only
// has to hand over when a substep has tools.
#if __has_include("kernels/coupling/tool_reaction.hpp")
#define PLIANT_FAST_PATH_HANDS_TOOLS_OVER 1
#endif

namespace pl {
namespace {

void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA fast path: ") + what + ": " + cudaGetErrorString(err));
}

template <class T>
T* ptr(thrust::device_vector<T>& v) {
  return thrust::raw_pointer_cast(v.data());
}

template <class Real, int D>
class CudaFastMpmBackend final : public MpmBackend<Real, D> {
  template <class T>
  using Vector = thrust::device_vector<T>;
  static constexpr int kReorderInterval = 16;  // substeps between physical reorders

 public:
  explicit CudaFastMpmBackend(const GridShape<Real, D>& shape) : shape_(shape) {
    const std::size_t nodes = shape.num_nodes();
    for (int b = 0; b < 2; ++b) {
      momentum_[b].resize(nodes);
      mass_[b].resize(nodes);
    }
    velocity_.resize(nodes);
    fault_.resize(1);
    layout_ = BlockLayout<D>::of(grid_view(0));
  }

  void upload(const ParticleSet<Real, D>& p, const std::vector<MaterialSlot<Real>>& materials) override {
    host_set_ = p;  // the static fields (mass, volume, material, force) for a hand-over
    host_materials_ = materials;
    if (reference_) return reference_->upload(p, materials);
    const std::size_t n = p.size();
    if (n >= std::size_t(UINT32_MAX))
      throw InputError("CUDA fast path: " + std::to_string(n) + " particles exceed the 32-bit slot index");
    assign(x_, p.x);
    assign(v_, p.v);
    assign(F_, p.F);
    assign(C_, p.C);
    assign(plastic_, p.plastic);
    assign(particle_mass_, p.mass);
    assign(volume_, p.volume);
    assign(material_, p.material);
    assign(force_, p.force);
    assign(materials_, materials);
    ids_.resize(n);
    thrust::sequence(thrust::cuda::par, ids_.begin(), ids_.end(), std::uint32_t(0));
    size_sort_buffers(n);
    touched_ = true;
    next_ready_ = false;
    if (n > 0) {
      sort_by_block();
      reorder();  // start spatially coherent
    }
  }

  void download(ParticleSet<Real, D>& p) const override {
    if (reference_) return reference_->download(p);
    unpermute(x_, p.x);
    unpermute(v_, p.v);
    unpermute(F_, p.F);
    unpermute(C_, p.C);
    unpermute(plastic_, p.plastic);
  }

  std::uint64_t substep(const SubstepParams<Real, D>& params) override {
#ifdef PLIANT_FAST_PATH_HANDS_TOOLS_OVER
    if (params.tools.count > 0) return reference().substep(params);
#endif
    if (reference_) return reference_->substep(params);
    const std::size_t n = x_.size();
    const bool undisturbed = !touched_;  // nothing changed state or forces since the last substep
    touched_ = false;
    const bool use_prepared = undisturbed && next_ready_ && next_dt_ == params.dt;
    next_ready_ = false;
    thrust::fill(thrust::cuda::par, fault_.begin(), fault_.end(), kNoFault);

    bool sorted = false;
    if (use_prepared) {
      current_ = 1 - current_;  // the fused kernel of the last substep filled it
    } else {
      zero_grid(current_);
      if (n > 0) {
        sort_by_block();
        sorted = true;
        cuda_fast::block_p2g_kernel<Real, D><<<launch_buckets(), cuda_fast::kThreadsPerBucket>>>(
            particle_view(), grid_view(current_), ptr(materials_), params.dt, layout_, buckets());
        check_cuda(cudaGetLastError(), "block P2G launch");
      }
    }
    const GridView<Real, D> grid = grid_view(current_);
    parallel_for<CudaExec>(shape_.num_nodes(),
                           GridUpdate<Real, D>{grid, params.walls, params.gravity, params.dt, params.velocity_scale});

    const bool fuse = undisturbed;
    if (n > 0) {
      if (!sorted) sort_by_block();  // by x_n: the G2P tiles
      if (fuse) {
        zero_grid(1 - current_);
        cuda_fast::block_g2p2g_kernel<Real, D, true><<<launch_buckets(), cuda_fast::kThreadsPerBucket>>>(
            particle_view(), ptr(ids_), grid, grid_view(1 - current_), ptr(materials_), params.dt, params.dt,
            layout_, buckets(), ptr(fault_));
      } else {
        cuda_fast::block_g2p2g_kernel<Real, D, false><<<launch_buckets(), cuda_fast::kThreadsPerBucket>>>(
            particle_view(), ptr(ids_), grid, grid, ptr(materials_), params.dt, params.dt, layout_, buckets(),
            ptr(fault_));
      }
      check_cuda(cudaGetLastError(), "block G2P2G launch");
    }
    const std::uint64_t fault = fault_[0];  // one word back to the host per substep (synchronizes)
    if (fuse && n > 0 && fault == kNoFault) {
      next_ready_ = true;
      next_dt_ = params.dt;
    }
    return fault;
  }

  void download_grid(std::vector<Real>& mass, std::vector<Vec<Real, D>>& velocity) const override {
    if (reference_) return reference_->download_grid(mass, velocity);
    fetch(mass_[current_], mass);
    fetch(velocity_, velocity);
  }

  void set_forces(const std::vector<Vec<Real, D>>& forces) override {
    if (!forces.empty() && forces.size() != host_set_.size())
      throw InputError("set_forces: got " + std::to_string(forces.size()) + " forces for " +
                       std::to_string(host_set_.size()) + " particles");
    host_set_.force = forces;
    if (reference_) return reference_->set_forces(forces);
    touched_ = true;
    if (forces.empty()) {
      force_.clear();
      return;
    }
    Vector<Vec<Real, D>> original(forces.begin(), forces.end());
    force_.resize(forces.size());
    thrust::gather(thrust::cuda::par, ids_.begin(), ids_.end(), original.begin(), force_.begin());
  }

  // ---- differentiation: handed to the reference path --------------------------------
  std::size_t state_bytes() const override {
    return host_set_.size() * (2 * sizeof(Vec<Real, D>) + 2 * sizeof(Mat<Real, D>) + sizeof(Real));
  }
  int save_state() override { return reference().save_state(); }
  void save_state(int slot) override { reference().save_state(slot); }
  void load_state(int slot) override { reference().load_state(slot); }
  void free_states() override {
    if (reference_) reference_->free_states();
  }
  void zero_adjoint() override { reference().zero_adjoint(); }
  void add_state_adjoint(const ParticleAdjoint<Real, D>& a) override { reference().add_state_adjoint(a); }
  void download_state_adjoint(ParticleAdjoint<Real, D>& a) const override {
    if (reference_) return reference_->download_state_adjoint(a);
    a.resize(host_set_.size());  // never accumulated: zeros, as the reference reports
  }
  void set_state_adjoint(const ParticleAdjoint<Real, D>& a) override { reference().set_state_adjoint(a); }
  std::uint64_t adjoint_substep(const SubstepParams<Real, D>& params) override {
    return reference().adjoint_substep(params);
  }
  void download_parameter_gradients(ParameterGradients<Real, D>& g) const override {
    const_cast<CudaFastMpmBackend*>(this)->reference().download_parameter_gradients(g);
  }
  void download_force_adjoint(std::vector<Vec<Real, D>>& adj_f) const override {
    const_cast<CudaFastMpmBackend*>(this)->reference().download_force_adjoint(adj_f);
  }

#ifdef PLIANT_FAST_PATH_HANDS_TOOLS_OVER
  const Real* upload_tool_field(const std::vector<Real>& values) override {
    return reference().upload_tool_field(values);
  }
  void download_tool_reactions(std::vector<ToolWrench<Real>>& reactions) const override {
    if (reference_) return reference_->download_tool_reactions(reactions);
    reactions.clear();  // no substep with tools ran
  }
  void download_tool_adjoint(std::vector<Real>& blocks) const override {
    if (reference_) return reference_->download_tool_adjoint(blocks);
    blocks.clear();
  }
#endif

 private:
  /// The reference backend, created on first use with the current state.
  MpmBackend<Real, D>& reference() {
    if (!reference_) {
      ParticleSet<Real, D> state = host_set_;
      download(state);  // x, v, F, C, plastic in the caller's order
      reference_ = make_cuda_reference_mpm_backend<Real, D>(shape_);
      reference_->upload(state, host_materials_);
      host_set_ = std::move(state);
    }
    return *reference_;
  }

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
  /// Copies a slot-ordered array back into the caller's particle order.
  template <class T>
  void unpermute(const Vector<T>& src, std::vector<T>& dst) const {
    Vector<T> original(src.size());
    if (!src.empty()) thrust::scatter(thrust::cuda::par, src.begin(), src.end(), ids_.begin(), original.begin());
    fetch(original, dst);
  }

  void zero_grid(int b) {
    check_cuda(cudaMemsetAsync(ptr(momentum_[b]), 0, momentum_[b].size() * sizeof(Vec<Real, D>)), "grid clear");
    check_cuda(cudaMemsetAsync(ptr(mass_[b]), 0, mass_[b].size() * sizeof(Real)), "grid clear");
  }

  /// Buckets can number at most min(particles, blocks + 1 invalid bucket).
  void size_sort_buffers(std::size_t n) {
    max_buckets_ = std::uint32_t(std::min<std::size_t>(n, std::size_t(layout_.num_blocks()) + 1));
    keys_.resize(n);
    keys_sorted_.resize(n);
    slots_.resize(n);
    order_.resize(n);
    bucket_key_.resize(max_buckets_);
    bucket_count_.resize(max_buckets_);
    bucket_offset_.resize(max_buckets_);
    num_buckets_.resize(1);
    std::size_t sort_bytes = 0, encode_bytes = 0, scan_bytes = 0;
    if (n > 0) {
      check_cuda(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, ptr(keys_), ptr(keys_sorted_), ptr(slots_),
                                                 ptr(order_), int(n), 0, layout_.key_bits()),
                 "radix sort size query");
      check_cuda(cub::DeviceRunLengthEncode::Encode(nullptr, encode_bytes, ptr(keys_sorted_), ptr(bucket_key_),
                                                    ptr(bucket_count_), ptr(num_buckets_), int(n)),
                 "run-length encode size query");
      check_cuda(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, ptr(bucket_count_), ptr(bucket_offset_),
                                               int(max_buckets_)),
                 "scan size query");
    }
    cub_temp_.resize(std::max({sort_bytes, encode_bytes, scan_bytes, std::size_t(1)}));
  }

  /// order_ := particle slots sorted by block; buckets from a run-length
  /// encode of the sorted keys; every kReorderInterval substeps the particle
  /// arrays are permuted into that order (then order_ is the identity).
  void sort_by_block() {
    const std::uint32_t n = std::uint32_t(x_.size());
    const int threads = 256;
    cuda_fast::block_keys_kernel<Real, D><<<(n + threads - 1) / threads, threads>>>(
        ptr(x_), n, grid_view(current_), layout_, ptr(keys_), ptr(slots_));
    check_cuda(cudaGetLastError(), "block keys launch");
    std::size_t bytes = cub_temp_.size();
    check_cuda(cub::DeviceRadixSort::SortPairs(ptr(cub_temp_), bytes, ptr(keys_), ptr(keys_sorted_), ptr(slots_),
                                               ptr(order_), int(n), 0, layout_.key_bits()),
               "radix sort");
    bytes = cub_temp_.size();
    check_cuda(cub::DeviceRunLengthEncode::Encode(ptr(cub_temp_), bytes, ptr(keys_sorted_), ptr(bucket_key_),
                                                  ptr(bucket_count_), ptr(num_buckets_), int(n)),
               "run-length encode");
    bytes = cub_temp_.size();
    // Entries past the actual bucket count hold stale counts; their offsets are never read.
    check_cuda(cub::DeviceScan::ExclusiveSum(ptr(cub_temp_), bytes, ptr(bucket_count_), ptr(bucket_offset_),
                                             int(max_buckets_)),
               "bucket offsets scan");
    if (++sorts_since_reorder_ >= kReorderInterval) reorder();
  }

  /// Permutes every per-particle array into the sorted order.
  void reorder() {
    permute(x_);
    permute(v_);
    permute(F_);
    permute(C_);
    permute(plastic_);
    permute(particle_mass_);
    permute(volume_);
    permute(material_);
    permute(force_);
    permute(ids_);
    thrust::sequence(thrust::cuda::par, order_.begin(), order_.end(), std::uint32_t(0));
    sorts_since_reorder_ = 0;
  }
  template <class T>
  void permute(Vector<T>& v) {
    if (v.empty()) return;
    Vector<T> sorted(v.size());
    thrust::gather(thrust::cuda::par, order_.begin(), order_.end(), v.begin(), sorted.begin());
    v.swap(sorted);
  }

  std::uint32_t launch_buckets() const { return std::max<std::uint32_t>(max_buckets_, 1); }
  cuda_fast::Buckets buckets() {
    return {ptr(order_), ptr(bucket_key_), ptr(bucket_offset_), ptr(bucket_count_), ptr(num_buckets_)};
  }

  ParticleView<Real, D> particle_view() {
    ParticleView<Real, D> v;
    v.x = ptr(x_);
    v.v = ptr(v_);
    v.F = ptr(F_);
    v.C = ptr(C_);
    v.plastic = ptr(plastic_);
    v.mass = ptr(particle_mass_);
    v.volume = ptr(volume_);
    v.material = ptr(material_);
    v.force = force_.empty() ? nullptr : ptr(force_);
    return v;
  }
  GridView<Real, D> grid_view(int b) {
    GridView<Real, D> g;
    g.momentum = ptr(momentum_[b]);
    g.mass = ptr(mass_[b]);
    g.velocity = ptr(velocity_);
    for (int a = 0; a < D; ++a) g.res[a] = shape_.res[a];
    g.origin = shape_.origin;
    g.dx = shape_.dx;
    g.inv_dx = Real(1) / shape_.dx;
    return g;
  }

  GridShape<Real, D> shape_;
  BlockLayout<D> layout_;
  // Particles in slot order; ids_[slot] = the caller's index of that particle.
  Vector<Vec<Real, D>> x_, v_, force_;
  Vector<Mat<Real, D>> F_, C_;
  Vector<Real> plastic_, particle_mass_, volume_;
  Vector<int> material_;
  Vector<std::uint32_t> ids_;
  Vector<MaterialSlot<Real>> materials_;
  // Sorting.
  Vector<std::uint32_t> keys_, keys_sorted_, slots_, order_;
  Vector<std::uint32_t> bucket_key_, bucket_count_, bucket_offset_, num_buckets_;
  Vector<unsigned char> cub_temp_;
  std::uint32_t max_buckets_ = 0;
  int sorts_since_reorder_ = 0;
  // Grid: momentum and mass double-buffered for G2P2G, one velocity.
  Vector<Vec<Real, D>> momentum_[2], velocity_;
  Vector<Real> mass_[2];
  int current_ = 0;
  bool next_ready_ = false;  // grid 1 - current_ holds P2G of the current state with time step next_dt_
  Real next_dt_ = Real(0);
  bool touched_ = true;  // state or forces changed since the last substep
  Vector<std::uint64_t> fault_;
  // Hand-over to the reference path (differentiation).
  ParticleSet<Real, D> host_set_;
  std::vector<MaterialSlot<Real>> host_materials_;
  std::unique_ptr<MpmBackend<Real, D>> reference_;
};

}  // namespace

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_cuda_fast_mpm_backend(const GridShape<Real, D>& grid) {
  return std::make_unique<CudaFastMpmBackend<Real, D>>(grid);
}

template std::unique_ptr<MpmBackend<float, 2>> make_cuda_fast_mpm_backend(const GridShape<float, 2>&);
template std::unique_ptr<MpmBackend<float, 3>> make_cuda_fast_mpm_backend(const GridShape<float, 3>&);

}  // namespace pl
