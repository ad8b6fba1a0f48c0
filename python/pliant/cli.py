"""`python -m pliant`: the commands that run through executors (issue 10).

    python -m pliant optimize SCENE [--out DIR] [--resume] [--threads N] [--no-preview] [--set k=v ...]
                              [--executor local|ray] [--address ADDR] [--workers N] [--retries N]
                              [--timeout S] [--quiet]
    python -m pliant sweep SCENE --grid KEY=V1,V2,... [--grid ...] [--set k=v ...] [--out DIR]
                           [--executor local|ray] [--address ADDR] [--workers N] [--retries N]
                           [--timeout S] [--gradient] [--seed N] [--resume] [--quiet]

The C++ `pliant` hands `optimize --executor ray` and `sweep` to this module
(tools/pliant_main.cpp), so the options and exit codes are the same: 0 done,
1 the run failed (SimulationError, lost candidates), 2 bad input (InputError,
command-line misuse).  With --executor local nothing imports Ray.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from typing import List, Optional

from . import _pliant


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return v


def _executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="where populations are evaluated: this machine's threads (default) or a Ray cluster")
    p.add_argument("--address", default=None,
                   help="Ray cluster address (HOST:6379, auto, ray://HOST:10001); without it a local Ray instance starts")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="evaluations at once: local threads, or the CPUs of a local Ray instance")
    p.add_argument("--retries", type=int, default=2, help="ray: new attempts for a candidate whose worker died or timed out")
    p.add_argument("--timeout", type=float, default=None, help="ray: seconds one evaluation may run")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scene value (repeatable; the value is YAML)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="pliant", description="Pliant optimize and sweep through executors (local, Ray).")
    sub = ap.add_subparsers(dest="command", required=True)
    o = sub.add_parser("optimize", help="optimize the scene's controls, populations through an executor")
    o.add_argument("scene")
    o.add_argument("--out", default=None, help="output directory (default: the scene's output.dir)")
    o.add_argument("--resume", action="store_true", help="continue from the state saved in the output directory")
    o.add_argument("--threads", type=int, default=0, help="CPU threads of the local rollouts (previews); 0 = all")
    o.add_argument("--no-preview", action="store_true", help="no preview images of the initial and best rollout")
    _executor_options(o)
    s = sub.add_parser("sweep", help="the objective at the initial controls for every combination of --grid values")
    s.add_argument("scene")
    s.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a scene key and its values (repeatable: the Cartesian product is swept)")
    s.add_argument("--out", default=None, help="output directory (default: <scene's output.dir>/sweep)")
    s.add_argument("--gradient", action="store_true", help="also compute dL/du per row (written to sweep.jsonl)")
    s.add_argument("--seed", type=int, default=None, help="evaluation seed (default: the scene's optimizer.seed)")
    s.add_argument("--resume", action="store_true", help="keep the finished rows of an interrupted sweep")
    _executor_options(s)
    return ap


def _executor(a: argparse.Namespace):
    from .executors import make_executor
    if a.executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise _pliant.InputError("--executor ray: the Python package 'ray' is not installed for " + sys.executable +
                                     "; install it with pip install 'pliant[ray]' (and on every cluster node)") from None
    if a.retries < 0:
        raise _pliant.InputError(f"--retries {a.retries}: expected an integer >= 0")
    if a.timeout is not None and not a.timeout > 0:
        raise _pliant.InputError(f"--timeout {a.timeout}: expected seconds > 0")
    return make_executor(a.executor, a.address, a.workers, a.retries, a.timeout)


def _fmt(v: float) -> str:
    return f"{v:.4e}" if math.isfinite(v) else str(v)


def _optimize(a: argparse.Namespace) -> int:
    from .optimize import optimize
    from .scene import Scene
    scene = Scene.load(a.scene, a.sets)
    say = (lambda *_: None) if a.quiet else (lambda text: print(text, flush=True))

    def show(r, seconds):
        extra = f"  sigma {r['sigma']:.3g}" if math.isfinite(r["sigma"]) else ""
        if math.isfinite(r["grad_norm"]):
            extra += f"  |grad| {r['grad_norm']:.3g}"
        if r["failed"]:
            extra += f"  failed {r['failed']}/{r['evaluations']}"
        say(f"iter {r['iteration'] + 1:4d}  {r['phase']:<6}  loss {_fmt(r['loss'])}  best {_fmt(r['best_loss'])}"
            f"{extra}  {seconds:.2f} s/it")

    with _executor(a) as ex:
        say(f"optimizing {a.scene} with the {a.executor} executor"
            + (f" at {a.address}" if a.address else "") + f" ({type(ex).__name__})")
        r = optimize(scene, out_dir=a.out, resume=a.resume, threads=a.threads or None, previews=not a.no_preview,
                     callback=show, on_message=say, executor=ex)
    say(f"stopped: {r['stop_reason']}")
    say(f"loss {r['initial_loss']:.6g} -> {r['best_loss']:.6g} in {r['iterations']} iterations, {r['wall_time_s']:.3g} s")
    say(f"outputs in {r['out_dir']} (log.jsonl, loss_curve.png, best_controls.npz, best_scene.yaml)")
    return 0


def _sweep(a: argparse.Namespace) -> int:
    from .scene import Scene
    from .sweep import parse_grid, sweep
    parse_grid(a.grid)  # misuse first, before anything starts
    out = a.out or os.path.join(_pliant.scene_run_settings(Scene.load(a.scene, a.sets)._desc)["output_dir"], "sweep")
    say = (lambda *_: None) if a.quiet else (lambda text: print(text, flush=True))

    def show(row, done, total):
        over = " ".join(f"{k}={v}" for k, v in row["overrides"].items())
        loss = "" if row["loss"] is None else f"  loss {row['loss']:.6g}"
        say(f"[{done}/{total}] {over}  {row['status']}{loss}" + (f"  ({row['reason']})" if row["reason"] else ""))

    with _executor(a) as ex:
        rows = sweep(a.scene, a.grid, out, sets=a.sets, executor=ex, gradient=a.gradient, resume=a.resume,
                     seed=a.seed, on_row=show)
    bad = sum(r["status"] not in ("ok", "failed") for r in rows)
    say(f"{len(rows)} rows in {os.path.join(out, 'sweep.csv')} and sweep.jsonl" + (f"; {bad} not evaluated" if bad else ""))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    try:
        a = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: help (0) or misuse (2)
        return int(exc.code or 0)
    try:
        return _optimize(a) if a.command == "optimize" else _sweep(a)
    except _pliant.InputError as exc:
        print(f"pliant: error: {exc}", file=sys.stderr)
        return 2
    except (_pliant.SimulationError, ImportError) as exc:
        print(f"pliant: error: {exc}", file=sys.stderr)
        return 1
