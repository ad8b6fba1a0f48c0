"""Simulation: step a scene, read and write its state, differentiate a rollout.

State arrays share memory with the engine (CPU backend: no copies)::

    sim = Simulation(scene, backend="cpu", dtype="float64")
    x = sim.x                 # (n, dim) view of the particle positions
    sim.step(10)              # x now shows the state after 10 substeps
    sim.v[:, 1] += 0.5        # edits through a view are used by the next step

How the views stay consistent: the engine keeps a host copy of the particles
and the backend keeps its own buffers.  The views are the host copy.  After a
step, a rollout or a backward pass the host copy is refreshed from the backend,
and before the backend runs again the host copy is uploaded, so edits made in
between are never lost (one copy each way per call, not per substep).  With
the CUDA backend the views behave the same; the copies then cross the bus.

Differentiation::

    rec = sim.rollout(100, loss_frames=[100])      # records; rec[100].x is the final state
    dL_dx = 2 * (rec[100].x - target)              # a loss computed in NumPy
    g = sim.backward({100: {"x": dL_dx}})          # gradients of that loss
    g.v                                            # dL/d(initial velocities), (n, dim)
    g.material_params["jelly"]["E"]                # dL/dE
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import _pliant
from .scene import Scene

_CORES = {
    ("float32", 2): (_pliant.SimCoreF32_2d, _pliant.RolloutCoreF32_2d),
    ("float32", 3): (_pliant.SimCoreF32_3d, _pliant.RolloutCoreF32_3d),
    ("float64", 2): (_pliant.SimCoreF64_2d, _pliant.RolloutCoreF64_2d),
    ("float64", 3): (_pliant.SimCoreF64_3d, _pliant.RolloutCoreF64_3d),
}
_DTYPE_NAMES = {"float32": "float32", "float": "float32", "float64": "float64", "double": "float64"}


def _dtype_name(dtype: Any, scene: Scene) -> str:
    if dtype is None:
        return "float64" if scene.precision == "double" else "float32"
    if isinstance(dtype, str):
        key = dtype
    else:
        try:
            key = np.dtype(dtype).name
        except TypeError:
            key = repr(dtype)
    if key not in _DTYPE_NAMES:
        raise ValueError(f"Simulation(dtype={dtype!r}): expected 'float32' or 'float64'")
    return _DTYPE_NAMES[key]


@dataclass
class State:
    """One recorded state (NumPy copies): positions x (n, dim) [m], velocities v
    (n, dim) [m/s], deformation gradients F and affine velocities C (n, dim, dim),
    and the per-particle plastic scalar (n,)."""

    x: np.ndarray
    v: np.ndarray
    F: np.ndarray
    C: np.ndarray
    plastic: np.ndarray


class Recording(Mapping[int, State]):
    """The states a rollout recorded for its loss, by step (0 = initial state)."""

    def __init__(self, core: Any, states: Dict[int, Dict[str, np.ndarray]]):
        self._core = core
        self._states = {int(k): State(**v) for k, v in states.items()}

    def __getitem__(self, step: int) -> State:
        if step not in self._states:
            raise KeyError(f"step {step} was not recorded; loss_frames were {sorted(self._states)}")
        return self._states[step]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._states))

    def __len__(self) -> int:
        return len(self._states)

    @property
    def steps(self) -> int:
        """Substeps the rollout ran."""
        return self._core.steps

    def report(self) -> Dict[str, Any]:
        """Checkpoint memory and recomputation of the rollout (engine/diff RolloutReport)."""
        return dict(self._core.report())


@dataclass
class Gradients:
    """Gradients of a loss with respect to everything differentiable in a rollout.

    x, v, F, C, plastic: with respect to the initial state (same shapes as the state).
    material_params: {material label: {parameter name: dL/dparameter}}.
    per_particle_params: (n, max_params) raw per-particle parameter gradients, as if
        each particle had its own copy of its material's parameters (column k is
        the k-th name of model_parameters(model)).
    density: {material label: dL/drho [per kg/m^3]}.
    mass: (n,) dL/d(particle mass).
    wall_friction: (dim, 2) dL/d(Coulomb coefficient) of each wall face [axis][low, high].
    forces: (steps, n, dim) dL/d(external force per particle and substep), when the
        rollout had forces (or force_gradient=True); else None.
    """

    x: np.ndarray
    v: np.ndarray
    F: np.ndarray
    C: np.ndarray
    plastic: np.ndarray
    material_params: Dict[str, Dict[str, float]]
    per_particle_params: np.ndarray
    density: Dict[str, float]
    mass: np.ndarray
    wall_friction: np.ndarray
    forces: Optional[np.ndarray]


class Simulation:
    """An MPM world built from a :class:`Scene`.

    backend: 'cpu', 'cuda' or 'auto' (default: the scene's `simulation.backend`);
        'cuda' where it cannot run raises InputError saying why.
    threads: CPU threads (OpenMP) for every simulation in this process; None
        keeps the current setting (all cores unless set before).
    dtype: 'float32' or 'float64' (default: the scene's `simulation.precision`).
        Gradient checks want float64; the CUDA backend runs float32 only.

    Building the world runs the dt stability guard (InputError when dt is too large).
    """

    def __init__(self, scene: Union[Scene, str], backend: Optional[str] = None, threads: Optional[int] = None,
                 dtype: Any = None):
        if isinstance(scene, str):
            scene = Scene.load(scene)
        if not isinstance(scene, Scene):
            raise TypeError(f"Simulation: expected a pliant.Scene or a scene file path, got {type(scene).__name__}")
        if threads is not None:
            if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 1:
                raise ValueError(f"Simulation(threads={threads!r}): expected an integer >= 1, or None")
            _pliant.set_cpu_threads(int(threads))
        if backend is None:
            backend = scene.backend
        if backend not in ("cpu", "cuda", "auto"):
            raise ValueError(f"Simulation(backend={backend!r}): expected 'cpu', 'cuda' or 'auto'")
        self.scene = scene
        self.dtype = np.dtype(_dtype_name(dtype, scene))
        sim_class, self._rollout_class = _CORES[(self.dtype.name, scene.dim)]
        self._core = sim_class(scene._desc, backend)
        self._recording: Any = None

    # --- stepping ------------------------------------------------------------
    def step(self, substeps: int = 1) -> None:
        """Advances `substeps` substeps of dt.  Raises SimulationError naming the
        step, body, particle and quantity when the run goes bad; after that,
        stepping raises until :meth:`reset`."""
        self._core.step(_count(substeps, "step(substeps)"))

    def run_frames(self, frames: int = 1) -> None:
        """Advances `frames` frames of the scene's `substeps_per_frame` substeps."""
        self.step(_count(frames, "run_frames(frames)") * self.scene.substeps_per_frame)

    def reset(self) -> None:
        """Back to the initial state (x, v, F, C, plastic) at t = 0.  Material
        parameters, densities and external forces set since then are kept.
        Views taken before stay valid and show the reset state."""
        self._core.reset()

    # --- state: zero-copy views ------------------------------------------------
    @property
    def x(self) -> np.ndarray:
        """Positions [m], (n, dim), a writable view of the engine's state."""
        return self._core.x

    @property
    def v(self) -> np.ndarray:
        """Velocities [m/s], (n, dim), a writable view."""
        return self._core.v

    @property
    def F(self) -> np.ndarray:
        """Deformation gradients, (n, dim, dim), a writable view."""
        return self._core.F

    @property
    def C(self) -> np.ndarray:
        """APIC affine velocity matrices [1/s], (n, dim, dim), a writable view."""
        return self._core.C

    @property
    def plastic(self) -> np.ndarray:
        """Per-particle plastic scalar (model-specific), (n,), a writable view."""
        return self._core.plastic

    @property
    def mass(self) -> np.ndarray:
        """Particle masses [kg], (n,), read-only (change densities with set_material)."""
        return self._core.mass

    @property
    def volume(self) -> np.ndarray:
        """Particle reference volumes [m^3], (n,), read-only."""
        return self._core.volume

    @property
    def material(self) -> np.ndarray:
        """Material index of each particle (into :attr:`materials`), (n,), read-only."""
        return self._core.material

    @property
    def body(self) -> np.ndarray:
        """Body index of each particle (into :attr:`bodies`), (n,), read-only."""
        return self._core.body

    # --- setters (copies with checks) ---------------------------------------------
    def set_positions(self, x: Any) -> None:
        """Replaces all positions [m]; shape (n, dim), finite."""
        self._core.x[...] = self._checked(x, (self.num_particles, self.dim), "set_positions")

    def set_velocities(self, v: Any) -> None:
        """Replaces all velocities [m/s]; shape (n, dim), finite.  Re-runs the dt
        guard (InputError when the new speeds make dt unstable)."""
        self._core.v[...] = self._checked(v, (self.num_particles, self.dim), "set_velocities")
        self._core.check_stability()

    def set_external_forces(self, forces: Any) -> None:
        """Per-particle external forces [N], shape (n, dim), applied every substep
        until changed; None removes them."""
        self._core.set_external_forces(None if forces is None else
                                       self._checked(forces, (self.num_particles, self.dim), "set_external_forces"))

    def external_forces(self) -> Optional[np.ndarray]:
        """A copy of the per-particle external forces [N], or None."""
        return self._core.external_forces()

    def body_forces_to_particles(self, body_forces: Any) -> np.ndarray:
        """Spreads one force per body [N], shape (num_bodies, dim), over each body's
        particles in proportion to mass, so each body receives its force in total
        and accelerates as a whole: f_p = F_b m_p / M_b."""
        forces = self._checked(body_forces, (len(self.bodies), self.dim), "body forces")
        mass = np.asarray(self.mass, dtype=np.float64)
        body = np.asarray(self.body)
        body_mass = np.bincount(body, weights=mass, minlength=len(self.bodies))
        return forces[body] * (mass / body_mass[body])[:, None]

    def set_body_forces(self, body_forces: Any) -> None:
        """External force per body [N], shape (num_bodies, dim) (see body_forces_to_particles)."""
        self.set_external_forces(self.body_forces_to_particles(body_forces))

    @property
    def materials(self) -> List[Dict[str, Any]]:
        """Current materials: [{label, model, density, params: {name: value}}]."""
        return list(self._core.materials)

    def set_material(self, material: Union[str, int], density: Optional[float] = None, **params: float) -> None:
        """Changes material parameters (by name, e.g. ``E=2e4``) and/or density
        [kg/m^3] of one material, by label or index.  Validated like a scene
        file (InputError naming the parameter).  Particle masses follow the density."""
        index = self._material_index(material)
        self._core.set_material(index, density, {k: float(v) for k, v in params.items()})

    def set_wall_friction(self, axis: int, side: int, friction: float) -> None:
        """Coulomb coefficient of one wall face (axis 0..dim-1, side 0 = low, 1 = high)."""
        self._core.set_wall_friction(axis, side, friction)

    # --- information ---------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self.scene.dim

    @property
    def num_particles(self) -> int:
        return self._core.num_particles

    @property
    def bodies(self) -> List[Dict[str, Any]]:
        """[{name, material, first, count}]: particles first..first+count-1 belong to the body."""
        return list(self._core.bodies)

    @property
    def step_count(self) -> int:
        """Substeps since the initial state."""
        return self._core.step_count

    @property
    def time(self) -> float:
        """Simulated time [s]."""
        return self._core.time

    @property
    def dt(self) -> float:
        return self._core.dt

    @property
    def backend(self) -> str:
        """The backend running this simulation: 'cpu' or 'cuda'."""
        return self._core.backend

    # --- differentiation -------------------------------------------------------------
    def rollout(self, steps: int, loss_frames: Optional[Sequence[int]] = None, forces: Any = None,
                force_gradient: bool = False, checkpoints: int = 0, checkpoint_bytes: int = 0) -> Recording:
        """Runs `steps` substeps recording what a backward pass needs, and returns
        the states the loss reads.

        loss_frames: the steps whose state the loss reads, each in 0..steps
            (0 = the current state, steps = the last); default [steps].
        forces: external forces [N] per particle for the rollout, shape (n, dim)
            (constant) or (steps, n, dim) (one per substep); default: the
            simulation's own external forces.
        force_gradient: also return dL/dforces when `forces` is not given.
        checkpoints / checkpoint_bytes: memory budget of the backward pass (states
            kept; others are recomputed); 0 = about 2 sqrt(steps).

        After it the simulation is at step_count + steps and the views show that state.
        """
        steps = _count(steps, "rollout(steps)")
        frames = [steps] if loss_frames is None else [int(s) for s in loss_frames]
        if forces is not None:
            shape_ok = np.ndim(forces) in (2, 3)
            if not shape_ok:
                raise ValueError(f"rollout(forces=...): expected shape (n, dim) or (steps, n, dim), "
                                 f"got {np.shape(forces)}")
        core = self._rollout_class(self._core, steps, frames, forces, bool(force_gradient), int(checkpoints),
                                   int(checkpoint_bytes))
        self._recording = None
        states = core.forward()
        self._recording = Recording(core, states)
        return self._recording

    def backward(self, dL_dstate: Mapping[int, Mapping[str, Any]]) -> Gradients:
        """Gradients of a loss for the last :meth:`rollout`.

        dL_dstate maps each loss frame to the loss's gradient with respect to that
        state: ``{step: {"x": (n, dim), "v": ..., "F": (n, dim, dim), "C": ..., "plastic": (n,)}}``
        (any entry may be left out: zero).  The simulation returns to the state the
        rollout started from.  Each rollout allows one backward pass.
        """
        if self._recording is None:
            raise ValueError("backward: record a rollout first (Simulation.rollout)")
        if not isinstance(dL_dstate, Mapping):
            raise TypeError("backward: expected a dict {step: {'x': dL/dx, ...}}, got " + type(dL_dstate).__name__)
        raw = self._recording._core.backward(dict(dL_dstate))
        names = {m["label"]: m for m in self.materials}
        per_material = np.asarray(raw["per_material"])
        material_params = {}
        density = {}
        for index, (label, m) in enumerate(names.items()):
            material_params[label] = {name: float(per_material[index, k]) for k, name in enumerate(m["params"])}
            density[label] = float(raw["density"][index])
        return Gradients(x=raw["x"], v=raw["v"], F=raw["F"], C=raw["C"], plastic=raw["plastic"],
                         material_params=material_params, per_particle_params=raw["per_particle"], density=density,
                         mass=raw["mass"], wall_friction=raw["wall_friction"], forces=raw["forces"])

    # --- helpers ---------------------------------------------------------------------
    def _checked(self, value: Any, shape: tuple, what: str) -> np.ndarray:
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"{what}: expected an array of numbers, got dtype {arr.dtype}")
        if arr.shape != shape:
            raise ValueError(f"{what}: expected shape {shape}, got {arr.shape}")
        arr = arr.astype(self.dtype, copy=False)
        if not np.all(np.isfinite(arr)):
            bad = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise ValueError(f"{what}: entry for particle/body {bad} is not finite")
        return arr

    def _material_index(self, material: Union[str, int]) -> int:
        labels = [m["label"] for m in self.materials]
        if isinstance(material, str):
            if material not in labels:
                raise KeyError(f"no material {material!r}; materials are {labels}")
            return labels.index(material)
        if isinstance(material, (int, np.integer)) and not isinstance(material, bool):
            if not 0 <= material < len(labels):
                raise IndexError(f"material index {material} is out of range [0, {len(labels)})")
            return int(material)
        raise TypeError(f"material: expected a label or an index, got {material!r}")

    def __repr__(self) -> str:
        return (f"Simulation({self.scene.path!r}, {self.dim}D, {self.num_particles} particles, "
                f"{self.dtype.name}, backend={self.backend!r}, t={self.time:.6g} s)")


def _count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{what}: expected an integer, got {n!r}")
    if n < 0:
        raise ValueError(f"{what}: expected a count >= 0, got {n}")
    return int(n)
