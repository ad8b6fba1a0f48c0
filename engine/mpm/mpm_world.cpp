#include "engine/mpm/mpm_world.hpp"

#include <cmath>
#include <iostream>
#include <sstream>

#include "engine/core/error.hpp"

namespace pl {

namespace {

const char* fault_quantity(std::uint64_t fault) {
  switch (fault) {
    case kFaultPositionNotFinite: return "position is not finite (NaN/Inf)";
    case kFaultVelocityNotFinite: return "velocity is not finite (NaN/Inf)";
    case kFaultDeformationNotFinite: return "deformation gradient F (or affine velocity C) is not finite (NaN/Inf)";
    case kFaultPlasticNotFinite: return "plastic state is not finite (NaN/Inf)";
    case kFaultLeftDomain: return "position left the simulation domain";
    default: return "unknown fault";
  }
}

template <class Real, int D>
GridShape<Real, D> grid_shape(const MpmSettings<D>& s) {
  GridShape<Real, D> g;
  for (int a = 0; a < D; ++a) {
    g.res[a] = s.resolution[a];
    g.origin[a] = Real(s.origin[a]);
  }
  g.dx = Real(s.dx);
  return g;
}

template <class Real, int D>
std::unique_ptr<MpmBackend<Real, D>> make_backend(Backend b, const GridShape<Real, D>& shape,
                                                  const std::string& context) {
  if (b == Backend::Cpu) return make_cpu_mpm_backend<Real, D>(shape);
#ifdef PLIANT_WITH_CUDA
  if constexpr (std::is_same_v<Real, float>) {
    return make_cuda_mpm_backend<Real, D>(shape);
  } else {
    throw InputError(context + ": the CUDA backend runs in float precision only; use precision float or backend cpu");
  }
#else
  throw InputError(context + ": backend 'cuda' requested but " + cuda_unavailable_reason());
#endif
}

}  // namespace

template <class Real, int D>
MpmWorld<Real, D>::MpmWorld(const MpmSettings<D>& settings, std::vector<materials::MaterialDesc> materials,
                            Backend backend, const std::string& context)
    : settings_(settings), materials_(std::move(materials)), backend_kind_(backend), context_(context) {
  validate_settings(settings_, context_);
  if (materials_.empty()) throw InputError(context_ + ": at least one material is required");
  backend_ = make_backend<Real, D>(backend, grid_shape<Real, D>(settings_), context_);
}

template <class Real, int D>
MpmWorld<Real, D>::~MpmWorld() = default;

template <class Real, int D>
int MpmWorld<Real, D>::add_body(const std::string& name, const std::vector<std::array<double, D>>& positions,
                                int material, const std::array<double, D>& velocity, double particle_volume) {
  const std::string where = context_ + ": body '" + name + "'";
  if (material < 0 || material >= int(materials_.size()))
    throw InputError(where + ": material index " + std::to_string(material) + " is out of range [0, " +
                     std::to_string(materials_.size()) + ")");
  if (!(std::isfinite(particle_volume) && particle_volume > 0))
    throw InputError(where + ": particle volume must be finite and > 0");
  for (int a = 0; a < D; ++a)
    if (!std::isfinite(velocity[a])) throw InputError(where + ": initial velocity must be finite");
  if (positions.empty()) throw InputError(where + ": sampling produced no particles (is the shape inside the domain and larger than a cell?)");
  // Every particle must start with its whole stencil inside the walls' interior.
  for (const auto& x : positions)
    for (int a = 0; a < D; ++a) {
      const double g = (x[a] - settings_.origin[a]) / settings_.dx;
      if (!(g >= settings_.bound_cells && g <= settings_.resolution[a] - 1 - settings_.bound_cells)) {
        std::ostringstream os;
        os << where << ": a particle at coordinate " << x[a] << " m on axis " << a
           << " lies outside the domain interior [" << settings_.origin[a] + settings_.bound_cells * settings_.dx
           << ", " << settings_.origin[a] + (settings_.resolution[a] - 1 - settings_.bound_cells) * settings_.dx
           << "] m (domain minus the " << settings_.bound_cells << "-cell wall layer)";
        throw InputError(os.str());
      }
    }

  particles();  // make sure host_ is current before appending
  const auto& mat = materials_[material];
  BodyInfo info{name, material, host_.size(), positions.size()};
  Vec<Real, D> v0;
  for (int a = 0; a < D; ++a) v0[a] = Real(velocity[a]);
  const Real plastic0 = Real(materials::initial_plastic_state(mat));
  for (const auto& x : positions) {
    Vec<Real, D> xp;
    for (int a = 0; a < D; ++a) xp[a] = Real(x[a]);
    host_.x.push_back(xp);
    host_.v.push_back(v0);
    host_.F.push_back(Mat<Real, D>::identity());
    host_.C.push_back(Mat<Real, D>::zero());
    host_.plastic.push_back(plastic0);
    host_.mass.push_back(Real(mat.density * particle_volume));
    host_.volume.push_back(Real(particle_volume));
    host_.material.push_back(material);
    host_.body.push_back(int(bodies_.size()));
    if (!host_.force.empty()) host_.force.push_back(Vec<Real, D>::zero());
  }
  bodies_.push_back(info);
  device_dirty_ = true;
  stability_checked_ = false;
  return int(bodies_.size()) - 1;
}

template <class Real, int D>
StabilityReport MpmWorld<Real, D>::check_stability() const {
  const auto& p = particles();
  std::vector<double> max_speed(materials_.size(), -1.0);
  for (std::size_t i = 0; i < p.size(); ++i) {
    double& s = max_speed[p.material[i]];
    s = std::max(s, double(norm(p.v[i])));
  }
  StabilityReport r = check_time_step(settings_.dt, settings_.dx, settings_.cfl, materials_, max_speed);
  if (!r.ok()) {
    if (!settings_.allow_unstable_dt) throw InputError(context_ + ": " + r.message());
    std::cerr << "warning: " << context_ << ": " << r.message() << " (allow_unstable_dt is set: running anyway)\n";
  }
  stability_checked_ = true;
  return r;
}

template <class Real, int D>
void MpmWorld<Real, D>::upload_if_dirty() {
  if (!device_dirty_) return;
  std::vector<MaterialSlot<Real>> slots(materials_.size());
  for (std::size_t m = 0; m < materials_.size(); ++m) {
    slots[m].model_id = materials_[m].model_id;
    for (int k = 0; k < materials::kMaxParams; ++k) slots[m].params[k] = Real(materials_[m].params[k]);
  }
  backend_->upload(host_, slots);
  device_dirty_ = false;
}

template <class Real, int D>
void MpmWorld<Real, D>::step(int substeps) {
  if (substeps < 0) throw InputError(context_ + ": number of substeps must be >= 0");
  if (!failure_.empty())
    throw SimulationError(context_ + ": cannot step a world that failed (" + failure_ +
                          "); restore a good state with set_particles first");
  if (!stability_checked_) check_stability();
  upload_if_dirty();
  SubstepParams<Real, D> params = substep_params();
  for (int s = 0; s < substeps; ++s) {
    if (!tools_.empty()) params = substep_params(step_count_);  // issue 6: tools move every substep
    const std::uint64_t fault = backend_->substep(params);
    if (!tools_.empty()) record_tool_reactions(step_count_);  // issue 6
    host_stale_ = true;
    if (fault != kNoFault) {
      failure_ = describe_fault(fault, step_count_ + 1);
      throw SimulationError(failure_);
    }
    ++step_count_;
  }
}

template <class Real, int D>
SubstepParams<Real, D> MpmWorld<Real, D>::substep_params() const {
  SubstepParams<Real, D> params;
  params.dt = Real(settings_.dt);
  params.walls.bound = settings_.bound_cells;
  params.velocity_scale = Real(std::exp(-settings_.damping * settings_.dt));
  params.grid_hook = grid_hook_;  // issue 6: MPM <-> FEM coupling
  for (int a = 0; a < D; ++a) {
    params.gravity[a] = Real(settings_.gravity[a]);
    for (int side = 0; side < 2; ++side) {
      params.walls.type[a][side] = settings_.walls[a][side].type;
      params.walls.friction[a][side] = Real(settings_.walls[a][side].friction);
    }
  }
  return params;
}

template <class Real, int D>
std::string MpmWorld<Real, D>::describe_fault(std::uint64_t key, long step) const {
  const std::size_t particle = std::size_t(key >> 3);
  const std::uint64_t what = key & 7u;
  const auto& p = particles();  // state before the failing substep's G2P write
  std::ostringstream os;
  os << context_ << ": simulation stopped at step " << step << " (t = " << step * settings_.dt << " s): ";
  if (particle < p.size()) {
    const BodyInfo& body = bodies_[p.body[particle]];
    os << "body '" << body.name << "' (material '" << materials_[body.material].label << "'), particle "
       << particle - body.first << " of " << body.count << ": " << fault_quantity(what);
    os << "; last good position (";
    for (int a = 0; a < D; ++a) os << (a ? ", " : "") << p.x[particle][a];
    os << ") m, velocity (";
    for (int a = 0; a < D; ++a) os << (a ? ", " : "") << p.v[particle][a];
    os << ") m/s";
    if (what != kFaultLeftDomain)
      os << ". Usually dt is too large for the material stiffness or speed: reduce dt";
    else
      os << ". The domain is [origin, origin + (resolution - 1) dx]; enlarge it or check the walls";
  } else {
    os << fault_quantity(what);
  }
  return os.str();
}

template <class Real, int D>
std::string MpmWorld<Real, D>::describe_adjoint_fault(std::uint64_t key, long step) const {
  const auto& p = particles();
  std::ostringstream os;
  os << context_ << ": backward pass stopped in the adjoint of step " << step + 1 << " (t = " << (step + 1) * settings_.dt
     << " s): ";
  const std::size_t index = adjoint_key_index(key);
  if (adjoint_key_kernel(key) != kAdjKernelGridUpdate && index < p.size()) {
    const BodyInfo& body = bodies_[p.body[index]];
    os << "body '" << body.name << "' (material '" << materials_[body.material].label << "'), particle "
       << index - body.first << " of " << body.count << "; ";
  }
  os << describe_adjoint_key(key)
     << ". A loss that is not differentiable there, or a forward step near instability, usually causes this";
  return os.str();
}

template <class Real, int D>
const ParticleSet<Real, D>& MpmWorld<Real, D>::particles() const {
  if (host_stale_) {
    backend_->download(host_);
    host_stale_ = false;
  }
  return host_;
}

template <class Real, int D>
void MpmWorld<Real, D>::set_particles(const ParticleSet<Real, D>& p) {
  const std::size_t n = num_particles();
  auto same = [&](std::size_t m, const char* name) {
    if (m != n)
      throw InputError(context_ + ": set_particles: '" + name + "' has " + std::to_string(m) + " entries, expected " +
                       std::to_string(n));
  };
  same(p.x.size(), "x");
  same(p.v.size(), "v");
  same(p.F.size(), "F");
  same(p.C.size(), "C");
  same(p.plastic.size(), "plastic");
  same(p.mass.size(), "mass");
  same(p.volume.size(), "volume");
  same(p.material.size(), "material");
  same(p.body.size(), "body");
  if (!p.force.empty()) same(p.force.size(), "force");
  // Structure is checked here (a bad index would read out of bounds); the
  // numerical state (x, v, F, C, plastic) is checked by the run's per-substep
  // guard, which stops at the first bad particle and names it.
  auto bad = [&](std::size_t i, const std::string& what) {
    throw InputError(context_ + ": set_particles: particle " + std::to_string(i) + ": " + what);
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (p.material[i] < 0 || p.material[i] >= int(materials_.size()))
      bad(i, "material index " + std::to_string(p.material[i]) + " is out of range [0, " +
                 std::to_string(materials_.size()) + ")");
    if (p.body[i] < 0 || p.body[i] >= int(bodies_.size()))
      bad(i, "body index " + std::to_string(p.body[i]) + " is out of range [0, " + std::to_string(bodies_.size()) + ")");
    if (!(std::isfinite(double(p.mass[i])) && p.mass[i] > 0)) bad(i, "mass must be finite and > 0");
    if (!(std::isfinite(double(p.volume[i])) && p.volume[i] > 0)) bad(i, "volume must be finite and > 0");
  }
  host_ = p;
  failure_.clear();
  stability_checked_ = false;  // velocities may have changed
  host_stale_ = false;
  device_dirty_ = true;
}

template <class Real, int D>
void MpmWorld<Real, D>::set_external_forces(const std::vector<Vec<Real, D>>& forces) {
  particles();
  if (!forces.empty() && forces.size() != num_particles())
    throw InputError(context_ + ": external forces: got " + std::to_string(forces.size()) + " entries for " +
                     std::to_string(num_particles()) + " particles");
  host_.force = forces;
  device_dirty_ = true;
}

template <class Real, int D>
void MpmWorld<Real, D>::set_material(int index, const materials::MaterialDesc& desc) {
  if (index < 0 || index >= int(materials_.size()))
    throw InputError(context_ + ": set_material: index " + std::to_string(index) + " is out of range [0, " +
                     std::to_string(materials_.size()) + ")");
  const auto& old = materials_[std::size_t(index)];
  if (desc.model_id != old.model_id)
    throw InputError(context_ + ": set_material: material '" + old.label + "' uses model '" + old.model_name +
                     "'; its model cannot change in a built world");
  std::map<std::string, double> named;
  const auto info = materials::model_info(desc.model_id);
  for (int k = 0; k < info.num_params; ++k) named[info.params[k].name] = desc.params[std::size_t(k)];
  // Re-validate through the registry (same messages as a scene file).
  const materials::MaterialDesc checked =
      materials::make_material(old.label, old.model_name, named, desc.density, context_ + ": set_material");
  particles();
  for (std::size_t i = 0; i < host_.size(); ++i)
    if (host_.material[i] == index) host_.mass[i] = Real(checked.density * double(host_.volume[i]));
  materials_[std::size_t(index)] = checked;
  device_dirty_ = true;
  stability_checked_ = false;
}

template <class Real, int D>
void MpmWorld<Real, D>::set_wall_friction(int axis, int side, double friction) {
  if (axis < 0 || axis >= D || side < 0 || side > 1)
    throw InputError(context_ + ": set_wall_friction: no wall (axis " + std::to_string(axis) + ", side " +
                     std::to_string(side) + ")");
  MpmSettings<D> s = settings_;
  s.walls[std::size_t(axis)][std::size_t(side)].friction = friction;
  validate_settings(s, context_);
  settings_ = s;
}

template <class Real, int D>
void MpmWorld<Real, D>::set_damping(double per_second) {
  MpmSettings<D> s = settings_;
  s.damping = per_second;
  validate_settings(s, context_);
  settings_ = s;
}

template <class Real, int D>
void MpmWorld<Real, D>::grid_state(std::vector<Real>& mass, std::vector<Vec<Real, D>>& velocity) const {
  backend_->download_grid(mass, velocity);
}

template class MpmWorld<float, 2>;
template class MpmWorld<float, 3>;
template class MpmWorld<double, 2>;
template class MpmWorld<double, 3>;

}  // namespace pl
