"""The evaluations of the generation in progress, on disk, so that a driver
killed mid-generation does not run the finished ones again on resume.

optimize_scene checkpoints state.json after every completed generation
(engine/optim/optimize_run.hpp); this journal covers the gap inside one: each
result is appended (one JSON line, floats as float.hex so they come back
bit-identical, infinities included) as soon as the executor returns it, and
the file is emptied when a generation completes.  A resumed run looks every
candidate up by (seed, gradient, the exact bits of u) before submitting it.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Sequence, Tuple

from .base import EvalResult

Key = Tuple[int, bool, Tuple[str, ...]]


def _key(u: Sequence[float], seed: int, gradient: bool) -> Key:
    return (int(seed), bool(gradient), tuple(float(x).hex() for x in u))


class EvaluationJournal:
    FILE = "evaluations.jsonl"

    def __init__(self, out_dir: str, keep: bool):
        """keep: read what a previous (interrupted) driver left; else start empty."""
        self.path = os.path.join(out_dir, self.FILE)
        self._done: Dict[Key, EvalResult] = {}
        if keep and os.path.exists(self.path):
            with open(self.path, "r", encoding="utf-8") as f:
                for line in f:
                    try:
                        d = json.loads(line)
                    except ValueError:
                        break  # a line cut by the kill: everything before it is complete
                    r = EvalResult("ok" if d["ok"] else "failed", float.fromhex(d["loss"]),
                                   [float.fromhex(g) for g in d["gradient"]],
                                   {k: float.fromhex(v) for k, v in d["metrics"].items()}, d["ok"], d["reason"])
                    self._done[(d["seed"], d["gradient_asked"], tuple(d["u"]))] = r
        else:
            self.clear()

    def lookup(self, u: Sequence[float], seed: int, gradient: bool) -> Optional[EvalResult]:
        return self._done.get(_key(u, seed, gradient))

    def __len__(self) -> int:
        return len(self._done)

    def record(self, u: Sequence[float], seed: int, gradient: bool, r: EvalResult) -> None:
        """Only outcomes that a new attempt would reproduce (ok, failed) are kept."""
        if r.status not in ("ok", "failed"):
            return
        key = _key(u, seed, gradient)
        self._done[key] = r
        line = {"seed": key[0], "gradient_asked": key[1], "u": list(key[2]), "loss": float(r.loss).hex(),
                "gradient": [float(g).hex() for g in r.gradient],
                "metrics": {k: float(v).hex() for k, v in r.metrics.items()}, "ok": r.ok, "reason": r.reason}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def clear(self) -> None:
        self._done.clear()
        with open(self.path, "w", encoding="utf-8"):
            pass
