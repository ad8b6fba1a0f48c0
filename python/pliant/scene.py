"""Scenes: load a scene file, or build the same description in code.

Both paths end in the engine's scene validator (engine/scene/scene_loader.hpp),
so a scene built in Python is checked exactly like a file and its errors name
the key at fault::

    scene = Scene.load("scenes/dam_break_2d.yaml", overrides={"simulation.frames": 5})

    scene = (SceneBuilder(dim=2, dx=1 / 64, size=1.0, dt=2e-4, substeps_per_frame=20, frames=30,
                          gravity=(0, -9.81))
             .material("jelly", "fixed_corotated", density=1000, E=2e4, nu=0.3)
             .box("block", "jelly", lower=(0.4, 0.5), upper=(0.6, 0.7), velocity=(1.0, 0.0))
             .walls(all={"type": "slip"}, y_low={"type": "separate", "friction": 0.4})
             .build())

The keys and units are those of the scene format (docs/scene_format.md): SI
units throughout.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _pliant

Overrides = Union[Mapping[str, Any], Sequence[str], None]


def model_names() -> List[str]:
    """Names of the constitutive models (the `model:` values a material may use)."""
    return list(_pliant.model_names())


def model_parameters(model: str) -> List[Tuple[str, str, float, str]]:
    """(name, unit, default, meaning) of each parameter of `model`."""
    return [tuple(p) for p in _pliant.model_parameters(model)]


def _yaml_value(value: Any) -> str:
    """Text of an override value.  JSON is valid YAML, so numbers, lists,
    booleans and mappings keep their types; a string is passed as written
    (as on the command line: "[0, -9.81]" is a list, "cpu" a string)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=_json_default)


def _json_default(value: Any) -> Any:
    # NumPy scalars and arrays (without importing NumPy here).
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"scene value of type {type(value).__name__} cannot be written into a scene: {value!r}")


def _override_list(overrides: Overrides) -> List[str]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        out = []
        for key, value in overrides.items():
            if not isinstance(key, str):
                raise TypeError(f"scene overrides: keys must be dotted key paths (str), got {key!r}")
            out.append(f"{key}={_yaml_value(value)}")
        return out
    if isinstance(overrides, str):
        raise TypeError("scene overrides: expected a dict {'key.path': value} or a list of 'key.path=value' strings, "
                        f"got the string {overrides!r}")
    out = list(overrides)
    for item in out:
        if not isinstance(item, str):
            raise TypeError(f"scene overrides: list entries must be 'key.path=value' strings, got {item!r}")
    return out


class Scene:
    """A validated scene: grid, time step, materials and bodies.

    Make one with :meth:`load` (a YAML scene file), :meth:`from_string` or a
    :class:`SceneBuilder`.  A Scene is immutable; :meth:`with_overrides`
    returns a changed copy.  Properties mirror the scene file (``dim``, ``dt``,
    ``dx``, ``frames``, ``substeps_per_frame``, ``materials``, ``bodies``...).
    """

    def __init__(self, desc: "_pliant.SceneDesc", source: Tuple[str, ...], overrides: List[str]):
        self._desc = desc
        self._source = source  # ("file", path) or ("text", text, display_name, base_dir)
        self._overrides = overrides

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], overrides: Overrides = None) -> "Scene":
        """Reads a scene file.  `overrides` maps dotted key paths to values, like
        ``pliant run --set``: ``{"simulation.frames": 10, "bodies.cube.velocity": [0, -2, 0]}``.
        Raises InputError naming the file, line and key of the first problem."""
        path = os.fspath(path)
        ov = _override_list(overrides)
        return cls(_pliant.load_scene(path, ov), ("file", path), ov)

    @classmethod
    def from_string(cls, text: str, display_name: str = "<string>", base_dir: str = ".",
                    overrides: Overrides = None) -> "Scene":
        """Parses scene text (YAML).  `display_name` stands for the file name in
        messages; relative mesh paths resolve against `base_dir`."""
        ov = _override_list(overrides)
        return cls(_pliant.parse_scene(text, display_name, os.fspath(base_dir), ov),
                   ("text", text, display_name, os.fspath(base_dir)), ov)

    def with_overrides(self, overrides: Overrides) -> "Scene":
        """A copy with more overrides applied (validated again)."""
        ov = self._overrides + _override_list(overrides)
        if self._source[0] == "file":
            return Scene(_pliant.load_scene(self._source[1], ov), self._source, ov)
        _, text, name, base = self._source
        return Scene(_pliant.parse_scene(text, name, base, ov), self._source, ov)

    # --- what the scene says -------------------------------------------------
    path = property(lambda self: self._desc.path, doc="Scene file as given, or the display name.")
    description = property(lambda self: self._desc.description)
    dim = property(lambda self: self._desc.dim, doc="2 or 3.")
    precision = property(lambda self: self._desc.precision, doc="'float' or 'double' (simulation.precision).")
    backend = property(lambda self: self._desc.backend, doc="'cpu', 'cuda' or 'auto' (simulation.backend).")
    dt = property(lambda self: self._desc.dt, doc="Substep [s].")
    dx = property(lambda self: self._desc.dx, doc="Grid spacing [m].")
    frames = property(lambda self: self._desc.frames)
    substeps_per_frame = property(lambda self: self._desc.substeps_per_frame)
    origin = property(lambda self: self._desc.origin, doc="Lower corner of the grid [m].")
    domain_upper = property(lambda self: self._desc.domain_upper, doc="Upper corner of the grid [m].")
    cells = property(lambda self: self._desc.cells, doc="Grid cells per axis.")
    bound_cells = property(lambda self: self._desc.bound_cells, doc="Wall layer thickness [cells].")
    gravity = property(lambda self: self._desc.gravity, doc="[m/s^2].")
    materials = property(lambda self: self._desc.materials,
                         doc="List of {label, model, density, params} (params include defaults).")
    bodies = property(lambda self: self._desc.bodies,
                      doc="List of {name, material, shape, particles_per_cell, seed, velocity}.")

    def __repr__(self) -> str:
        return (f"Scene({self.path!r}, dim={self.dim}, materials={[m['label'] for m in self.materials]}, "
                f"bodies={[b['name'] for b in self.bodies]})")


class SceneBuilder:
    """Builds a scene in code; :meth:`build` validates it and returns a :class:`Scene`.

    Arguments are the `simulation:` section of a scene file: `dim`, `dt` [s],
    `dx` [m], `size` (domain extent [m], one number or `dim` numbers) or
    `resolution` (cells), `origin` [m], `substeps_per_frame`, `frames`,
    `gravity` [m/s^2], `precision` ('float' | 'double'), `backend`,
    `bound_cells`, `cfl`, `allow_unstable_dt`.  Every method returns the
    builder, so calls chain.  Bodies are boxes, spheres, cylinders (3D) or
    closed OBJ meshes.
    """

    def __init__(self, dim: int, dt: float, dx: float, size: Union[float, Sequence[float], None] = None,
                 resolution: Union[int, Sequence[int], None] = None, origin: Optional[Sequence[float]] = None,
                 substeps_per_frame: int = 1, frames: int = 1, gravity: Optional[Sequence[float]] = None,
                 description: str = "", base_dir: str = ".", **simulation: Any):
        domain: Dict[str, Any] = {}
        if origin is not None:
            domain["origin"] = origin
        if size is not None:
            domain["size"] = size
        if resolution is not None:
            domain["resolution"] = resolution
        sim: Dict[str, Any] = {"dim": dim, "dt": dt, "substeps_per_frame": substeps_per_frame, "frames": frames,
                               "dx": dx, "domain": domain}
        if gravity is not None:
            sim["gravity"] = gravity
        sim.update(simulation)  # precision, backend, bound_cells, cfl, allow_unstable_dt (validated by the engine)
        self._doc: Dict[str, Any] = {"version": 1, "simulation": sim, "materials": {}, "bodies": {}}
        if description:
            self._doc["description"] = description
        self._base_dir = os.fspath(base_dir)

    def material(self, label: str, model: str, density: float = 1000.0, **params: float) -> "SceneBuilder":
        """Adds material `label` of registry model `model` (see :func:`model_names`);
        `params` by name (e.g. ``E=1e4, nu=0.3``), defaults for the rest."""
        entry: Dict[str, Any] = {"model": model, "density": density}
        entry.update(params)
        self._doc["materials"][label] = entry
        return self

    def _body(self, name: str, material: str, shape: Dict[str, Any], velocity: Optional[Sequence[float]],
              particles_per_cell: Optional[int], seed: int) -> "SceneBuilder":
        body: Dict[str, Any] = {"material": material, "shape": shape, "seed": seed}
        if velocity is not None:
            body["velocity"] = velocity
        if particles_per_cell is not None:
            body["particles_per_cell"] = particles_per_cell
        self._doc["bodies"][name] = body
        return self

    def box(self, name: str, material: str, lower: Sequence[float], upper: Sequence[float],
            velocity: Optional[Sequence[float]] = None, particles_per_cell: Optional[int] = None,
            seed: int = 0) -> "SceneBuilder":
        """Adds a box body between corners `lower` and `upper` [m]."""
        return self._body(name, material, {"type": "box", "lower": lower, "upper": upper}, velocity,
                          particles_per_cell, seed)

    def sphere(self, name: str, material: str, center: Sequence[float], radius: float,
               velocity: Optional[Sequence[float]] = None, particles_per_cell: Optional[int] = None,
               seed: int = 0) -> "SceneBuilder":
        """Adds a sphere (a disk in 2D) body [m]."""
        return self._body(name, material, {"type": "sphere", "center": center, "radius": radius}, velocity,
                          particles_per_cell, seed)

    def cylinder(self, name: str, material: str, center: Sequence[float], radius: float, height: float,
                 axis: int = 1, velocity: Optional[Sequence[float]] = None,
                 particles_per_cell: Optional[int] = None, seed: int = 0) -> "SceneBuilder":
        """Adds a cylinder body (3D) along `axis` (0 = x, 1 = y, 2 = z) [m]."""
        shape = {"type": "cylinder", "center": center, "radius": radius, "height": height, "axis": axis}
        return self._body(name, material, shape, velocity, particles_per_cell, seed)

    def mesh(self, name: str, material: str, file: str, scale: Union[float, Sequence[float], None] = None,
             rotation_deg: Optional[Sequence[float]] = None, translation: Optional[Sequence[float]] = None,
             velocity: Optional[Sequence[float]] = None, particles_per_cell: Optional[int] = None,
             seed: int = 0) -> "SceneBuilder":
        """Adds a body filling a closed OBJ triangle mesh (path relative to `base_dir`)."""
        shape: Dict[str, Any] = {"type": "mesh", "file": file}
        for key, value in (("scale", scale), ("rotation_deg", rotation_deg), ("translation", translation)):
            if value is not None:
                shape[key] = value
        return self._body(name, material, shape, velocity, particles_per_cell, seed)

    def walls(self, **faces: Mapping[str, Any]) -> "SceneBuilder":
        """Boundary conditions: ``all=``, ``x_low=``, ``x_high=``, ``y_low=``... each a
        mapping ``{"type": "sticky" | "slip" | "separate", "friction": mu}``."""
        self._doc["simulation"].setdefault("walls", {}).update(faces)
        return self

    def to_dict(self) -> Dict[str, Any]:
        """The scene document as nested dicts (what :meth:`text` writes)."""
        return json.loads(self.text())

    def text(self) -> str:
        """The scene document as text (JSON, which is valid YAML: save it as a .yaml scene)."""
        return json.dumps(self._doc, indent=2, default=_json_default)

    def build(self, display_name: str = "<SceneBuilder>") -> Scene:
        """Validates the description and returns the Scene (InputError on the first problem,
        naming its key path, e.g. ``materials.jelly.nu``)."""
        return Scene.from_string(self.text(), display_name, self._base_dir)
