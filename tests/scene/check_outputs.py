#!/usr/bin/env python3
"""Pliant's output files read back by independent readers (NumPy, zlib).

Runs `pliant run` on two bundled scenes and checks, without any Pliant code:
  - frame_*.ply parse with NumPy's structured dtypes; counts, ids and positions
    agree with run.json and with the scene file (bodies start inside their
    boxes, at their initial velocity);
  - trajectory.npz loads with numpy.load and holds exactly the PLY values;
  - preview PNGs decode (CRCs, zlib, filters) and show the bodies' colours
    where the scene puts them.
Usage: check_outputs.py PLIANT SOURCE_DIR WORK_DIR   (ctest: cli.outputs_read_by_numpy)
"""
import json
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    sys.exit("numpy is missing: run scripts/install_deps.sh (python3 -m pip install numpy)")

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pliant_files import read_ply, read_png_rgb  # noqa: E402

PLIANT, SOURCE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
PLY_FIELDS = ["x", "y", "z", "vx", "vy", "vz", "material", "body"]


def no_ffmpeg_env():
    """$PATH without ffmpeg, so that the run prints the ffmpeg command (the MP4 step is tested in C++)."""
    empty = os.path.join(WORK, "empty_path")
    os.makedirs(empty, exist_ok=True)
    return dict(os.environ, PATH=empty)


def run(scene, out, *extra):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [PLIANT, "run", os.path.join(SOURCE, "scenes", scene), "--out", out, "--threads", "2", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=no_ffmpeg_env())
    assert proc.returncode == 0, f"{' '.join(cmd)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    with open(os.path.join(out, "run.json")) as f:
        return proc.stdout, json.load(f)


def check_multi_material_2d():
    out = os.path.join(WORK, "multi_material_2d")
    stdout, manifest = run("multi_material_2d.yaml", out, "--frames", "2", "--preview",
                           "--set", "output.format=[ply, npz]", "--set", "preview.width=96")
    assert "wrote 3 frames and 3 preview images" in stdout, stdout
    assert manifest["status"] == "completed" and manifest["format"] == ["ply", "npz"], manifest
    n = manifest["particles"]
    per_body = [b["particles"] for b in manifest["bodies"]]
    assert sum(per_body) == n and [b["name"] for b in manifest["bodies"]] == ["fluid_block", "jelly_block", "snow_block"]

    # The scene: domain [0, 1]^2, dx = 1/64, 3 wall cells; bodies i has material i.
    inner_lo, inner_hi = 3 / 64, 1 - 3 / 64
    frames = []
    for f in range(3):
        ply, header = read_ply(os.path.join(out, f"frame_{f:05d}.ply"))
        assert list(ply.dtype.names) == PLY_FIELDS, ply.dtype.names
        assert len(ply) == n, (len(ply), n)
        assert f"frame {f}" in header["comments"], header
        assert np.all((ply["x"] >= inner_lo - 0.02) & (ply["x"] <= inner_hi + 0.02)), "x outside the domain"
        assert np.all((ply["y"] >= inner_lo - 0.02) & (ply["y"] <= inner_hi + 0.02)), "y outside the domain"
        assert np.all(ply["z"] == 0) and np.all(ply["vz"] == 0), "2D frames have z = vz = 0"
        assert np.array_equal(np.bincount(ply["body"], minlength=3), per_body), "per-body counts differ from run.json"
        assert np.array_equal(ply["material"], ply["body"]), "body i is made of material i in this scene"
        frames.append(ply)
    first = frames[0]
    boxes = {0: ((0.30, 0.06), (0.50, 0.26)), 1: ((0.40, 0.37), (0.60, 0.57)), 2: ((0.50, 0.69), (0.70, 0.89))}
    for body, (lo, hi) in boxes.items():
        sel = first[first["body"] == body]
        assert np.all((sel["x"] >= lo[0]) & (sel["x"] <= hi[0]) & (sel["y"] >= lo[1]) & (sel["y"] <= hi[1])), body
    assert np.all(first["vx"] == 0) and np.all(first["vy"] == 0), "the scene starts at rest"
    assert frames[2]["vy"][frames[2]["body"] == 2].mean() < -0.1, "the snow block falls under gravity"

    npz = np.load(os.path.join(out, "trajectory.npz"))
    assert sorted(npz.files) == sorted(["positions", "velocities", "frame", "time", "material", "body",
                                        "material_names", "body_names"]), npz.files
    assert npz["positions"].shape == (3, n, 2) and npz["positions"].dtype == np.float32
    for f, ply in enumerate(frames):
        assert np.array_equal(npz["positions"][f], np.stack([ply["x"], ply["y"]], axis=1)), f"positions, frame {f}"
        assert np.array_equal(npz["velocities"][f], np.stack([ply["vx"], ply["vy"]], axis=1)), f"velocities, frame {f}"
    assert np.array_equal(npz["material"], first["material"]) and np.array_equal(npz["body"], first["body"])
    assert list(npz["frame"]) == [0, 1, 2]
    assert np.allclose(npz["time"], np.arange(3) * 4.0e-4 * 42, rtol=1e-9), npz["time"]
    assert list(npz["material_names"]) == ["water", "jelly", "snow"], npz["material_names"]
    assert list(npz["body_names"]) == ["fluid_block", "jelly_block", "snow_block"]

    # Previews: 96 x 96 (square domain); the fluid (tab10 blue) and the jelly
    # (tab10 orange) where the planar camera maps their centres, white elsewhere.
    image = read_png_rgb(os.path.join(out, "preview_00000.png"))
    assert image.shape == (96, 96, 3), image.shape
    def pixel(x, y):
        return image[int((1 - y) * 96), int(x * 96)].astype(int)
    water, jelly, empty = pixel(0.40, 0.16), pixel(0.50, 0.47), pixel(0.15, 0.5)
    assert water[2] > water[0] + 40, f"water pixel {water} should be blue"
    assert jelly[0] > jelly[2] + 40, f"jelly pixel {jelly} should be orange"
    assert list(empty) == [255, 255, 255], f"empty space {empty} should be background"
    assert manifest["previews_written"] == 3
    assert "ffmpeg" in stdout and "preview.mp4" in stdout, "without ffmpeg the command is printed"


def check_jelly_drop_3d_npz_only():
    out = os.path.join(WORK, "jelly_drop_3d")
    _, manifest = run("jelly_drop_3d.yaml", out, "--frames", "1", "--set", "output.format=npz")
    assert manifest["format"] == ["npz"]
    assert not [f for f in os.listdir(out) if f.endswith(".ply")], "format npz writes no PLY frames"
    npz = np.load(os.path.join(out, "trajectory.npz"))
    n = manifest["particles"]
    assert npz["positions"].shape == (2, n, 3) and npz["velocities"].shape == (2, n, 3)
    assert np.all(npz["velocities"][0] == np.array([0, -1, 0], dtype=np.float32)), "initial velocity from the scene"
    p0 = npz["positions"][0]
    assert np.all((p0 >= [0.3, 0.4, 0.3]) & (p0 <= [0.5, 0.6, 0.5])), "the cube starts in its box"
    assert npz["positions"][1][:, 1].mean() < p0[:, 1].mean(), "and falls"


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    check_multi_material_2d()
    check_jelly_drop_3d_npz_only()
    print("outputs read back by numpy: ok")
