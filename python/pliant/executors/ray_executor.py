"""RayExecutor: candidates on a Ray cluster (``pip install pliant[ray]``).

Ray is imported when the executor is created, never by ``import pliant``.
With an `address` it connects to a running cluster (``ray start --head`` on
the head node, ``ray start --address HEAD:6379`` on the others); without one
it starts a local Ray instance with `num_cpus` CPUs.  Every worker needs the
same Pliant build (``pip install pliant``); scenes and the files they read
travel with the tasks (bundle.py), so workers need no shared file system.

Scheduling: at most `max_in_flight` tasks are submitted at once (default: the
cluster's CPUs / threads_per_evaluation), so a task starts about when it is
submitted and `timeout_s` measures its run, not its wait in a queue.

Faults: a task whose worker dies (process killed, node lost) or that runs past
`timeout_s` (it is cancelled, which kills its worker process) is submitted
again, up to `max_retries` times; Ray places the new attempt on a live worker
(never the dead or cancelled process; on a multi-node cluster the scheduler
decides the node).  A candidate that still has no result is `lost`.  Bad input
(``pliant.InputError`` on the worker) comes back as `input_error` and is not
retried.  Results are returned in submission order.
"""
from __future__ import annotations

import collections
import time
from typing import Any, Dict, List, Optional, Sequence

from .base import EvalResult, EvalTask, Executor, OnResult, check_positive_int
from .bundle import SceneBundle
from .worker import evaluate_bundle


def _import_ray() -> Any:
    try:
        import ray  # noqa: F401  (optional dependency)
    except ImportError as exc:
        raise ImportError("RayExecutor needs Ray: pip install 'pliant[ray]' (or pip install ray) on the driver and "
                          f"on every worker ({exc})") from None
    return ray


class RayExecutor(Executor):
    def __init__(self, address: Optional[str] = None, num_cpus: Optional[int] = None, max_retries: int = 2,
                 timeout_s: Optional[float] = None, threads_per_evaluation: int = 1,
                 max_in_flight: Optional[int] = None, init_kwargs: Optional[Dict[str, Any]] = None):
        """address: a running cluster ('HOST:6379', 'auto', 'ray://HOST:10001'); None starts a local one.
        num_cpus: CPUs of a local instance (ignored with an address).
        max_retries: new attempts for a candidate whose worker died or timed out.
        timeout_s: seconds an attempt may run (None: no limit)."""
        check_positive_int("RayExecutor", "num_cpus", num_cpus)
        check_positive_int("RayExecutor", "threads_per_evaluation", threads_per_evaluation, allow_none=False)
        check_positive_int("RayExecutor", "max_in_flight", max_in_flight)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"RayExecutor(max_retries={max_retries!r}): expected an integer >= 0")
        if timeout_s is not None and not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
            raise ValueError(f"RayExecutor(timeout_s={timeout_s!r}): expected seconds > 0 or None")
        self.ray = _import_ray()
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.threads_per_evaluation = threads_per_evaluation
        self._owns_ray = False
        if not self.ray.is_initialized():
            kwargs = dict(init_kwargs or {})
            kwargs.setdefault("include_dashboard", False)
            kwargs.setdefault("logging_level", "warning")
            if address is None:
                kwargs.setdefault("num_cpus", num_cpus)
            self.ray.init(address=address, **kwargs)
            self._owns_ray = True
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        self.max_in_flight = max_in_flight or max(1, cpus // threads_per_evaluation)
        self._remote = self.ray.remote(num_cpus=threads_per_evaluation, max_retries=0)(evaluate_bundle)
        self._bundles: Dict[str, Any] = {}  # digest -> ObjectRef of the bundle (put once)

    def _bundle_ref(self, scene: Any, by_scene: Dict[int, Any]) -> Any:
        ref = by_scene.get(id(scene))
        if ref is None:
            b = SceneBundle.from_scene(scene)
            ref = self._bundles.get(b.digest)
            if ref is None:
                ref = self._bundles[b.digest] = self.ray.put(b)
            by_scene[id(scene)] = ref
        return ref

    def map(self, tasks: Sequence[EvalTask], on_result: Optional[OnResult] = None) -> List[EvalResult]:
        ray = self.ray
        by_scene: Dict[int, Any] = {}
        refs = [self._bundle_ref(t.scene, by_scene) for t in tasks]
        results: List[Optional[EvalResult]] = [None] * len(tasks)
        attempts = [0] * len(tasks)
        waiting = collections.deque(range(len(tasks)))
        running: Dict[Any, Any] = {}  # ObjectRef -> (index, submit time)

        def fault(k: int, why: str) -> None:
            if attempts[k] <= self.max_retries:
                waiting.appendleft(k)  # again, before the candidates not yet started
            else:
                results[k] = EvalResult("lost", reason=why, attempts=attempts[k])
                if on_result is not None:
                    on_result(k, results[k])

        while waiting or running:
            while waiting and len(running) < self.max_in_flight:
                k = waiting.popleft()
                attempts[k] += 1
                t = tasks[k]
                ref = self._remote.remote(refs[k], list(t.u), t.seed, t.gradient, self.threads_per_evaluation)
                running[ref] = (k, time.monotonic())
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in ready:
                k, _ = running.pop(ref)
                try:
                    results[k] = EvalResult.from_outcome(ray.get(ref), attempts[k])
                except ray.exceptions.RayTaskError as exc:  # a Python exception in the worker: a bug, not a fault
                    results[k] = EvalResult("error", reason=str(exc), attempts=attempts[k])
                except ray.exceptions.RayError as exc:  # worker died, node lost, task cancelled
                    fault(k, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                    continue
                if on_result is not None:
                    on_result(k, results[k])
            if self.timeout_s is not None:
                now = time.monotonic()
                for ref, (k, t0) in list(running.items()):
                    if now - t0 > self.timeout_s:
                        ray.cancel(ref, force=True)  # kills the worker process
                        del running[ref]
                        fault(k, f"timed out after {self.timeout_s:g} s")
        return [r for r in results if r is not None]

    def close(self) -> None:
        if self._owns_ray and self.ray.is_initialized():
            self.ray.shutdown()
        self._owns_ray = False
        self._bundles.clear()
