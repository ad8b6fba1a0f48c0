#!/usr/bin/env python3
"""A run killed with SIGKILL leaves no truncated file under a final name, and
rerunning into the same directory is safe.

Starts `pliant run` on a long version of a bundled scene (every frame written
as PLY, PNG preview and npz trajectory), kills it with SIGKILL -- in two
rounds the moment a file is seen being written, in two at some moment -- and
checks the directory each time:
  - every file with a final name (frame_*.ply, preview_*.png, run.json) parses
    completely with independent readers; no trajectory.npz exists yet (it is
    written at the end);
  - frames present are 0..k without gaps;
  - anything else is a temporary "<final name>.tmp.<pid>" of the killed process.
Then a short run into the same directory must succeed, remove the killed
run's frames and temporaries, and leave exactly its own outputs.
Usage: check_interrupted_run.py PLIANT SOURCE_DIR WORK_DIR   (ctest: cli.interrupted_run)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

try:
    import numpy as np
except ImportError:
    sys.exit("numpy is missing: run scripts/install_deps.sh (python3 -m pip install numpy)")

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pliant_files import read_ply, read_png_rgb  # noqa: E402

PLIANT, SOURCE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
OUT = os.path.join(WORK, "interrupted")
SCENE = os.path.join(SOURCE, "scenes", "dam_break_2d.yaml")
FINAL = re.compile(r"(frame_(\d{5,})\.ply|preview_(\d{5,})\.png|run\.json|trajectory\.npz|preview\.mp4)$")
TEMP = re.compile(r"(frame_\d{5,}\.ply|preview_\d{5,}\.png|run\.json|trajectory\.npz|preview\.mp4)\.tmp\.\d+$")
OPTIONS = ["--threads", "2", "--quiet", "--preview", "--set", "preview.width=64",
           "--set", "output.format=[ply, npz]"]
# For the killed runs: many particles and one substep per frame, so that most of
# the time goes to writing files and a kill is likely to land in the middle of one.
HEAVY_WRITES = ["--set", "simulation.substeps_per_frame=1", "--set", "bodies.column.particles_per_cell=16"]


def no_ffmpeg_env():
    empty = os.path.join(WORK, "empty_path")
    os.makedirs(empty, exist_ok=True)
    return dict(os.environ, PATH=empty)


def check_directory(expect_status):
    """Every final-named file parses; returns (frame numbers, temporaries)."""
    frames, temps = [], []
    for name in sorted(os.listdir(OUT)):
        path = os.path.join(OUT, name)
        final = FINAL.match(name)
        if final:
            if name.endswith(".ply"):
                ply, _ = read_ply(path)  # raises Truncated for a partial file
                assert len(ply) > 0
                frames.append(int(final.group(2)))
            elif name.endswith(".png"):
                assert read_png_rgb(path).shape == (64, 64, 3), name
            elif name == "run.json":
                with open(path) as f:
                    status = json.load(f)["status"]
                assert status == expect_status, f"run.json status {status}, expected {expect_status}"
            elif name == "trajectory.npz" and expect_status == "running":
                raise AssertionError("trajectory.npz exists although the run never finished")
        elif TEMP.match(name):
            temps.append(name)
        else:
            raise AssertionError(f"unexpected file {name!r} in the output directory")
    assert frames == list(range(len(frames))), f"frames with gaps: {frames}"
    return frames, temps


def wait_for(predicate, what, proc, seconds=20):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert proc.poll() is None, f"pliant exited early: {proc.stderr.read().decode()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def kill_round(round_index, while_writing):
    """Starts a long run and kills it; returns True when a file was being written then."""
    started = time.time()
    proc = subprocess.Popen([PLIANT, "run", SCENE, "--out", OUT, "--frames", "100000", *OPTIONS, *HEAVY_WRITES],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def new_file(name):  # the previous round's files stay until the new run clears them
        try:
            return os.stat(os.path.join(OUT, name)).st_mtime >= started
        except FileNotFoundError:
            return False

    wait_for(lambda: new_file(f"frame_{2 + round_index:05d}.ply"), "the first frames", proc)
    caught = False
    if while_writing:
        # Kill the moment a file is being written: a temporary exists, or a
        # frame file is shorter than its particles' data (what a writer that
        # wrote in place would show).  Polling is fast enough to land in such a
        # window within a few frames.
        with open(os.path.join(OUT, "run.json")) as f:
            min_bytes = 32 * json.load(f)["particles"]
        deadline = time.monotonic() + 20
        while not caught:
            assert time.monotonic() < deadline, "never saw a file being written"
            for entry in os.scandir(OUT):
                if TEMP.match(entry.name) or (entry.name.endswith(".ply") and entry.stat().st_size < min_bytes):
                    proc.send_signal(signal.SIGKILL)
                    caught = True
                    break
    else:
        time.sleep(0.003 * round_index)  # some moment, not chosen
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.returncode
    frames, _ = check_directory("running")
    assert len(frames) >= 3 + round_index, frames
    return caught


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    for r in range(4):
        kill_round(r, while_writing=r < 2)

    # Rerun into the same directory: safe, and nothing of the killed run stays.
    proc = subprocess.run([PLIANT, "run", SCENE, "--out", OUT, "--frames", "2", *OPTIONS],
                          capture_output=True, text=True, env=no_ffmpeg_env())
    assert proc.returncode == 0, proc.stderr
    frames, temps = check_directory("completed")
    assert frames == [0, 1, 2], frames
    assert temps == [], f"temporaries of the killed run were left: {temps}"
    previews = sorted(n for n in os.listdir(OUT) if n.startswith("preview_"))
    assert previews == ["preview_00000.png", "preview_00001.png", "preview_00002.png"], previews
    npz = np.load(os.path.join(OUT, "trajectory.npz"))
    assert list(npz["frame"]) == [0, 1, 2]
    print("interrupted runs leave only complete files; rerun is clean: ok")


if __name__ == "__main__":
    main()
