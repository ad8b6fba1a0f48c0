"""Executors: the evaluation function of a scene on many candidates at once,
on this machine (:class:`LocalExecutor`, the default, no extra dependency) or
on a Ray cluster (:class:`RayExecutor`, ``pip install pliant[ray]``; Ray is
imported only when one is created)::

    from pliant.executors import RayExecutor
    scene = pliant.Scene.load("scenes/throw_opt_2d.yaml")
    with RayExecutor(address="auto") as ex:
        results = ex.evaluate(scene, points, seed=0)          # in the order of `points`
        pliant.optimize(scene, executor=ex, out_dir="out/throw_ray")

Results are bit-identical whichever executor computed them (each evaluation
runs on ``threads_per_evaluation`` threads, 1 by default).
"""
from .base import EvalResult, EvalTask, Executor
from .local import LocalExecutor


def __getattr__(name):  # RayExecutor without importing Ray (or its module) up front
    if name == "RayExecutor":
        from .ray_executor import RayExecutor
        return RayExecutor
    raise AttributeError(f"module 'pliant.executors' has no attribute {name!r}")


def make_executor(kind: str = "local", address=None, workers=None, max_retries: int = 2, timeout_s=None) -> Executor:
    """The executor a command line names: 'local' (workers threads) or 'ray'
    (address: a running cluster, or None for a local one with `workers` CPUs)."""
    if kind == "local":
        return LocalExecutor(workers=workers)
    if kind == "ray":
        from .ray_executor import RayExecutor
        return RayExecutor(address=address, num_cpus=workers if address is None else None, max_retries=max_retries,
                           timeout_s=timeout_s)
    raise ValueError(f"executor {kind!r}: expected 'local' or 'ray'")


__all__ = ["EvalResult", "EvalTask", "Executor", "LocalExecutor", "RayExecutor", "make_executor"]
