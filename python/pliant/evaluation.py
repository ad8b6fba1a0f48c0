"""The evaluation function of a scene with optimization sections, the unit of
work of every executor (engine/optim/evaluate.hpp)::

    loss, gradient, metrics, ok, reason = pliant.evaluate(scene, u, seed=0, gradient=True)

u: the controls as the optimizer's variables in [0, 1] (one per control
value, in scene order).  gradient: dL/du (empty when not asked for).  metrics:
"loss.<term>" (weighted) and "<term>.<metric>".  ok is False, loss inf and
reason the engine's message when the simulation cannot run the candidate (an
unstable material value, particles leaving the domain).  A bad scene or u
raises InputError.  The GIL is released while the rollout runs; `threads` is
this evaluation's OpenMP team (equal threads give bit-identical results).
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from . import _pliant
from .scene import Scene


def evaluate(scene: Scene, u: Sequence[float], seed: int = 0, gradient: bool = True,
             threads: int = 1) -> Tuple[float, List[float], Dict[str, float], bool, str]:
    if not isinstance(scene, Scene):
        raise TypeError(f"evaluate: expected a pliant.Scene, got {type(scene).__name__}")
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"evaluate(threads={threads!r}): expected an integer >= 1")
    loss, grad, metrics, ok, reason = _pliant.evaluate(scene._desc, [float(x) for x in u], int(seed), bool(gradient),
                                                       threads)
    return loss, list(grad), dict(metrics), bool(ok), reason
