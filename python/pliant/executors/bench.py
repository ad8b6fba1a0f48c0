"""Speed-up of a population evaluation with 1 vs 2 (or more) Ray workers on
this machine (issue 10's measurement), with LocalExecutor as the reference:

    PYTHONPATH=python:<build>/bindings python3 -m pliant.executors.bench \\
        --scene scenes/identify_opt_2d.yaml --candidates 8 --reps 5 --workers 1 2

For each worker count a local Ray instance with that many CPUs is started, one
population is evaluated to start the workers and cache the scene on them
(not timed), then `reps` populations are timed; the median, the minimum and
the 1-minute load average before/after are printed (the machine is shared, so
the load matters).  The losses of every run are checked to be bit-identical.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import pliant
from pliant import _pliant

from .local import LocalExecutor


def _time(ex, scene, points, seed, reps):
    ex.evaluate(scene, points, seed)  # warm: workers started, scene cached
    times, losses = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        res = ex.evaluate(scene, points, seed)
        times.append(time.perf_counter() - t0)
        assert all(r.status == "ok" for r in res), [r.reason for r in res]
        losses = [r.loss for r in res]
    return times, losses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scene", default="scenes/identify_opt_2d.yaml")
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-local", action="store_true", help="skip the LocalExecutor reference")
    a = ap.parse_args()
    scene = pliant.Scene.load(a.scene)
    u0 = _pliant.Problem(scene._desc).initial_unit()
    # candidates spread around the initial controls, as a CMA-ES generation would be
    points = [[min(1.0, max(0.0, x + 0.02 * (k - a.candidates / 2))) for x in u0] for k in range(a.candidates)]
    print(f"scene {a.scene}: {a.candidates} candidates, {len(u0)} controls, 1 thread per evaluation, {a.reps} reps")
    reference = None
    rows = []
    kinds = ([] if a.no_local else [("local", w) for w in a.workers]) + [("ray", w) for w in a.workers]
    for kind, w in kinds:
        load0 = os.getloadavg()[0]
        if kind == "local":
            ex = LocalExecutor(workers=w)
        else:
            from .ray_executor import RayExecutor
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            ex = RayExecutor(num_cpus=w, init_kwargs={"_node_ip_address": "127.0.0.1", "log_to_driver": False})
        with ex:
            times, losses = _time(ex, scene, points, 0, a.reps)
        load1 = os.getloadavg()[0]
        reference = reference or losses
        assert losses == reference, "losses differ between executors"
        rows.append((kind, w, statistics.median(times), min(times), load0, load1))
        print(f"{kind:5s} workers {w}: median {statistics.median(times):.3f} s  min {min(times):.3f} s  "
              f"all {' '.join(f'{t:.3f}' for t in times)}  load {load0:.1f} -> {load1:.1f}", flush=True)
    for kind in ("local", "ray"):
        m = {w: med for k, w, med, *_ in rows if k == kind}
        if 1 in m:
            for w in sorted(m):
                if w != 1:
                    print(f"{kind}: speed-up {w} vs 1 workers (median): {m[1] / m[w]:.2f}x")
    print("losses bit-identical across all runs: yes")


if __name__ == "__main__":
    main()
