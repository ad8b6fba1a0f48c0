#!/usr/bin/env python3
"""`pliant optimize --resume` after kill -9 gives the run that was never killed.

Runs the bundled throw task (CMA-ES, so the random generator's state matters,
and Adam) uninterrupted into one directory; then into another, kills the
process with SIGKILL at several moments (after some iterations are logged,
and right after the first iteration starts), each time restarting it with
--resume, until it finishes.  Checks:
  - after every kill, state.json parses and log.jsonl has at least as many
    lines as the state covers (a kill between the log line and the state
    write leaves one line too many; --resume cuts it);
  - the finished log has iterations 0..N-1 exactly once each (none lost, none
    repeated), with the same losses, best losses and controls as the
    uninterrupted run, and summary.json has the same best loss and controls.
Usage: check_interrupted_optimize.py PLIANT SOURCE_DIR WORK_DIR   (ctest: cli.optimize_interrupted)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

PLIANT, SOURCE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
SCENE = os.path.join(SOURCE, "scenes", "throw_opt_2d.yaml")


def run_args(method, out, iterations, resume):
    args = [PLIANT, "optimize", SCENE, "--out", out, "--threads", "2", "--no-preview", "--quiet",
            "--set", "optimizer.iterations=%d" % iterations, "--set", "optimizer.method=" + method,
            "--set", "optimizer.population=4", "--set", "optimizer.target_loss=-1"]
    return args + (["--resume"] if resume else [])


def log_lines(out):
    path = os.path.join(out, "log.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.endswith("\n")]


def comparable(lines):
    return [(l["iteration"], l["phase"], l["loss"], l["best_loss"], l.get("controls")) for l in lines]


def check(method, iterations, kill_after_lines):
    ref = os.path.join(WORK, method + "_reference")
    out = os.path.join(WORK, method + "_killed")
    for d in (ref, out):
        shutil.rmtree(d, ignore_errors=True)
    subprocess.run(run_args(method, ref, iterations, False), check=True, timeout=300)
    expected = comparable(log_lines(ref))
    assert len(expected) == iterations, "reference run logged %d of %d iterations" % (len(expected), iterations)

    kills = 0
    resume = False
    for target in kill_after_lines:
        p = subprocess.Popen(run_args(method, out, iterations, resume))
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None and len(log_lines(out)) < target:
            time.sleep(0.002)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            kills += 1
        p.wait()
        resume = True
        state_path = os.path.join(out, "state.json")
        if os.path.exists(state_path):
            with open(state_path) as f:
                state = json.load(f)  # complete JSON: written atomically
            assert os.path.getsize(os.path.join(out, "log.jsonl")) >= state["log_bytes"], "log shorter than the state"
    subprocess.run(run_args(method, out, iterations, True), check=True, timeout=300)
    got = comparable(log_lines(out))
    assert [g[0] for g in got] == list(range(iterations)), "iterations lost or repeated: %s" % [g[0] for g in got]
    assert got == expected, "%s: resumed log differs from the uninterrupted one:\n%s\n%s" % (method, got, expected)
    with open(os.path.join(ref, "summary.json")) as f:
        a = json.load(f)
    with open(os.path.join(out, "summary.json")) as f:
        b = json.load(f)
    assert a["best_loss"] == b["best_loss"] and a["best_controls"] == b["best_controls"], (a, b)
    print("%s: %d kills, %d iterations, identical to the uninterrupted run (best loss %g)" %
          (method, kills, iterations, b["best_loss"]))
    assert kills >= 1, "the run finished before any kill: nothing was tested"


os.makedirs(WORK, exist_ok=True)
check("cmaes", 10, [1, 4, 7])
check("adam", 24, [3, 10, 17])
print("ok")
