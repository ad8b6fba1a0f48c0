"""Pliant: a differentiable simulator for pliant matter (MLS-MPM), from Python.

Load a scene file or build one in code, step it, read and write its state as
NumPy arrays that share memory with the engine, and differentiate a rollout::

    import pliant
    scene = pliant.Scene.load("scenes/jelly_drop_3d.yaml", overrides={"simulation.frames": 10})
    sim = pliant.Simulation(scene, backend="cpu", threads=2)
    sim.step(100)
    print(sim.x.mean(axis=0))          # centre of the particles, no copy

Errors from the engine arrive as :class:`InputError` (a ``ValueError``: bad
scene, parameter or call) and :class:`SimulationError` (a ``RuntimeError``:
the run went bad), with the engine's message naming the key or particle.

Modules: :mod:`pliant.scene` (Scene, SceneBuilder), :mod:`pliant.simulation`
(Simulation, Recording, Gradients), :mod:`pliant.env` (a gym-style
environment), :mod:`pliant.optimize` (the scene optimizer with a callback per
iteration) and :mod:`pliant.torch` (a ``torch.autograd.Function`` over a
rollout; needs PyTorch, imported only on request).
"""
from pkgutil import extend_path

# In a build tree the compiled module sits in <build>/bindings/pliant/ and the
# Python sources in python/pliant/: extend_path lets one package span both.
__path__ = extend_path(__path__, __name__)

try:
    from . import _pliant
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "pliant: the compiled module pliant._pliant could not be imported (" + str(exc) + "). "
        "Install the package with `pip install .` from the repository, or put the build's "
        "bindings/ directory on PYTHONPATH next to python/."
    ) from exc

from ._pliant import InputError, SimulationError, __version__
from .scene import Scene, SceneBuilder, model_names, model_parameters
from .simulation import Gradients, Recording, Simulation
from .env import Env
from .optimize import optimize
from .evaluation import evaluate  # issue 10: the evaluation function (executors: pliant.executors)


def cuda_available() -> bool:
    """True when this build has the CUDA backend and a GPU is usable."""
    return _pliant.cuda_compiled() and _pliant.cuda_device_count() > 0


__all__ = [
    "Env",
    "Gradients",
    "InputError",
    "Recording",
    "Scene",
    "SceneBuilder",
    "Simulation",
    "SimulationError",
    "__version__",
    "cuda_available",
    "model_names",
    "model_parameters",
    "optimize",
    "evaluate",
]
