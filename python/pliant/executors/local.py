"""LocalExecutor: candidates on this machine's threads, no extra dependency.

The evaluation function releases the GIL, so a pool of Python threads runs
`workers` rollouts at once, each on `threads_per_evaluation` OpenMP threads.
A thread cannot be killed, so there are no timeouts or retries here (a
candidate that fails is a result, not a fault); use RayExecutor for those.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence

from .. import _pliant
from .base import EvalResult, EvalTask, Executor, OnResult, check_positive_int
from .worker import evaluate_in_process, outcome


class LocalExecutor(Executor):
    def __init__(self, workers: Optional[int] = None, threads_per_evaluation: int = 1):
        """workers: evaluations at once (default: CPU cores / threads_per_evaluation)."""
        check_positive_int("LocalExecutor", "workers", workers)
        check_positive_int("LocalExecutor", "threads_per_evaluation", threads_per_evaluation, allow_none=False)
        self.threads_per_evaluation = threads_per_evaluation
        self.workers = workers or max(1, (os.cpu_count() or 1) // threads_per_evaluation)
        self._pool: Optional[ThreadPoolExecutor] = None
        self._callback_lock = threading.Lock()
        self._problems: Dict[int, Any] = {}  # id(scene) -> (scene, Problem or InputError text)

    def _problem(self, scene: Any) -> Any:
        entry = self._problems.get(id(scene))
        if entry is None or entry[0] is not scene:
            try:
                entry = (scene, _pliant.Problem(scene._desc))
            except _pliant.InputError as exc:
                entry = (scene, str(exc))
            self._problems[id(scene)] = entry
        return entry[1]

    def map(self, tasks: Sequence[EvalTask], on_result: Optional[OnResult] = None) -> List[EvalResult]:
        problems = [self._problem(t.scene) for t in tasks]

        def run(k: int) -> EvalResult:
            p, t = problems[k], tasks[k]
            if isinstance(p, str):
                r = EvalResult.from_outcome(outcome("input_error", reason=p), 1)
            else:
                r = EvalResult.from_outcome(evaluate_in_process(p, t.u, t.seed, t.gradient, self.threads_per_evaluation), 1)
            if on_result is not None:
                with self._callback_lock:  # one callback at a time, like the Ray executor's
                    on_result(k, r)
            return r

        if self.workers == 1 or len(tasks) <= 1:
            results = [run(k) for k in range(len(tasks))]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="pliant-eval")
            results = list(self._pool.map(run, range(len(tasks))))
        while len(self._problems) > 8:  # keep the last scenes' targets, not every sweep point's
            del self._problems[next(iter(self._problems))]
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
