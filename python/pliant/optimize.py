"""The scene optimizer (`pliant optimize`) from Python, with a callback per iteration.

A scene with `controls`, `objective` and `optimizer` sections
(docs/scene_format.md, e.g. scenes/throw_opt_2d.yaml) is optimized exactly as
the command line does it (Adam, CMA-ES or the hybrid; logs, loss curve, best
controls, resume)::

    def show(record, seconds):
        print(record["iteration"], record["loss"], record["best_loss"])

    scene = pliant.Scene.load("scenes/throw_opt_2d.yaml", overrides={"optimizer.iterations": 10})
    result = pliant.optimize(scene, out_dir="out/throw", callback=show, threads=2)
    result["best_loss"], result["best_controls"]

An exception raised by the callback stops the run and propagates; the
directory's state.json lets ``resume=True`` continue where it stopped.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional

from . import _pliant
from .scene import Scene


def optimize(scene: Scene, out_dir: Optional[str] = None, resume: bool = False, threads: Optional[int] = None,
             previews: bool = True, callback: Optional[Callable[[Dict[str, Any], float], Any]] = None,
             on_message: Optional[Callable[[str], Any]] = None, executor: Any = None) -> Dict[str, Any]:
    """Runs the scene's optimizer; returns {out_dir, iterations, resumed_from,
    initial_loss, best_loss, best_controls, best_metrics, stop_reason, wall_time_s}.

    out_dir: output directory (default: the scene's output.dir).
    resume: continue from out_dir/state.json (same scene and overrides).
    threads: CPU threads in all (default: all cores).
    previews: write preview images of the initial and best rollouts.
    callback(record, seconds): after each iteration; record has iteration, phase,
        loss, best_loss, grad_norm, sigma, evaluations, failed, u (the controls in
        [0, 1]) and metrics.
    on_message(text): progress messages (what `pliant optimize` prints).
    executor: a pliant.executors.Executor (LocalExecutor, RayExecutor) that
        evaluates every population (CMA-ES generations, hybrid phases, Adam
        steps) instead of the internal thread pool; the same seed gives the
        same result with any executor.  A run killed mid-generation resumes
        without re-running that generation's finished evaluations
        (out_dir/evaluations.jsonl).  `threads` then only sets the initial and
        best-rollout previews run here.
    """
    if not isinstance(scene, Scene):
        raise TypeError(f"optimize: expected a pliant.Scene, got {type(scene).__name__}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"optimize(threads={threads!r}): expected an integer >= 1, or None")
    if callback is not None and not callable(callback):
        raise TypeError("optimize: callback must be callable(record, seconds)")
    population = None
    # --- issue 10: populations through an executor (python/pliant/executors/)
    if executor is not None:
        from .executors import Executor
        from .executors.journal import EvaluationJournal
        from .executors.population import PopulationHook, wrap_callback
        if not isinstance(executor, Executor):
            raise TypeError(f"optimize: executor must be a pliant.executors.Executor, got {type(executor).__name__}")
        directory = os.fspath(out_dir) if out_dir is not None else _pliant.scene_run_settings(scene._desc)["output_dir"]
        os.makedirs(directory, exist_ok=True)
        population = PopulationHook(executor, scene, EvaluationJournal(directory, keep=bool(resume)))
        callback = wrap_callback(population, callback)
    # --- end issue 10
    return dict(_pliant.optimize_scene(scene._desc, "" if out_dir is None else os.fspath(out_dir), bool(resume),
                                       0 if threads is None else threads, list(scene._overrides), bool(previews),
                                       callback, on_message, population))
