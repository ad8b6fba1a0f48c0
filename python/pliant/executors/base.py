"""The executor interface: evaluate many candidates of one or more scenes and
return the results in the order they were submitted.

A candidate is an :class:`EvalTask` (scene, u, seed, gradient); its result an
:class:`EvalResult`.  Every executor runs each evaluation on a fixed number of
threads (``threads_per_evaluation``, default 1), which makes the losses
bit-identical whichever executor (and whichever machine of the same build)
computed them: the engine is deterministic for equal arguments and thread
counts (engine/optim/evaluate.hpp).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import _pliant
from ..scene import Scene


@dataclass(frozen=True)
class EvalTask:
    scene: Scene
    u: Tuple[float, ...]   # the controls as the optimizer's [0, 1] variables
    seed: int = 0
    gradient: bool = False


@dataclass
class EvalResult:
    """status: ok | failed (the simulation could not run the candidate; loss inf)
    | input_error (bad scene/override/target: not retried) | lost (the worker
    died or timed out more often than the executor retries) | error (an
    unexpected exception in the worker: not retried)."""
    status: str
    loss: float = math.inf
    gradient: List[float] = field(default_factory=list)
    metrics: Dict[str, float] = field(default_factory=dict)
    ok: bool = False
    reason: str = ""
    attempts: int = 1
    seconds: float = 0.0

    @classmethod
    def from_outcome(cls, d: Dict[str, Any], attempts: int) -> "EvalResult":
        return cls(d["status"], d["loss"], list(d["gradient"]), dict(d["metrics"]), bool(d["ok"]), d["reason"],
                   attempts, d.get("seconds", 0.0))

    def as_tuple(self) -> Tuple[float, List[float], Dict[str, float], bool, str]:
        """(loss, gradient, metrics, ok, reason): what the optimizer's population hook takes."""
        return (self.loss, self.gradient, self.metrics, self.ok, self.reason)

    def raise_if_fatal(self, what: str) -> None:
        """InputError for bad input, SimulationError when the candidate was lost
        or the worker raised; nothing for ok and failed (an optimizer ranks those)."""
        if self.status == "input_error":
            raise _pliant.InputError(self.reason)
        if self.status in ("lost", "error"):
            raise _pliant.SimulationError(f"{what}: {self.status} after {self.attempts} attempt(s): {self.reason}")


OnResult = Callable[[int, "EvalResult"], Any]


class Executor:
    """Base class.  Subclasses implement :meth:`map`."""

    threads_per_evaluation: int = 1

    def map(self, tasks: Sequence[EvalTask], on_result: Optional[OnResult] = None) -> List[EvalResult]:
        """Evaluates every task; returns the results in the order of `tasks`.
        on_result(index, result) is called as each one arrives (any order),
        e.g. to journal it before the whole batch is done."""
        raise NotImplementedError

    def evaluate(self, scene: Scene, points: Sequence[Sequence[float]], seed: int = 0, gradient: bool = False,
                 on_result: Optional[OnResult] = None) -> List[EvalResult]:
        """All points of one scene (a population), results in the order of `points`."""
        return self.map([EvalTask(scene, tuple(float(x) for x in u), int(seed), bool(gradient)) for u in points],
                        on_result)

    def close(self) -> None:
        pass

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def check_positive_int(owner: str, name: str, value: Optional[int], allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}({name}={value!r}): expected an integer >= 1" + (" or None" if allow_none else ""))
