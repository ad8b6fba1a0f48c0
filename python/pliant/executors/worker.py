"""What runs on a worker for one candidate: rebuild the scene from its bundle
(once per process: the parsed scene and its target files are cached by the
bundle's digest) and call the evaluation function.

Outcomes are data, not exceptions, so that the driver can tell what to retry:
  ok           the rollout ran (loss, gradient, metrics)
  failed       the simulation could not run this candidate (ok = False, loss
               inf, the engine's reason): ranked last by CMA-ES, not retried
  input_error  the scene, an override or a target file is bad: reported, not
               retried (it would fail the same way everywhere)
A worker that dies or hangs produces no outcome; the executor retries it.

Test hooks (used by tests/python/test_executors_ray.py to prove the retry
path; they do nothing unless PLIANT_EXECUTOR_TEST_HOOKS names a directory in
the worker's environment, and then only when a test arms them with a file):
  <dir>/crash  armed: the first evaluation that creates <dir>/crash.done kills
               its worker process (os._exit) before returning
  <dir>/hang   armed: the first evaluation that creates <dir>/hang.done sleeps
               for an hour (the executor's timeout must cancel and retry it)
"""
from __future__ import annotations

import collections
import os
import tempfile
import time
from typing import Any, Dict, Sequence

from .. import _pliant
from .bundle import SceneBundle

_PROBLEMS: "collections.OrderedDict[str, Any]" = collections.OrderedDict()
_CACHED_BUNDLES = 8


def _problem(bundle: SceneBundle) -> Any:
    p = _PROBLEMS.get(bundle.digest)
    if p is None:
        root = os.path.join(tempfile.gettempdir(), f"pliant-bundles-{os.getuid()}")
        p = _pliant.Problem(bundle.materialize(root)._desc)
        _PROBLEMS[bundle.digest] = p
        while len(_PROBLEMS) > _CACHED_BUNDLES:
            _PROBLEMS.popitem(last=False)
    _PROBLEMS.move_to_end(bundle.digest)
    return p


def _claim(hook: str) -> bool:
    """True for exactly one caller per armed hook (O_EXCL create of <hook>.done)."""
    d = os.environ.get("PLIANT_EXECUTOR_TEST_HOOKS")
    if not d or not os.path.exists(os.path.join(d, hook)):
        return False
    try:
        os.close(os.open(os.path.join(d, hook + ".done"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def _test_hooks() -> None:
    if _claim("crash"):
        os._exit(17)
    if _claim("hang"):
        time.sleep(3600)


def outcome(status: str, loss: float = float("inf"), gradient: Sequence[float] = (), metrics: Dict[str, float] = None,
            ok: bool = False, reason: str = "", seconds: float = 0.0) -> Dict[str, Any]:
    return {"status": status, "loss": loss, "gradient": list(gradient), "metrics": dict(metrics or {}), "ok": ok,
            "reason": reason, "seconds": seconds}


def evaluate_in_process(problem: Any, u: Sequence[float], seed: int, gradient: bool, threads: int) -> Dict[str, Any]:
    """One evaluation on an already built Problem, as an outcome dict."""
    t0 = time.perf_counter()
    try:
        loss, grad, metrics, ok, reason = problem.evaluate(list(u), seed, gradient, threads)
    except _pliant.InputError as exc:
        return outcome("input_error", reason=str(exc), seconds=time.perf_counter() - t0)
    except _pliant.SimulationError as exc:
        return outcome("failed", reason=str(exc), seconds=time.perf_counter() - t0)
    return outcome("ok" if ok else "failed", loss, grad, metrics, ok, reason, time.perf_counter() - t0)


def evaluate_bundle(bundle: SceneBundle, u: Sequence[float], seed: int, gradient: bool, threads: int) -> Dict[str, Any]:
    """The remote function: rebuild (or reuse) the scene, evaluate one candidate."""
    try:
        problem = _problem(bundle)
    except _pliant.InputError as exc:
        return outcome("input_error", reason=str(exc))
    _test_hooks()
    return evaluate_in_process(problem, u, seed, gradient, threads)
