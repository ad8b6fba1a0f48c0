// The one implementation of MpmBackend, parameterized by an execution
// backend `Exec` that provides:
//   template <class T> using Vector = ...;   // thrust::host_vector or device_vector
//   static auto policy();                    // thrust::omp::par or thrust::cuda::par
//   template <class Real, int D> using P2GRunner = ...;  // how P2G scatters (see cpu_p2g.hpp);
//       gets the box of the particles' stencils (kernels/mpm/node_box.hpp)
//   using ScatterAccumulate = ...;           // Plain (CPU, private buffers) or Atomic (CUDA)
//   template <class Real, int D> using AdjointRunner = ...;  // how AdjG2P / AdjGridUpdate
//       scatter: g2p(n, box, kernel), grid_update(box, kernel) (cpu_scatter.hpp);
//       optionally p2g(n, box, kernel) for the backward pass's recomputed
//       P2G (P2GRecordStress); without it that kernel runs as a parallel_for,
//       which is right when ScatterAccumulate is atomic (CUDA)
//   using FloatEnvironment = ...;            // held on the calling thread for a
//       whole (adjoint) substep: subnormal flushing on the CPU (engine/core/float_env.hpp)
//   optionally static for_each_n(n, kernel): parallel_for's loop (engine/core/parallel.hpp)
// Included only by mpm_backend_cpu.cpp and mpm_backend_cuda.cu, which
// instantiate it; everything here is orchestration, the physics is in kernels/mpm.
#pragma once

#include <thrust/copy.h>
#include <thrust/fill.h>
#include <thrust/functional.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>                // issue 6: tool reactions
#include <thrust/iterator/counting_iterator.h>     // issue 6

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "engine/core/error.hpp"
#include "engine/core/parallel.hpp"
#include "engine/mpm/mpm_backend.hpp"
#include "kernels/mpm/constitutive.hpp"
#include "kernels/mpm/g2p.hpp"
#include "kernels/mpm/grid_update.hpp"
#include "kernels/mpm/node_box.hpp"
#include "kernels/mpm/p2g.hpp"

namespace pl {

/// Whether an AdjointRunner has p2g(n, box, kernel) (see the header).
template <class Runner, class Kernel, int D, class = void>
struct HasAdjointP2G : std::false_type {};
template <class Runner, class Kernel, int D>
struct HasAdjointP2G<Runner, Kernel, D,
                     std::void_t<decltype(std::declval<Runner&>().p2g(std::size_t(), std::declval<const NodeBox<D>&>(),
                                                                       std::declval<const Kernel&>()))>>
    : std::true_type {};

/// Whether Exec walks node boxes itself (`Exec::for_each_box(over)`, the CPU's
/// row loop) instead of one launch index per node.
template <class Exec, class Over, class = void>
struct HasBoxLoop : std::false_type {};
template <class Exec, class Over>
struct HasBoxLoop<Exec, Over, std::void_t<decltype(Exec::for_each_box(std::declval<const Over&>()))>>
    : std::true_type {};

/// Runs a per-node kernel over a node box (kernels/mpm/node_box.hpp).
template <class Exec, class Kernel, int D>
void run_over_box(const OverBox<Kernel, D>& over) {
  if constexpr (HasBoxLoop<Exec, OverBox<Kernel, D>>::value)
    Exec::for_each_box(over);
  else
    parallel_for<Exec>(over.box.count(), over);
}

/// Zeroes the forward grid's momentum and mass in one pass (one launch, not two).
template <class Real, int D>
struct ZeroGridBuffers {
  Vec<Real, D>* momentum;
  Real* mass;
  PL_HD void operator()(std::size_t i) const {
    momentum[i] = Vec<Real, D>::zero();
    mass[i] = Real(0);
  }
};

/// Zeroes the per-node buffers of one adjoint substep in one pass (one
/// parallel region instead of five fills: each region is a fork/join, which
/// costs most on a busy machine).
template <class Real, int D>
struct ZeroAdjointGridBuffers {
  Vec<Real, D>* momentum;
  Real* mass;
  Vec<Real, D>* adj_velocity;
  Vec<Real, D>* adj_momentum;
  Real* adj_mass;
  PL_HD void operator()(std::size_t i) const {
    momentum[i] = adj_velocity[i] = adj_momentum[i] = Vec<Real, D>::zero();
    mass[i] = adj_mass[i] = Real(0);
  }
};
/// The per-particle counterpart: dL/ds_n (x, v, F, C, plastic) and dL/df.
template <class Real, int D>
struct ZeroAdjointParticleBuffers {
  ParticleAdjointView<Real, D> adj;
  Vec<Real, D>* adj_force;
  PL_HD void operator()(std::size_t p) const {
    adj.x[p] = adj.v[p] = adj_force[p] = Vec<Real, D>::zero();
    adj.F[p] = adj.C[p] = Mat<Real, D>::zero();
    adj.plastic[p] = Real(0);
  }
};

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
    host_material_ = p.material;
    num_materials_ = materials.size();
    // Which models a backward pass would go through (host-side, once per upload).
    missing_adjoint_.clear();
    std::vector<bool> used(materials.size(), false);
    for (int m : p.material)
      if (m >= 0 && std::size_t(m) < used.size()) used[m] = true;
    for (std::size_t m = 0; m < materials.size() && missing_adjoint_.empty(); ++m)
      if (used[m] && !model_has_adjoint(materials[m].model_id)) {
        missing_adjoint_ = "model id " + std::to_string(materials[m].model_id);  // unless it has a name
        materials::visit_model(materials[m].model_id, [&](auto model) { missing_adjoint_ = decltype(model)::kName; });
      }
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
    const typename Exec::FloatEnvironment float_environment;
    const std::size_t n = x_.size();
    const ParticleView<Real, D> particles = particle_view();
    const GridView<Real, D> grid = grid_view();
    const MaterialSlot<Real>* materials = thrust::raw_pointer_cast(materials_.data());

    // The nodes this substep can touch, and those that may still hold the
    // last substep's values (node_box.hpp): zeroed, then updated, so that
    // outside `box` the grid is zero again afterwards.
    const NodeBox<D> box = substep_box(params, grid);
    const NodeBox<D> sweep = NodeBox<D>::hull(box, grid_box_);
    grid_box_ = box;
    run_over_box<Exec>(over_box(ZeroGridBuffers<Real, D>{grid.momentum, grid.mass}, sweep, grid.res));
    fault_[0] = kNoFault;  // one word: a host store (CPU) or a copy (CUDA), not a parallel fill

    p2g_(n, particles, grid, box, materials, params.dt);
    if (params.grid_hook) params.grid_hook->apply(grid, params.dt);  // issue 6: MPM <-> FEM coupling
    {
      GridUpdate<Real, D> update{grid, params.walls, params.gravity, params.dt, params.velocity_scale};
      update.tools = params.tools;  // issue 6: rigid tools, with their impulses recorded for the reactions
      update.tool_impulse = tool_impulse_buffer(params.tools.count);
      run_over_box<Exec>(over_box(update, sweep, grid.res));
      sum_tool_reactions(params);
    }
    parallel_for<Exec>(n, G2P<Real, D>{particles, grid, materials, params.dt, thrust::raw_pointer_cast(fault_.data())});

    std::uint64_t fault = fault_[0];  // one word back to the host per substep
    return fault;
  }

  void download_grid(std::vector<Real>& mass, std::vector<Vec<Real, D>>& velocity) const override {
    fetch(grid_mass_, mass);
    fetch(grid_velocity_, velocity);
  }

  // ---- differentiation -------------------------------------------------------------

  std::size_t state_bytes() const override {
    return x_.size() * (2 * sizeof(Vec<Real, D>) + 2 * sizeof(Mat<Real, D>) + sizeof(Real));
  }

  int save_state() override {
    slots_.push_back(std::make_unique<StateBuffers>());
    save_into(*slots_.back());
    return int(slots_.size()) - 1;
  }
  void save_state(int slot) override { save_into(slot_at(slot, "save_state")); }
  void load_state(int slot) override {
    StateBuffers& s = slot_at(slot, "load_state");
    if (s.x.size() != x_.size())
      throw std::invalid_argument("load_state: slot " + std::to_string(slot) + " holds " + std::to_string(s.x.size()) +
                                  " particles, the backend has " + std::to_string(x_.size()));
    x_ = s.x;
    v_ = s.v;
    F_ = s.F;
    C_ = s.C;
    plastic_ = s.plastic;
  }
  void free_states() override { std::vector<std::unique_ptr<StateBuffers>>().swap(slots_); }

  void zero_adjoint() override {
    ensure_adjoint_buffers();
    zero_state(adj_);
    thrust::fill(Exec::policy(), adj_params_.begin(), adj_params_.end(), Real(0));
    thrust::fill(Exec::policy(), adj_mass_.begin(), adj_mass_.end(), Real(0));
    thrust::fill(Exec::policy(), adj_force_.begin(), adj_force_.end(), Vec<Real, D>::zero());
    thrust::fill(Exec::policy(), adj_friction_.begin(), adj_friction_.end(), Real(0));
  }

  void add_state_adjoint(const ParticleAdjoint<Real, D>& a) override {
    ensure_adjoint_buffers();
    add_into(adj_.x, a.x, "x");
    add_into(adj_.v, a.v, "v");
    add_into(adj_.F, a.F, "F");
    add_into(adj_.C, a.C, "C");
    add_into(adj_.plastic, a.plastic, "plastic");
  }

  void set_state_adjoint(const ParticleAdjoint<Real, D>& a) override {
    ensure_adjoint_buffers();
    zero_state(adj_);
    add_state_adjoint(a);
  }

  void set_forces(const std::vector<Vec<Real, D>>& forces) override {
    if (!forces.empty() && forces.size() != x_.size())
      throw InputError("set_forces: got " + std::to_string(forces.size()) + " forces for " +
                       std::to_string(x_.size()) + " particles");
    assign(force_, forces);
  }

  void download_state_adjoint(ParticleAdjoint<Real, D>& a) const override {
    if (adj_.x.size() != x_.size()) {
      a.resize(x_.size());
      return;
    }
    fetch(adj_.x, a.x);
    fetch(adj_.v, a.v);
    fetch(adj_.F, a.F);
    fetch(adj_.C, a.C);
    fetch(adj_.plastic, a.plastic);
  }

  std::uint64_t adjoint_substep(const SubstepParams<Real, D>& params) override {
    if (!missing_adjoint_.empty())
      throw InputError("backward pass: material model '" + missing_adjoint_ +
                       "' has no adjoint (kHasAdjoint is false), so gradients through it are not available");
    ensure_adjoint_buffers();
    const typename Exec::FloatEnvironment float_environment;
    const std::size_t n = x_.size();
    const ParticleView<Real, D> particles = particle_view();
    const GridView<Real, D> grid = grid_view();
    const MaterialSlot<Real>* materials = thrust::raw_pointer_cast(materials_.data());

    using Acc = typename Exec::ScatterAccumulate;

    // Recompute the forward grid of this substep from s_n (bit-identical to
    // the forward's on the CPU: same arithmetic, same fixed summation order),
    // recording each particle's stress and its factorization for AdjP2G.
    // The node box as in substep(); the adjoint buffers keep the same
    // invariant with their own last box.
    const NodeBox<D> box = substep_box(params, grid);
    const NodeBox<D> sweep = NodeBox<D>::hull(box, NodeBox<D>::hull(grid_box_, adjoint_box_));
    grid_box_ = adjoint_box_ = box;
    run_over_box<Exec>(over_box(ZeroAdjointGridBuffers<Real, D>{
                                                   grid.momentum, grid.mass,
                                                   thrust::raw_pointer_cast(adj_grid_velocity_.data()),
                                                   thrust::raw_pointer_cast(adj_grid_momentum_.data()),
                                                   thrust::raw_pointer_cast(adj_grid_mass_.data())},
                                               sweep, grid.res));
    parallel_for<Exec>(n, ZeroAdjointParticleBuffers<Real, D>{adjoint_view(adj_next_),
                                                              thrust::raw_pointer_cast(adj_force_.data())});
    StressRecord<Real, D>* record = thrust::raw_pointer_cast(stress_record_.data());
    const P2GRecordStress<Real, D, Acc> p2g{particles, grid, materials, params.dt, record};
    if constexpr (HasAdjointP2G<typename Exec::template AdjointRunner<Real, D>, P2GRecordStress<Real, D, Acc>, D>::value)
      adjoint_.p2g(n, box, p2g);
    else
      parallel_for<Exec>(n, p2g);
    if (params.grid_hook) params.grid_hook->apply(grid, params.dt);  // issue 6: recomputed with the forward's inputs
    {
      GridUpdate<Real, D> update{grid, params.walls, params.gravity, params.dt, params.velocity_scale};
      update.tools = params.tools;  // issue 6
      run_over_box<Exec>(over_box(update, sweep, grid.res));
    }

    fault_[0] = kNoFault;
    std::uint64_t* fault = thrust::raw_pointer_cast(fault_.data());
    Real* adj_params = thrust::raw_pointer_cast(adj_params_.data());
    const GridAdjointView<Real, D> adj_grid{thrust::raw_pointer_cast(adj_grid_velocity_.data()),
                                            thrust::raw_pointer_cast(adj_grid_momentum_.data()),
                                            thrust::raw_pointer_cast(adj_grid_mass_.data())};

    adjoint_.g2p(n, box,
                 AdjG2P<Real, D, Acc>{particles, grid, materials, params.dt, adjoint_view(adj_), adjoint_view(adj_next_),
                                      adj_grid.velocity, adj_params, fault});
    {
      // issue 6: the tool blocks after the 2 D wall-friction entries hold this substep's tool gradients.
      thrust::fill(Exec::policy(), adj_friction_.begin() + 2 * D, adj_friction_.end(), Real(0));
      AdjGridUpdate<Real, D, Acc> adj_update{grid, adj_grid, params.walls, params.gravity, params.dt,
                                             params.velocity_scale, thrust::raw_pointer_cast(adj_friction_.data()), fault};
      adj_update.tools = params.tools;
      adjoint_.grid_update(box, adj_update);  // nodes outside the box have no mass: nothing to do there
      adjoint_tool_count_ = params.tools.count;
    }
    if (params.grid_hook) params.grid_hook->adjoint(grid, adj_grid, params.dt);  // issue 6: MPM <-> FEM coupling
    parallel_for<Exec>(n, AdjP2G<Real, D>{particles, grid, adj_grid, materials, record, params.dt, adjoint_view(adj_next_),
                                          adj_params, thrust::raw_pointer_cast(adj_mass_.data()),
                                          thrust::raw_pointer_cast(adj_force_.data()), fault});
    swap_state(adj_, adj_next_);  // the buffers now hold dL/ds_n
    std::uint64_t result = fault_[0];
    return result;
  }

  void download_parameter_gradients(ParameterGradients<Real, D>& g) const override {
    const std::size_t n = x_.size();
    std::vector<Real> flat, mass, friction;
    fetch(adj_params_, flat);
    fetch(adj_mass_, mass);
    fetch(adj_friction_, friction);
    flat.resize(n * materials::kMaxParams, Real(0));  // zeros if never allocated
    mass.resize(n, Real(0));
    friction.resize(2 * D, Real(0));
    std::array<Real, materials::kMaxParams> zero{};
    g.per_particle.assign(n, zero);
    g.per_material.assign(num_materials_, zero);
    for (std::size_t p = 0; p < n; ++p)
      for (int k = 0; k < materials::kMaxParams; ++k) {
        const Real value = flat[p * materials::kMaxParams + k];
        g.per_particle[p][k] = value;
        g.per_material[host_material_[p]][k] += value;  // particle order: deterministic
      }
    g.mass = std::move(mass);
    g.wall_friction.assign(1, {});
    for (int a = 0; a < D; ++a)
      for (int side = 0; side < 2; ++side) g.wall_friction[0][a][side] = friction[2 * a + side];
  }

  void download_force_adjoint(std::vector<Vec<Real, D>>& adj_f) const override {
    fetch(adj_force_, adj_f);
    adj_f.resize(x_.size(), Vec<Real, D>::zero());
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

  struct StateBuffers {
    Vector<Vec<Real, D>> x, v;
    Vector<Mat<Real, D>> F, C;
    Vector<Real> plastic;
  };
  StateBuffers& slot_at(int slot, const char* what) {
    if (slot < 0 || std::size_t(slot) >= slots_.size())
      throw std::out_of_range(std::string(what) + ": no state slot " + std::to_string(slot) + " (" +
                              std::to_string(slots_.size()) + " saved)");
    return *slots_[std::size_t(slot)];
  }
  void save_into(StateBuffers& dst) const {
    dst.x = x_;
    dst.v = v_;
    dst.F = F_;
    dst.C = C_;
    dst.plastic = plastic_;
  }

  static void zero_state(StateBuffers& s) {
    thrust::fill(Exec::policy(), s.x.begin(), s.x.end(), Vec<Real, D>::zero());
    thrust::fill(Exec::policy(), s.v.begin(), s.v.end(), Vec<Real, D>::zero());
    thrust::fill(Exec::policy(), s.F.begin(), s.F.end(), Mat<Real, D>::zero());
    thrust::fill(Exec::policy(), s.C.begin(), s.C.end(), Mat<Real, D>::zero());
    thrust::fill(Exec::policy(), s.plastic.begin(), s.plastic.end(), Real(0));
  }
  static void resize_state(StateBuffers& s, std::size_t n) {  // to n zeros
    s.x.clear(), s.v.clear(), s.F.clear(), s.C.clear(), s.plastic.clear();
    s.x.resize(n, Vec<Real, D>::zero());
    s.v.resize(n, Vec<Real, D>::zero());
    s.F.resize(n, Mat<Real, D>::zero());
    s.C.resize(n, Mat<Real, D>::zero());
    s.plastic.resize(n, Real(0));
  }
  static void swap_state(StateBuffers& a, StateBuffers& b) {
    a.x.swap(b.x);
    a.v.swap(b.v);
    a.F.swap(b.F);
    a.C.swap(b.C);
    a.plastic.swap(b.plastic);
  }
  static ParticleAdjointView<Real, D> adjoint_view(StateBuffers& s) {
    return {thrust::raw_pointer_cast(s.x.data()), thrust::raw_pointer_cast(s.v.data()),
            thrust::raw_pointer_cast(s.F.data()), thrust::raw_pointer_cast(s.C.data()),
            thrust::raw_pointer_cast(s.plastic.data())};
  }

  /// Sizes the adjoint buffers for the uploaded particles (zero-filled when
  /// they change size); nothing is allocated for forward-only runs.
  void ensure_adjoint_buffers() {
    const std::size_t n = x_.size(), nodes = shape_.num_nodes();
    if (adj_.x.size() != n || adj_grid_mass_.size() != nodes) {
      resize_state(adj_, n);
      resize_state(adj_next_, n);
      adj_params_.assign(n * materials::kMaxParams, Real(0));
      adj_mass_.assign(n, Real(0));
      adj_force_.assign(n, Vec<Real, D>::zero());
      adj_friction_.assign(2 * D + kMaxTools * kToolAdjointSize<D>, Real(0));  // + issue 6 tool blocks
      adj_grid_velocity_.assign(nodes, Vec<Real, D>::zero());
      adj_grid_momentum_.assign(nodes, Vec<Real, D>::zero());
      adj_grid_mass_.assign(nodes, Real(0));
      stress_record_.resize(n);
    }
  }

  template <class T>
  void add_into(Vector<T>& dst, const std::vector<T>& src, const char* name) {
    if (src.empty()) return;
    if (src.size() != dst.size())
      throw std::invalid_argument(std::string("add_state_adjoint: '") + name + "' has " + std::to_string(src.size()) +
                                  " entries, expected " + std::to_string(dst.size()) + " (one per particle) or 0");
    Vector<T> tmp(src.begin(), src.end());
    thrust::transform(Exec::policy(), dst.begin(), dst.end(), tmp.begin(), dst.begin(), thrust::plus<T>());
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

  /// The box of the nodes the substep from the current particles can touch:
  /// the hull of their stencils, or the whole grid when a grid hook (MPM-FEM
  /// coupling) may touch any node.  One reduction over the particles.
  NodeBox<D> substep_box(const SubstepParams<Real, D>& params, const GridView<Real, D>& grid) const {
    if (params.grid_hook) return NodeBox<D>::full(grid.res);
    if (x_.empty()) return NodeBox<D>::none();
    return thrust::transform_reduce(Exec::policy(), thrust::counting_iterator<std::size_t>(0),
                                    thrust::counting_iterator<std::size_t>(x_.size()),
                                    ParticleStencilBox<Real, D>{grid, thrust::raw_pointer_cast(x_.data())},
                                    NodeBox<D>::none(), NodeBoxHull{});
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
  // Outside these boxes the grid buffers / the adjoint grid buffers are zero
  // (kernels/mpm/node_box.hpp).  Whole grid until the first (adjoint) substep.
  NodeBox<D> grid_box_ = NodeBox<D>::full(shape_.res);
  NodeBox<D> adjoint_box_ = NodeBox<D>::full(shape_.res);

  // Differentiation: saved states, adjoint buffers (allocated on first use).
  // Held by pointer: growing the list must never copy stored states (thrust
  // vectors are not nothrow-movable, so std::vector would copy them on
  // reallocation and briefly double the checkpoint memory).
  std::vector<std::unique_ptr<StateBuffers>> slots_;
  StateBuffers adj_, adj_next_;  // dL/ds of the current step; scratch for the previous (swapped)
  Vector<Real> adj_params_;      // n x kMaxParams
  Vector<Real> adj_mass_;
  Vector<Vec<Real, D>> adj_force_;
  Vector<Real> adj_friction_;    // 2 D, [axis * 2 + side]
  Vector<Vec<Real, D>> adj_grid_velocity_, adj_grid_momentum_;
  Vector<Real> adj_grid_mass_;
  Vector<StressRecord<Real, D>> stress_record_;  // [N], rewritten by every adjoint substep
  typename Exec::template AdjointRunner<Real, D> adjoint_;
  std::vector<int> host_material_;
  std::size_t num_materials_ = 0;
  std::string missing_adjoint_;  // name of a used model without adjoints, "" if none

  // ---- issue 6: rigid tools ---------------------------------------------------------
 public:
  const Real* upload_tool_field(const std::vector<Real>& values) override {
    tool_fields_.push_back(std::make_unique<Vector<Real>>(values.begin(), values.end()));
    return thrust::raw_pointer_cast(tool_fields_.back()->data());
  }
  void download_tool_reactions(std::vector<ToolWrench<Real>>& reactions) const override { reactions = tool_reactions_; }
  void download_tool_adjoint(std::vector<Real>& blocks) const override {
    blocks.assign(std::size_t(adjoint_tool_count_) * kToolAdjointSize<D>, Real(0));
    if (!blocks.empty()) thrust::copy(adj_friction_.begin() + 2 * D, adj_friction_.begin() + 2 * D + blocks.size(), blocks.begin());
  }

 private:
  Vec<Real, D>* tool_impulse_buffer(int count) {
    if (count == 0) return nullptr;
    tool_impulse_.resize(shape_.num_nodes() * std::size_t(count));
    // Nodes without mass skip the tools: their impulse must read as zero.
    thrust::fill(Exec::policy(), tool_impulse_.begin(), tool_impulse_.end(), Vec<Real, D>::zero());
    return thrust::raw_pointer_cast(tool_impulse_.data());
  }
  void sum_tool_reactions(const SubstepParams<Real, D>& params) {
    tool_reactions_.assign(std::size_t(params.tools.count), ToolWrench<Real>{});
    for (int k = 0; k < params.tools.count; ++k) {
      NodeWrench<Real, D> wrench{thrust::raw_pointer_cast(tool_impulse_.data()), params.tools.count, k, shape_.origin,
                                 shape_.dx, {}, params.tools.tool[k].position, Real(1) / params.dt};
      for (int a = 0; a < D; ++a) wrench.res[a] = shape_.res[a];
      ToolWrench<Real> zero{};
      tool_reactions_[std::size_t(k)] = thrust::transform_reduce(
          Exec::policy(), thrust::counting_iterator<std::size_t>(0), thrust::counting_iterator<std::size_t>(shape_.num_nodes()),
          wrench, zero, thrust::plus<ToolWrench<Real>>());
    }
  }
  Vector<Vec<Real, D>> tool_impulse_;  // nodes x tools of the last substep
  std::vector<ToolWrench<Real>> tool_reactions_;
  std::vector<std::unique_ptr<Vector<Real>>> tool_fields_;  // mesh tools' distance fields
  int adjoint_tool_count_ = 0;
};

}  // namespace pl
