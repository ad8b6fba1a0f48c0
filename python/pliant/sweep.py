"""Parameter sweeps: the scene's objective at its initial controls for every
combination of scene overrides, as one results table (`pliant sweep`).

    pliant sweep scenes/throw_opt_2d.yaml --grid materials.jelly.E=2e4,4e4,8e4 \\
                 --grid controls.v0.init=[1,1],[2,1] --out out/sweep [--executor ray --address auto]

Each ``--grid KEY=V1,V2,...`` is a scene override (``--set`` syntax: the value
is YAML; commas inside brackets belong to the value).  A grid over a control's
``init`` therefore evaluates the objective at chosen control values; a grid
over a material, a body or a target file sweeps the scene itself (system
identification: one row per guess).  Combinations are the Cartesian product,
the last --grid varying fastest; every row is evaluated at the controls' init
values (u = the scene's initial [0, 1] variables) with the scene's
optimizer.seed, by any executor (local threads or a Ray cluster).

Outputs in the directory (written atomically when the sweep completes):
  sweep.csv     index, one column per grid key, status, loss, the metrics,
                seconds, attempts, reason
  sweep.jsonl   one JSON object per row with the same fields (overrides as a
                mapping, metrics as a mapping; the gradient dL/du with gradient=True)
  sweep.partial.jsonl  rows finished so far, appended as they complete;
                ``resume=True`` keeps the rows of the same sweep and evaluates
                only the rest, then the file is removed.

A row whose overrides make the scene invalid has status input_error and the
loader's message; a candidate the simulation cannot run has status failed.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _pliant
from .executors import EvalResult, EvalTask, Executor, LocalExecutor
from .scene import Scene

Grid = List[Tuple[str, List[str]]]


def _split_values(text: str) -> List[str]:
    """Splits at commas outside brackets/braces/quotes: '[0,1],[2,3]' -> ['[0,1]', '[2,3]']."""
    out, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return out


def parse_grid(specs: Sequence[str]) -> Grid:
    """['key=v1,v2', ...] -> [(key, [v1, v2]), ...]; InputError naming the bad --grid."""
    grid: Grid = []
    for spec in specs:
        key, eq, values = spec.partition("=")
        key = key.strip()
        if not eq or not key:
            raise _pliant.InputError(f"--grid {spec!r}: expected KEY=V1,V2,... (a scene key path and its values)")
        vals = _split_values(values)
        if any(v == "" for v in vals):
            raise _pliant.InputError(f"--grid {spec!r}: an empty value; expected KEY=V1,V2,... with no empty entries")
        if any(k == key for k, _ in grid):
            raise _pliant.InputError(f"--grid {key}: given twice; list all its values in one --grid")
        grid.append((key, vals))
    if not grid:
        raise _pliant.InputError("sweep: no --grid given; expected at least one --grid KEY=V1,V2,...")
    return grid


def combinations(grid: Grid) -> List[Dict[str, str]]:
    keys = [k for k, _ in grid]
    return [dict(zip(keys, vals)) for vals in itertools.product(*[v for _, v in grid])]


def _write_atomic(path: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=os.path.basename(path) + ".tmp.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def _num(v: float) -> Optional[float]:
    return v if math.isfinite(v) else None


def _row(index: int, overrides: Dict[str, str], r: EvalResult, gradient: bool) -> Dict[str, Any]:
    row = {"index": index, "overrides": overrides, "status": r.status, "loss": _num(r.loss),
           "metrics": {k: _num(v) for k, v in sorted(r.metrics.items())}, "seconds": r.seconds,
           "attempts": r.attempts, "reason": r.reason}
    if gradient:
        row["gradient"] = list(r.gradient)
    return row


def _csv_text(grid: Grid, rows: List[Dict[str, Any]]) -> str:
    metric_names = sorted({m for row in rows for m in row["metrics"]})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["index"] + [k for k, _ in grid] + ["status", "loss"] + metric_names + ["seconds", "attempts", "reason"])
    blank = lambda v: "" if v is None else repr(v) if isinstance(v, float) else v  # noqa: E731
    for row in rows:
        w.writerow([row["index"]] + [row["overrides"][k] for k, _ in grid] + [row["status"], blank(row["loss"])] +
                   [blank(row["metrics"].get(m)) for m in metric_names] +
                   [f"{row['seconds']:.3f}", row["attempts"], row["reason"]])
    return buf.getvalue()


def sweep(scene_path: str, grid: Sequence[str], out_dir: str, sets: Sequence[str] = (),
          executor: Optional[Executor] = None, gradient: bool = False, resume: bool = False,
          seed: Optional[int] = None, on_row=None) -> List[Dict[str, Any]]:
    """Runs the sweep (see the module text); returns the rows in index order.
    on_row(row, done, total) is called as rows complete."""
    g = parse_grid(grid)
    combos = combinations(g)
    base = Scene.load(scene_path, list(sets))  # the scene itself must be valid before any row runs
    settings = _pliant.scene_run_settings(base._desc)
    if not settings["has_optimization"]:
        raise _pliant.InputError(f"{scene_path}: the scene has no controls/objective/optimizer sections; a sweep "
                                 "evaluates the objective (docs/scene_format.md, Optimization)")
    seed = settings["seed"] if seed is None else int(seed)
    os.makedirs(out_dir, exist_ok=True)
    partial = os.path.join(out_dir, "sweep.partial.jsonl")
    spec = {"scene": os.path.abspath(scene_path), "sets": list(sets), "grid": g, "seed": seed, "gradient": gradient}
    rows: Dict[int, Dict[str, Any]] = {}
    if resume and os.path.exists(partial):
        with open(partial, "r", encoding="utf-8") as f:
            lines = f.read().splitlines()
        if lines and json.loads(lines[0]).get("spec") == json.loads(json.dumps(spec)):
            for line in lines[1:]:
                try:
                    row = json.loads(line)
                except ValueError:
                    break  # cut by a kill
                if 0 <= row["index"] < len(combos) and row["overrides"] == combos[row["index"]]:
                    rows[row["index"]] = row
    if len(rows) == 0:
        _write_atomic(partial, json.dumps({"spec": spec}) + "\n")
    own = executor is None
    ex = executor or LocalExecutor()
    try:
        todo = [i for i in range(len(combos)) if i not in rows]
        chunk = max(1, getattr(ex, "max_in_flight", getattr(ex, "workers", 1))) * 2
        for start in range(0, len(todo), chunk):
            tasks, idx = [], []
            for i in todo[start:start + chunk]:
                overrides = list(sets) + [f"{k}={v}" for k, v in combos[i].items()]
                try:
                    s = Scene.load(scene_path, overrides)
                    u = tuple(_pliant.Problem(s._desc).initial_unit())
                except _pliant.InputError as exc:
                    rows[i] = _row(i, combos[i], EvalResult("input_error", reason=str(exc)), gradient)
                    _append(partial, rows[i])
                    if on_row is not None:
                        on_row(rows[i], len(rows), len(combos))
                    continue
                tasks.append(EvalTask(s, u, seed, gradient))
                idx.append(i)
            def finished(j: int, r: EvalResult) -> None:  # as each arrives, so a kill keeps it
                i = idx[j]
                rows[i] = _row(i, combos[i], r, gradient)
                _append(partial, rows[i])
                if on_row is not None:
                    on_row(rows[i], len(rows), len(combos))

            ex.map(tasks, finished)
    finally:
        if own:
            ex.close()
    ordered = [rows[i] for i in range(len(combos))]
    _write_atomic(os.path.join(out_dir, "sweep.jsonl"), "".join(json.dumps(r) + "\n" for r in ordered))
    _write_atomic(os.path.join(out_dir, "sweep.csv"), _csv_text(g, ordered))
    os.remove(partial)
    return ordered


def _append(path: str, row: Dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
