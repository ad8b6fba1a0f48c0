"""Shared command line, timing and output of the peer workload scripts
(peer_taichi.py, peer_warp.py).  The protocol is the one of
tools/pliant_bench_main.cpp (docs/benchmarks.md): build (untimed), --warmup
frames (untimed; this is where the JIT compiles), then --reps repetitions of
--frames frames, each timed with a monotonic clock, continuing one simulation.
Throughput is particles * substeps / seconds of one repetition.

Workload parameters live in workloads.py so every engine reads the same numbers.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads as W  # noqa: E402


def parse_args(engine):
    p = argparse.ArgumentParser(description=f"{engine} side of the Pliant peer benchmark")
    p.add_argument("--workload", required=True, choices=["S1", "S2", "S3", "S4"])
    p.add_argument("--size", required=True, help="S1: n32|n64, S2: q1|q2, S3: 2d|3d, S4: v32|v64|v128")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--particles", help="directory holding <W>_<size>_x.npy (+ _material.npy) from run_peers.py")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--frames", type=int, default=0, help="frames per repetition (0: the workload's default)")
    p.add_argument("--steps", type=int, default=0, help="S3: substeps of the rollout (0: the workload's)")
    p.add_argument("--grad-out", help="S3: write loss and dL/dtheta here (.npz)")
    p.add_argument("--check-only", action="store_true", help="S3: one forward+backward for the check, no timing")
    p.add_argument("--json", required=True)
    a = p.parse_args()
    if a.reps < 1 or a.warmup < 0 or a.threads < 1:
        p.error("--reps >= 1, --warmup >= 0, --threads >= 1")
    return a


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def load_particles(args, spec):
    """Positions (float32, N x dim) and groups (int32, N) written by pliant_bench --save-particles."""
    stem = os.path.join(args.particles, f"{spec['workload']}_{spec['size']}")
    x = np.load(stem + "_x.npy")
    g = np.load(stem + "_material.npy")
    if x.dtype != np.float32 or x.ndim != 2 or x.shape[1] != spec["dim"]:
        raise SystemExit(f"{stem}_x.npy: expected float32 (N, {spec['dim']}), got {x.dtype} {x.shape}")
    if g.shape != (x.shape[0],):
        raise SystemExit(f"{stem}_material.npy: expected ({x.shape[0]},), got {g.shape}")
    return x, g.astype(np.int32)


def time_frames(step_frames, sync, n_items, substeps_per_frame, frames, reps, warmup):
    """Warm-up (untimed, includes JIT), then reps timed repetitions of `frames` frames."""
    t0 = time.perf_counter()
    step_frames(warmup)
    sync()
    warm = time.perf_counter() - t0
    secs, cpu = [], []
    for _ in range(reps):
        c = time.process_time()  # CPU time of all the process's threads: robust to a loaded machine
        a = time.perf_counter()
        step_frames(frames)
        sync()
        secs.append(time.perf_counter() - a)
        cpu.append(time.process_time() - c)
    tput = [n_items * frames * substeps_per_frame / s for s in secs]
    cpu_tput = [n_items * frames * substeps_per_frame / s for s in cpu]
    return {
        "warmup_seconds": warm,
        "rep_seconds": secs,
        "frames_per_rep": frames,
        "steps_per_s": {"min": min(tput), "median": statistics.median(tput), "max": max(tput)},
        "rep_cpu_seconds": cpu,
        "steps_per_cpu_s": {"min": min(cpu_tput), "median": statistics.median(cpu_tput), "max": max(cpu_tput)},
    }


def write_json(path, doc):
    doc["peak_rss_bytes"] = peak_rss_bytes()
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
    os.replace(tmp, path)
