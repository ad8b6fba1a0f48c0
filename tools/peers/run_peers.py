#!/usr/bin/env python3
"""Pliant peer benchmark harness (issue 9): runs the S1-S4 workloads of
/work/shared/BENCHMARKS.md in Pliant, Taichi and Warp on the CPU in one
invocation, from the same initial particles, and writes docs/peer_results.md.

  python3 tools/peers/run_peers.py                  # everything (~30-60 min on 2 cores)
  python3 tools/peers/run_peers.py --quick          # a few minutes: fewer reps, short S3
  python3 tools/peers/run_peers.py --workloads S1,S3 --threads 2

Steps: (1) a separate virtual environment (default <repo>/.peers-venv, ignored by
git) with taichi==1.7.4, warp-lang and numpy, re-executing this script inside
it; (2) build pliant_bench and pliant_stream (CMake, Release, <repo>/build-peers
unless --build); (3) initial particles generated once by pliant_bench
--save-particles (.npy) and loaded by every engine; (4) STREAM triad
(pliant_stream); (5) correctness gate: S3 2D loss and dL/dtheta of Pliant vs
Taichi to 1e-4 relative, else no timing is reported; (6) timings, one process
per (engine, workload, size, threads) so that its peak RSS is its own;
(7) docs/peer_results.md (+ the raw JSON next to the run's outputs).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEER_PACKAGES = ["taichi==1.7.4", "warp-lang", "numpy"]
CHECK_RTOL = 1e-4


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--venv", default=os.path.join(REPO, ".peers-venv"), help="virtual environment for the peers")
    p.add_argument("--build", default=os.path.join(REPO, "build-peers"), help="CMake build directory")
    p.add_argument("--out", default=os.path.join(REPO, ".peers-out"), help="particles, raw JSON, logs")
    p.add_argument("--results", default=os.path.join(REPO, "docs", "peer_results.md"))
    p.add_argument("--workloads", default="S1,S2,S3,S4")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--s3-reps", type=int, default=5)
    p.add_argument("--s3-3d-reps", type=int, default=3, help="repetitions of the 3D rollout (each takes minutes here)")
    p.add_argument("--s3-3d-steps", type=int, default=0, help="shorter 3D rollout (0: the protocol's 512)")
    p.add_argument("--s3-3d-threads", default="2",
                   help="thread counts for S3 3D (default 2 only: ~4 min per engine and thread count here)")
    p.add_argument("--quick", action="store_true", help="3 reps, S3 rollouts of 128 steps, S4 6 frames (smoke run)")
    p.add_argument("--skip-install", action="store_true", help="use the venv as it is")
    p.add_argument("--skip-build", action="store_true", help="use the binaries in --build as they are")
    p.add_argument("--s4-pliant-sizes", default="v32,v64",
                   help="S4 sizes run in Pliant (its implicit FEM cloth took ~5 min per frame at 128^2 here)")
    p.add_argument("--s4-pliant-frames", type=int, default=2, help="frames per repetition of Pliant's S4")
    p.add_argument("--no-gate", action="store_true", help="report timings even when the S3 check fails")
    p.add_argument("--omp-wait-policy", default="",
                   help="OMP_WAIT_POLICY for Pliant's runs (default: unset, OpenMP's own default, what a user "
                        "gets; PASSIVE costs Pliant ~100 us per parallel region on this VM, see tools/peers/README.md)")
    p.add_argument("--resume", action="store_true",
                   help="reuse the results already in --out (a run's JSON + .meta.json) instead of rerunning them")
    a = p.parse_args()
    if a.quick:
        a.reps, a.s3_reps, a.s3_3d_reps = 3, 3, 3
    return a


# ------------------------------------------------------------------ environment

def ensure_venv(args):
    """Create the venv and install the peers, then re-run this script inside it."""
    py = os.path.join(args.venv, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(args.venv):
        return
    if not os.path.exists(py):
        print(f"== creating {args.venv}", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", args.venv])
    if not args.skip_install:
        print(f"== pip install {' '.join(PEER_PACKAGES)}", flush=True)
        subprocess.check_call([py, "-m", "pip", "install", "-q", "--disable-pip-version-check"] + PEER_PACKAGES)
    env = dict(os.environ, PLIANT_PEERS_REEXEC="1")
    os.execve(py, [py, os.path.abspath(__file__)] + sys.argv[1:], env)


def build(args):
    tools = os.path.join(args.build, "tools")
    if not args.skip_build:
        print(f"== building pliant_bench, pliant_stream in {args.build}", flush=True)
        cfg = ["cmake", "-S", REPO, "-B", args.build, "-DCMAKE_BUILD_TYPE=Release", "-DPLIANT_CUDA=OFF"]
        if shutil.which("ninja"):
            cfg += ["-G", "Ninja"] if not os.path.exists(os.path.join(args.build, "CMakeCache.txt")) else []
        if shutil.which("ccache"):
            cfg += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        subprocess.check_call(cfg, stdout=subprocess.DEVNULL)
        targets = ["pliant_bench", "pliant_stream"]
        if os.path.exists(os.path.join(REPO, "tools", "pliant_bench_cloth_main.cpp")):
            targets.append("pliant_bench_cloth")
        subprocess.check_call(["cmake", "--build", args.build, "-j2", "--target"] + targets)
    return {t: os.path.join(tools, t) for t in ["pliant_bench", "pliant_stream", "pliant_bench_cloth"]}


# ------------------------------------------------------------------ running

def cpu_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return busy, busy + v[3] + v[4]


OMP_WAIT_POLICY = ""  # set from --omp-wait-policy in main()


def run(cmd, log, threads):
    """Runs one benchmark process; returns (seconds, share of the machine's CPU used by others).
    Every engine runs with its runtime's defaults: OMP_WAIT_POLICY is removed from the environment
    unless --omp-wait-policy names one (Taichi and Warp do not read it)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    env.pop("OMP_WAIT_POLICY", None)
    if OMP_WAIT_POLICY:
        env["OMP_WAIT_POLICY"] = OMP_WAIT_POLICY
    b0, t0 = cpu_ticks()
    c0 = os.times()
    start = time.time()
    with open(log, "w") as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=HERE)
    b1, t1 = cpu_ticks()
    c1 = os.times()
    hz = os.sysconf("SC_CLK_TCK")
    child = (c1.children_user + c1.children_system - c0.children_user - c0.children_system) * hz
    others = max(0.0, min(1.0, ((b1 - b0) - child) / max(1, t1 - t0)))
    if rc != 0:
        with open(log) as f:
            tail = f.read()[-2000:]
        raise RuntimeError(f"command failed ({rc}): {' '.join(cmd)}\n{tail}")
    return time.time() - start, others


def load(path):
    with open(path) as f:
        return json.load(f)


def median(v):
    return statistics.median(v) if v else float("nan")


# ------------------------------------------------------------------ the harness

def main():
    args = parse()
    global OMP_WAIT_POLICY
    OMP_WAIT_POLICY = args.omp_wait_policy
    if not os.environ.get("PLIANT_PEERS_REEXEC"):
        ensure_venv(args)
    import numpy as np  # inside the venv from here on

    bins = build(args)
    out = args.out
    pdir = os.path.join(out, "particles")
    os.makedirs(pdir, exist_ok=True)
    workloads = args.workloads.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    py = sys.executable
    results = {"started_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "runs": [], "notes": [],
               "quick": args.quick, "reps": args.reps, "s3_reps": args.s3_reps, "s3_3d_reps": args.s3_3d_reps,
               "omp_wait_policy": args.omp_wait_policy or "unset (OpenMP default)"}
    from importlib.metadata import version
    results["versions"] = {"python": platform.python_version(), "taichi": version("taichi"),
                           "warp-lang": version("warp-lang"), "numpy": version("numpy")}

    def log(name):
        return os.path.join(out, name + ".log")

    # (3) the particles, generated once
    for w in ("S1", "S2", "S3"):
        subprocess.check_call([bins["pliant_bench"], "--workload", w, "--size", "all", "--save-particles", pdir,
                               "--save-only"], stdout=subprocess.DEVNULL)

    # (4) bandwidth (with --resume: the bandwidth and start time of the run whose timings are reused)
    prev_path = os.path.join(out, "peer_results.json")
    prev = load(prev_path) if args.resume and os.path.exists(prev_path) else None
    if prev:
        stream = {int(k): v for k, v in prev["stream"].items()}
        results["started_utc"] = prev["started_utc"]
        results["finished_utc_of_timings"] = prev.get("finished_utc")
        results["notes"].append("re-rendered with --resume at " + datetime.datetime.now(datetime.timezone.utc)
                                .strftime("%Y-%m-%dT%H:%M:%SZ") + ": timings and STREAM from the run above, "
                                "correctness check re-run")
    else:
        sj = os.path.join(out, "stream.json")
        run([bins["pliant_stream"], "--threads", ",".join(map(str, threads)), "--json", sj], log("stream"),
            max(threads))
        stream = {r["threads"]: r for r in load(sj)["stream_triad"]}
    results["stream"] = stream
    for t, r in stream.items():
        print(f"STREAM triad {t} thread(s): {r['triad_bytes_per_s_best'] / 1e9:.2f} GB/s", flush=True)

    # (5) correctness gate on S3 2D (full protocol horizon unless --quick)
    steps2d = 128 if args.quick else 1024
    pj, tj, tg = (os.path.join(out, f) for f in ("check_pliant.json", "check_taichi.json", "check_taichi.npz"))
    run([bins["pliant_bench"], "--workload", "S3", "--size", "small", "--particles", pdir, "--reps", "0",
         "--threads", str(max(threads)), "--steps", str(steps2d), "--stream-mb", "1", "--stream-reps", "1",
         "--json", pj, "--quiet"], log("check_pliant"), max(threads))
    run([py, "peer_taichi.py", "--workload", "S3", "--size", "2d", "--threads", str(max(threads)), "--particles",
         pdir, "--steps", str(steps2d), "--check-only", "--grad-out", tg, "--json", tj], log("check_taichi"),
        max(threads))
    p = load(pj)["results"][0]
    t = np.load(tg)
    gp, gt = np.array(p["grad_theta"]).reshape(-1, 4), t["grad"]
    check = {
        "steps": steps2d,
        "loss_pliant": p["loss"], "loss_taichi": float(t["loss"]),
        "loss_rel": abs(p["loss"] - float(t["loss"])) / abs(float(t["loss"])),
        "grad_rel_norm": float(np.linalg.norm(gp - gt) / np.linalg.norm(gt)),
        "grad_rel_max": float(np.abs(gp - gt).max() / np.abs(gt).max()),
        "grad_entries": int(gt.size),
    }
    check["passed"] = check["loss_rel"] <= CHECK_RTOL and check["grad_rel_norm"] <= CHECK_RTOL
    results["check"] = check
    print(f"S3 2D check ({steps2d} steps): loss Pliant {check['loss_pliant']:.9g} Taichi {check['loss_taichi']:.9g} "
          f"(rel {check['loss_rel']:.2e}); dL/dtheta ({gt.size} entries) rel. error {check['grad_rel_norm']:.2e} "
          f"(norm), {check['grad_rel_max']:.2e} (max/max) -> {'PASS' if check['passed'] else 'FAIL'} "
          f"(tolerance {CHECK_RTOL:g})", flush=True)
    if not check["passed"] and not args.no_gate:
        write_report(args, results)
        raise SystemExit("run_peers: the S3 correctness check failed; no timings reported (see --no-gate)")

    # (6) timings
    sizes = {"S1": ["n32", "n64"], "S2": ["q1", "q2"], "S3": ["2d", "3d"], "S4": ["v32", "v64", "v128"]}
    small_large = {"n32": "small", "n64": "large", "q1": "small", "q2": "large", "2d": "small", "3d": "large"}
    for w in workloads:
        for size in sizes[w]:
            ths = threads
            if w == "S3" and size == "3d":
                ths = [int(t) for t in args.s3_3d_threads.split(",") if t]
            for th in ths:
                for engine in ("pliant", "taichi", "warp"):
                    if engine == "warp" and (w == "S3" or th != 1):
                        continue  # Warp CPU is single-threaded (its 1-thread run is the reference at 2 too)
                    name = f"{engine}_{w}_{size}_t{th}"
                    jpath = os.path.join(out, name + ".json")
                    if engine == "pliant":
                        if w == "S4":
                            if not os.path.exists(bins["pliant_bench_cloth"]) or \
                                    size not in args.s4_pliant_sizes.split(","):
                                continue
                            cmd = [bins["pliant_bench_cloth"], "--sizes", size[1:], "--threads", str(th),
                                   "--reps", str(min(args.reps, 3)), "--frames", str(args.s4_pliant_frames)]
                        else:
                            cmd = [bins["pliant_bench"], "--workload", w, "--size", small_large[size], "--threads",
                                   str(th), "--particles", pdir, "--stream-mb", "1", "--stream-reps", "1", "--quiet",
                                   "--json", jpath]
                            if w == "S3":
                                cmd += ["--reps", str(s3_reps(args, size))] + s3_steps(args, size)
                            else:
                                cmd += ["--reps", str(args.reps)]
                    else:
                        cmd = [py, f"peer_{engine}.py", "--workload", w, "--size", size, "--threads", str(th),
                               "--particles", pdir, "--json", jpath]
                        if w == "S3":
                            cmd += ["--reps", str(s3_reps(args, size))] + s3_steps(args, size)
                            cmd += ["--grad-out", os.path.join(out, name + "_grad.npz")]
                        else:
                            cmd += ["--reps", str(args.reps)]
                            if w == "S4" and args.quick:
                                cmd += ["--frames", "6"]
                    print(f"== {name}", end="", flush=True)
                    meta = os.path.join(out, name + ".meta.json")
                    if args.resume and os.path.exists(jpath) and os.path.exists(meta):
                        secs, others = load(meta)["seconds"], load(meta)["others"]
                        print(" (reused)", end="")
                    else:
                        try:
                            secs, others = run(cmd, log(name), th)
                        except RuntimeError as e:
                            print(f"  FAILED\n{e}", flush=True)
                            results["notes"].append(f"{name} failed: {str(e).splitlines()[0]}")
                            continue
                        if engine == "pliant" and w == "S4":
                            cloth_table_to_json(log(name), jpath)
                        with open(meta, "w") as f:
                            json.dump({"seconds": secs, "others": others, "cmd": cmd}, f)
                    doc = load(jpath)
                    rec = summarize(engine, w, size, th, doc, others)
                    if w == "S3" and engine == "taichi":
                        rec["vs_pliant"] = compare_s3(np, find_run(results, "pliant", w, size, th),
                                                      os.path.join(out, name + "_grad.npz"))
                    results["runs"].append(rec)
                    print(f"  {secs:.0f} s  {rec['summary']}  others {others:.0%}", flush=True)
    results["finished_utc"] = results.pop("finished_utc_of_timings", None) or \
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(os.path.join(out, "peer_results.json"), "w") as f:
        json.dump(results, f, indent=2)
    write_report(args, results)
    print(f"wrote {args.results}")


def cloth_table_to_json(log_path, jpath):
    """pliant_bench_cloth prints a table (vertices steps t_min t_median vsteps/s(best) vsteps/s(median)
    newton/step); kept as JSON like the other runs (min = best repetition here: the tool prints no worst)."""
    with open(log_path) as f:
        lines = f.read().splitlines()
    row = None
    for line in lines:
        cols = line.split()
        if len(cols) == 7 and cols[0].isdigit():
            row = cols
    if row is None:
        raise RuntimeError(f"{log_path}: no result row from pliant_bench_cloth")
    doc = {"engine": "pliant", "workload": "S4", "vertices": int(row[0]), "steps": int(row[1]),
           "t_min_s": float(row[2]), "t_median_s": float(row[3]), "newton_per_step": float(row[6]),
           "model": "implicit Euler FEM shell (StVK membrane + bending), LDLT; tools/pliant_bench_cloth_main.cpp",
           "steps_per_s": {"min": float(row[4]), "median": float(row[5]), "max": float(row[4])},
           "header": [l for l in lines if l.startswith("S4 cloth")]}
    with open(jpath, "w") as f:
        json.dump(doc, f, indent=2)


def s3_reps(args, size):
    return args.s3_3d_reps if size == "3d" else args.s3_reps


def find_run(results, engine, w, size, th):
    for r in results["runs"]:
        if (r["engine"], r["workload"], r["size"], r["threads"]) == (engine, w, size, th):
            return r
    return None


def compare_s3(np, pliant_rec, taichi_npz):
    """Loss and dL/dtheta of the timed runs (informational; the gate is the 2D check)."""
    if not pliant_rec or not os.path.exists(taichi_npz):
        return None
    t = np.load(taichi_npz)
    gp, gt = np.array(pliant_rec["grad_theta"]).reshape(-1, 4), t["grad"]
    return {"loss_rel": abs(pliant_rec["loss"] - float(t["loss"])) / abs(float(t["loss"])),
            "grad_rel_norm": float(np.linalg.norm(gp - gt) / np.linalg.norm(gt))}


def s3_steps(args, size):
    if args.quick:
        return ["--steps", "128"]
    if size == "3d" and args.s3_3d_steps:
        return ["--steps", str(args.s3_3d_steps)]
    return []


def summarize(engine, w, size, th, doc, others):
    rec = {"engine": engine, "workload": w, "size": size, "threads": th, "others": others}
    if engine == "pliant" and w != "S4":
        r = doc["results"][0]
        rec["peak_rss_bytes"] = doc.get("peak_rss_bytes")
        if w == "S3":
            r = dict(r)
            rec["grad_theta"] = r.pop("grad_theta", None)
        rec["raw"] = r
        rec["machine"] = doc.get("machine")
    else:
        rec["peak_rss_bytes"] = doc.get("peak_rss_bytes")
        rec["raw"] = doc
        r = doc
    if w == "S3":
        tf, tfb = median(r["t_forward_s"]), median(r["t_forward_backward_s"])
        rec.update(t_fwd=tf, t_fwdbwd=tfb, t_fwd_min=min(r["t_forward_s"]), t_fwdbwd_min=min(r["t_forward_backward_s"]),
                   overhead=tfb / tf, tape=r.get("tape_bytes_per_particle_step"), particles=r["particles"],
                   steps=r["steps"], loss=r["loss"])
        rec["summary"] = (f"fwd {tf:.2f} s  fwd+bwd {tfb:.2f} s  overhead {tfb / tf:.2f}x  "
                          f"RSS {rec['peak_rss_bytes'] / 2**20:.0f} MiB")
    else:
        key = "particle_steps_per_s" if engine == "pliant" and w != "S4" else "steps_per_s"
        if engine == "pliant" and w == "S4":
            key = "vertex_steps_per_s" if "vertex_steps_per_s" in r else key
        tp = r[key]
        rec.update(min=tp["min"], median=tp["median"], max=tp["max"])
        cpu = r.get("particle_steps_per_cpu_s") or r.get("steps_per_cpu_s")
        rec["cpu_median"] = cpu["median"] if cpu else None
        if engine == "pliant" and w != "S4":
            rec["bytes_per_step"] = r["bytes_per_particle_step"]["total"]
        rec["summary"] = f"median {tp['median'] / 1e6:.2f} M steps/s (min {tp['min'] / 1e6:.2f})"
    return rec


# ------------------------------------------------------------------ the results file

def write_report(args, results):
    from report import render  # tools/peers/report.py
    text = render(results, args)
    tmp = args.results + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.results)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
