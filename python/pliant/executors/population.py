"""An executor as the optimizer's population evaluator: the callable that
``_pliant.optimize_scene(population=...)`` hands each CMA-ES generation (and
each Adam/refine point) to, with the in-generation journal for resume."""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..scene import Scene
from .base import EvalResult, Executor
from .journal import EvaluationJournal


class PopulationHook:
    def __init__(self, executor: Executor, scene: Scene, journal: Optional[EvaluationJournal] = None):
        self.executor = executor
        self.scene = scene
        self.journal = journal
        self.reused = 0      # evaluations taken from the journal instead of run
        self.submitted = 0   # evaluations sent to the executor

    def __call__(self, points: Sequence[Sequence[float]], seed: int, gradient: bool) -> List[Tuple]:
        results: List[Optional[EvalResult]] = [None] * len(points)
        todo = []
        for k, u in enumerate(points):
            hit = self.journal.lookup(u, seed, gradient) if self.journal is not None else None
            if hit is not None:
                results[k] = hit
                self.reused += 1
            else:
                todo.append(k)
        if todo:
            def journal(j: int, r: EvalResult) -> None:  # as each arrives: a kill loses only the running ones
                if self.journal is not None:
                    self.journal.record(points[todo[j]], seed, gradient, r)

            fresh = self.executor.evaluate(self.scene, [points[k] for k in todo], seed, gradient, journal)
            self.submitted += len(todo)
            for k, r in zip(todo, fresh):
                r.raise_if_fatal(f"{self.scene.path}: candidate {k} of {len(points)}")
                results[k] = r
        return [r.as_tuple() for r in results]

    def generation_done(self) -> None:
        """Called after state.json covers the generation: its journal entries are no longer needed."""
        if self.journal is not None:
            self.journal.clear()


def wrap_callback(hook: PopulationHook, callback: Optional[Callable]) -> Callable:
    def on_iteration(record: Any, seconds: float) -> Any:
        hook.generation_done()
        if callback is not None:
            return callback(record, seconds)
        return None
    return on_iteration
