"""pliant sweep (issue 10): grid parsing, the results table (CSV + JSON
lines) against direct evaluations, bad rows reported, resume, and the
command line (python -m pliant sweep, and the C++ pliant forwarding to it)."""
import csv
import json
import math
import pathlib
import subprocess
import sys

import pytest

import pliant
from pliant.executors import LocalExecutor
from pliant.sweep import parse_grid, sweep
from conftest import REPO, SCENES

SCENE = SCENES / "shape_match_opt_2d.yaml"
SETS = ["simulation.frames=4"]
GRID = ["materials.clay.E=3e4,6e4", "controls.push.init=[0,0,0,0,0,0,0,0],[50,0,50,0,50,0,50,0]"]


def test_grid_values_split_outside_brackets_and_bad_grids_name_the_option():
    assert parse_grid(["a.b=1,2", "c=[0,1],[2,3]"]) == [("a.b", ["1", "2"]), ("c", ["[0,1]", "[2,3]"])]
    with pytest.raises(pliant.InputError, match="expected KEY=V1,V2"):
        parse_grid(["materials.clay.E"])
    with pytest.raises(pliant.InputError, match="an empty value"):
        parse_grid(["a=1,,2"])
    with pytest.raises(pliant.InputError, match="--grid a: given twice"):
        parse_grid(["a=1", "a=2"])


def direct_loss(overrides):
    scene = pliant.Scene.load(SCENE, overrides=SETS + overrides)
    u = pliant._pliant.Problem(scene._desc).initial_unit()
    return pliant.evaluate(scene, u, seed=3, gradient=False)[0]


def test_the_table_has_one_row_per_combination_equal_to_direct_evaluations(tmp_path):
    rows = sweep(str(SCENE), GRID + ["materials.clay.nu=0.3,-2"], str(tmp_path), sets=SETS,
                 executor=LocalExecutor(workers=2))
    assert len(rows) == 8 and [r["index"] for r in rows] == list(range(8))
    ok = [r for r in rows if r["overrides"]["materials.clay.nu"] == "0.3"]
    assert len(ok) == 4 and all(r["status"] == "ok" for r in ok)
    for r in ok:
        assert r["loss"] == direct_loss([f"{k}={v}" for k, v in r["overrides"].items()])
    assert ok[0]["loss"] != ok[1]["loss"] and ok[0]["loss"] != ok[2]["loss"]  # both grid keys change the result
    bad = [r for r in rows if r["overrides"]["materials.clay.nu"] == "-2"]
    assert all(r["status"] == "input_error" and "nu" in r["reason"] and r["loss"] is None for r in bad)
    jsonl = [json.loads(line) for line in (tmp_path / "sweep.jsonl").read_text().splitlines()]
    assert jsonl == json.loads(json.dumps(rows))
    with open(tmp_path / "sweep.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [t["materials.clay.E"] for t in table] == ["3e4"] * 4 + ["6e4"] * 4
    assert float(table[0]["loss"]) == rows[0]["loss"] and float(table[0]["loss.shape"]) == rows[0]["metrics"]["loss.shape"]
    assert table[1]["status"] == "input_error" and table[1]["loss"] == ""
    assert not (tmp_path / "sweep.partial.jsonl").exists()


class Stop(Exception):
    pass


def test_an_interrupted_sweep_resumes_with_its_finished_rows(tmp_path):
    def stop_after_two(row, done, total):
        if done == 2:
            raise Stop()

    with pytest.raises(Stop):
        sweep(str(SCENE), GRID, str(tmp_path), sets=SETS, executor=LocalExecutor(workers=1), on_row=stop_after_two)
    seen = []
    rows = sweep(str(SCENE), GRID, str(tmp_path), sets=SETS, executor=LocalExecutor(workers=1), resume=True,
                 on_row=lambda row, done, total: seen.append(row["index"]))
    assert sorted(seen) == [2, 3]  # rows 0 and 1 came from sweep.partial.jsonl
    assert [r["loss"] for r in rows] == [direct_loss([f"{k}={v}" for k, v in r["overrides"].items()]) for r in rows]


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_python_m_pliant_sweep_writes_the_table_and_refuses_bad_grids(tmp_path):
    p = run([sys.executable, "-m", "pliant", "sweep", str(SCENE), "--grid", "materials.clay.E=3e4,6e4",
             "--set", SETS[0], "--out", str(tmp_path), "--workers", "2", "--quiet"])
    assert p.returncode == 0, p.stderr
    assert len((tmp_path / "sweep.jsonl").read_text().splitlines()) == 2
    p = run([sys.executable, "-m", "pliant", "sweep", str(SCENE), "--grid", "materials.clay.E", "--out", str(tmp_path)])
    assert p.returncode == 2 and "--grid 'materials.clay.E': expected KEY=V1,V2" in p.stderr
    assert "ray" not in run([sys.executable, "-c", "import pliant.cli, pliant.sweep, sys; "
                             "print(' '.join(m for m in sys.modules if m.startswith('ray')))"]).stdout


def pliant_binary():
    exe = pathlib.Path(pliant._pliant.__file__).resolve().parents[2] / "tools" / "pliant"
    if not exe.exists():
        pytest.skip(f"no pliant executable next to the module's build directory ({exe})")
    return exe


def test_the_cpp_cli_hands_sweep_to_python(tmp_path):
    p = run([str(pliant_binary()), "sweep", str(SCENE), "--grid", "materials.clay.E=3e4,6e4", "--set", SETS[0],
             "--out", str(tmp_path), "--quiet"])
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in (tmp_path / "sweep.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in rows] == [direct_loss(["materials.clay.E=3e4"]), direct_loss(["materials.clay.E=6e4"])]
    p = run([str(pliant_binary()), "sweep", str(SCENE), "--out", str(tmp_path)])
    assert p.returncode == 2 and "--grid" in p.stderr
