// engine/diff in Python: a recorded, checkpointed rollout of a simulation and
// its backward pass (MpmRollout).  One class per (precision, dimension),
// RolloutCore<F32|F64>_<2|3>d; python/pliant/simulation.py wraps them as
// Simulation.rollout / Simulation.backward.
//
// The loss lives in Python: forward() returns the states the loss reads (one
// dict of NumPy copies per step), the user computes dL/dstate for those steps,
// and backward() takes them (dict step -> {"x": ..., "v": ..., "F": ...,
// "C": ..., "plastic": ...}; missing entries are zero).  Both directions run
// without the GIL: the callbacks MpmRollout makes are plain C++ over data
// copied in and out before and after.
#include <pybind11/stl.h>

#include <algorithm>
#include <map>
#include <set>

#include "bindings/bind_parts.hpp"
#include "bindings/numpy_util.hpp"
#include "bindings/sim_core.hpp"
#include "engine/diff/mpm_rollout.hpp"

namespace py = pybind11;

namespace pl::py_bind {

namespace {

template <class Real, int D>
class RolloutCore {
 public:
  RolloutCore(SimCore<Real, D>& sim, int steps, std::vector<int> loss_steps, py::object forces, bool force_gradient,
              int checkpoints, std::size_t checkpoint_bytes)
      : sim_(sim), steps_(steps) {
    if (steps < 1) throw py::value_error("rollout: steps must be >= 1, got " + std::to_string(steps));
    if (checkpoints < 0) throw py::value_error("rollout: checkpoints must be >= 0 (0 = automatic)");
    if (loss_steps.empty()) loss_steps.push_back(steps);
    for (int s : loss_steps)
      if (s < 0 || s > steps)
        throw py::value_error("rollout: loss step " + std::to_string(s) + " is outside [0, " + std::to_string(steps) +
                              "] (0 is the initial state, " + std::to_string(steps) + " the last)");
    loss_steps_ = std::set<int>(loss_steps.begin(), loss_steps.end());

    const auto n = py::ssize_t(sim.world().num_particles());
    if (!forces.is_none()) {
      py::array raw = py::array::ensure(forces);
      if (raw && raw.ndim() == 3) {
        copy_into(checked_array<Real>(forces, {steps, n, D}, "rollout(forces=...)"), forces_);
        forces_per_step_ = true;
      } else {
        copy_into(checked_array<Real>(forces, {n, D}, "rollout(forces=...) (constant; or one per step, shape (steps, n, dim))"),
                  forces_);
      }
    } else if (force_gradient) {
      // dL/df at the forces the world applies now (its constant external forces, or zero).
      forces_ = sim.world().particles().force;
      if (forces_.empty()) forces_.assign(std::size_t(n), Vec<Real, D>::zero());
    }

    RolloutOptions<Real, D> opt;
    opt.steps = steps;
    opt.checkpoints = checkpoints;
    opt.checkpoint_bytes = checkpoint_bytes;
    opt.loss_reads_step = [this](int step) { return loss_steps_.count(step) > 0; };
    opt.on_state = [this](int step, const ParticleSet<Real, D>& s) { states_[step] = s; };
    opt.loss_gradient = [this](int step, const ParticleSet<Real, D>&, ParticleAdjoint<Real, D>& g) {
      const auto it = loss_gradients_.find(step);
      if (it == loss_gradients_.end()) return;
      add(g.x, it->second.x);
      add(g.v, it->second.v);
      add(g.F, it->second.F);
      add(g.C, it->second.C);
      add(g.plastic, it->second.plastic);
    };
    if (!forces_.empty()) {
      opt.forces = [this](int step, std::vector<Vec<Real, D>>& f) {
        const std::size_t n = f.size();
        const std::size_t offset = forces_per_step_ ? std::size_t(step) * n : 0;
        std::copy(forces_.begin() + offset, forces_.begin() + offset + n, f.begin());
      };
      opt.force_gradient = [this](int step, const std::vector<Vec<Real, D>>& g) {
        std::copy(g.begin(), g.end(), force_gradients_.begin() + std::size_t(step) * g.size());
      };
    }
    rollout_ = std::make_unique<MpmRollout<Real, D>>(sim.world(), std::move(opt));
  }

  /// Runs the rollout; returns {step: {"x", "v", "F", "C", "plastic"}} for the loss steps.
  py::dict forward() {
    if (forwarded_) throw py::value_error("rollout: forward() already ran; record a new rollout");
    sim_.require_not_failed("rollout");
    sim_.touch();
    sim_.host();  // edits made through the views are uploaded first
    {
      typename SimCore<Real, D>::Running running(sim_);
      py::gil_scoped_release release;
      try {
        rollout_->forward();
      } catch (const SimulationError& e) {
        sim_.mark_failed(e.what());
        sim_.running_world().particles();
        throw;
      }
      sim_.running_world().particles();  // the views show s_T
    }
    forwarded_ = true;
    generation_ = sim_.generation();
    py::dict out;
    for (const auto& [step, s] : states_) out[py::int_(step)] = state_dict(s);
    states_.clear();
    return out;
  }

  /// dL/d(everything) from dL/dstate at the loss steps; the world returns to s_0.
  py::dict backward(const py::dict& gradients) {
    if (!forwarded_) throw py::value_error("backward: record a rollout first (Simulation.rollout)");
    if (backwarded_) throw py::value_error("backward: this rollout was already reversed; record a new one");
    if (sim_.generation() != generation_)
      throw py::value_error(
          "backward: the simulation changed after the rollout was recorded (step, reset or a setter was called); "
          "record a new rollout");
    read_loss_gradients(gradients);
    const std::size_t n = sim_.world().num_particles();
    if (!forces_.empty()) force_gradients_.assign(std::size_t(steps_) * n, Vec<Real, D>::zero());
    RolloutGradients<Real, D> g;
    {
      typename SimCore<Real, D>::Running running(sim_);
      py::gil_scoped_release release;
      g = rollout_->backward();
      sim_.running_world().particles();  // the views show s_0 again
    }
    backwarded_ = true;
    sim_.touch();

    py::dict out;
    out["x"] = copy_of<Real>(g.initial_state.x);
    out["v"] = copy_of<Real>(g.initial_state.v);
    out["F"] = copy_of<Real>(g.initial_state.F);
    out["C"] = copy_of<Real>(g.initial_state.C);
    out["plastic"] = copy_of<Real>(g.initial_state.plastic);
    const auto& pm = g.parameters;
    py::array_t<Real> per_material({py::ssize_t(pm.per_material.size()), py::ssize_t(materials::kMaxParams)});
    for (std::size_t m = 0; m < pm.per_material.size(); ++m)
      for (int k = 0; k < materials::kMaxParams; ++k) per_material.mutable_at(m, k) = pm.per_material[m][std::size_t(k)];
    out["per_material"] = per_material;
    py::array_t<Real> per_particle({py::ssize_t(pm.per_particle.size()), py::ssize_t(materials::kMaxParams)});
    for (std::size_t p = 0; p < pm.per_particle.size(); ++p)
      for (int k = 0; k < materials::kMaxParams; ++k) per_particle.mutable_at(p, k) = pm.per_particle[p][std::size_t(k)];
    out["per_particle"] = per_particle;
    out["mass"] = copy_of<Real>(pm.mass);
    py::array_t<Real> friction({py::ssize_t(D), py::ssize_t(2)});
    for (int a = 0; a < D; ++a)
      for (int side = 0; side < 2; ++side)
        friction.mutable_at(a, side) = pm.wall_friction.empty() ? Real(0) : pm.wall_friction[0][std::size_t(a)][std::size_t(side)];
    out["wall_friction"] = friction;
    out["density"] = g.density;
    if (!forces_.empty()) {
      py::array_t<Real> f({py::ssize_t(steps_), py::ssize_t(n), py::ssize_t(D)});
      if (n) std::memcpy(f.mutable_data(), force_gradients_.data(), force_gradients_.size() * sizeof(Vec<Real, D>));
      out["forces"] = f;
    } else {
      out["forces"] = py::none();
    }
    return out;
  }

  py::dict report() const {
    const RolloutReport r = rollout_->report();
    py::dict d;
    d["steps"] = r.steps;
    d["checkpoints"] = r.checkpoints;
    d["peak_checkpoints"] = r.peak_checkpoints;
    d["bytes_per_state"] = r.bytes_per_state;
    d["checkpoint_bytes"] = r.checkpoint_bytes;
    d["forward_substeps"] = r.forward_substeps;
    d["recomputed_substeps"] = r.recomputed_substeps;
    d["recompute_factor"] = r.recompute_factor;
    d["summary"] = r.summary();
    return d;
  }

  const std::set<int>& loss_steps() const { return loss_steps_; }
  int steps() const { return steps_; }

 private:
  template <class T>
  static void add(std::vector<T>& into, const std::vector<T>& from) {
    if (from.empty()) return;
    for (std::size_t i = 0; i < into.size(); ++i) into[i] += from[i];
  }

  static py::dict state_dict(const ParticleSet<Real, D>& s) {
    py::dict d;
    d["x"] = copy_of<Real>(s.x);
    d["v"] = copy_of<Real>(s.v);
    d["F"] = copy_of<Real>(s.F);
    d["C"] = copy_of<Real>(s.C);
    d["plastic"] = copy_of<Real>(s.plastic);
    return d;
  }

  void read_loss_gradients(const py::dict& gradients) {
    loss_gradients_.clear();
    const auto n = py::ssize_t(sim_.world().num_particles());
    for (const auto& [key, value] : gradients) {
      if (!py::isinstance<py::int_>(key))
        throw py::type_error("backward: keys must be step numbers (int), got " + std::string(py::repr(key)));
      const int step = key.template cast<int>();
      if (!loss_steps_.count(step)) {
        std::string valid;
        for (int s : loss_steps_) valid += (valid.empty() ? "" : ", ") + std::to_string(s);
        throw py::value_error("backward: step " + std::to_string(step) +
                              " was not recorded as a loss step; recorded: " + valid);
      }
      if (!py::isinstance<py::dict>(value))
        throw py::type_error("backward: the gradient for step " + std::to_string(step) +
                             " must be a dict like {'x': dL/dx, 'v': dL/dv}");
      ParticleAdjoint<Real, D>& a = loss_gradients_[step];
      const std::string at = "backward: step " + std::to_string(step) + ": ";
      for (const auto& [name_obj, array] : value.template cast<py::dict>()) {
        const std::string name = py::str(name_obj);
        if (name == "x")
          copy_into(checked_array<Real>(array, {n, D}, at + "dL/dx"), a.x);
        else if (name == "v")
          copy_into(checked_array<Real>(array, {n, D}, at + "dL/dv"), a.v);
        else if (name == "F")
          copy_into(checked_array<Real>(array, {n, D, D}, at + "dL/dF"), a.F);
        else if (name == "C")
          copy_into(checked_array<Real>(array, {n, D, D}, at + "dL/dC"), a.C);
        else if (name == "plastic")
          copy_into(checked_array<Real>(array, {n}, at + "dL/dplastic"), a.plastic);
        else
          throw py::value_error(at + "unknown state quantity '" + name + "'; expected x, v, F, C or plastic");
      }
    }
  }

  SimCore<Real, D>& sim_;
  int steps_;
  std::set<int> loss_steps_;
  std::vector<Vec<Real, D>> forces_;  // n (constant) or steps * n entries; empty: the world's own forces
  bool forces_per_step_ = false;
  std::vector<Vec<Real, D>> force_gradients_;
  std::map<int, ParticleSet<Real, D>> states_;
  std::map<int, ParticleAdjoint<Real, D>> loss_gradients_;
  std::unique_ptr<MpmRollout<Real, D>> rollout_;
  bool forwarded_ = false, backwarded_ = false;
  long generation_ = -1;
};

template <class Real, int D>
void define_rollout(py::module_& m, const char* name) {
  using R = RolloutCore<Real, D>;
  py::class_<R>(m, name, "A recorded differentiable rollout (see pliant.Simulation.rollout).")
      .def(py::init<SimCore<Real, D>&, int, std::vector<int>, py::object, bool, int, std::size_t>(), py::arg("sim"),
           py::arg("steps"), py::arg("loss_steps"), py::arg("forces"), py::arg("force_gradient"),
           py::arg("checkpoints"), py::arg("checkpoint_bytes"), py::keep_alive<1, 2>())
      .def("forward", &R::forward)
      .def("backward", &R::backward, py::arg("gradients"))
      .def("report", &R::report)
      .def_property_readonly("steps", &R::steps)
      .def_property_readonly("loss_steps", [](const R& r) {
        return std::vector<int>(r.loss_steps().begin(), r.loss_steps().end());
      });
}

}  // namespace

void define_diff(py::module_& m) {
  define_rollout<float, 2>(m, "RolloutCoreF32_2d");
  define_rollout<float, 3>(m, "RolloutCoreF32_3d");
  define_rollout<double, 2>(m, "RolloutCoreF64_2d");
  define_rollout<double, 3>(m, "RolloutCoreF64_3d");
}

}  // namespace pl::py_bind
