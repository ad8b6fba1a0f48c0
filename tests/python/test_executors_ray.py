"""RayExecutor against a local Ray cluster that this module starts (loopback,
2 CPUs): same-seed equality with local runs, a worker killed mid-evaluation,
a hung worker, bad input, assets shipped.  Skipped when Ray is not installed
(scripts/install_deps.sh installs it, so CI runs these)."""
import os
import shutil

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'pliant[ray]'); the RayExecutor tests "
                                        "need it and are skipped")

import pliant  # noqa: E402
from pliant.executors import LocalExecutor, RayExecutor  # noqa: E402
from conftest import REPO, SCENES  # noqa: E402

SHAPE = {"simulation.frames": 4, "optimizer.method": "cmaes", "optimizer.population": 4, "optimizer.iterations": 3}


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    """The worker test hooks' directory (pliant/executors/worker.py), in the
    environment of every worker of the cluster started below."""
    d = tmp_path_factory.mktemp("hooks")
    os.environ["PLIANT_EXECUTOR_TEST_HOOKS"] = str(d)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # loopback-only test cluster
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", logging_level="error",
             log_to_driver=False, runtime_env={"env_vars": {"PLIANT_EXECUTOR_TEST_HOOKS": str(d),
                                                            "OMP_NUM_THREADS": "1"}})
    yield d
    ray.shutdown()
    del os.environ["PLIANT_EXECUTOR_TEST_HOOKS"]


def arm(hooks, name):
    for f in (name, name + ".done"):
        if (hooks / f).exists():
            (hooks / f).unlink()
    (hooks / name).touch()


def disarm(hooks, name):
    assert (hooks / (name + ".done")).exists(), f"the {name} hook never fired"
    (hooks / name).unlink()


def scene_in(tmp_path, **more):
    """shape_match_opt_2d with its target in a private directory (the workers get it as bytes)."""
    (tmp_path / "scenes").mkdir(exist_ok=True)
    (tmp_path / "assets/targets").mkdir(parents=True, exist_ok=True)
    shutil.copy(SCENES / "shape_match_opt_2d.yaml", tmp_path / "scenes")
    shutil.copy(REPO / "assets/targets/plasticine_squashed.ply", tmp_path / "assets/targets")
    return pliant.Scene.load(tmp_path / "scenes/shape_match_opt_2d.yaml", overrides={**SHAPE, **more})


POINTS = [[0.5 + 0.04 * k] * 8 for k in range(4)]


def local_losses(scene):
    with LocalExecutor(workers=1) as ex:
        return [r.loss for r in ex.evaluate(scene, POINTS, seed=3)]


@pytest.mark.parametrize("method", ["cmaes", "hybrid"])
def test_same_seed_gives_the_same_optimization_locally_and_on_ray(hooks, tmp_path, method):
    scene = scene_in(tmp_path, **{"optimizer.method": method, "optimizer.cmaes_iterations": 2,
                                  "optimizer.refine_candidates": 1, "optimizer.refine_iterations": 1})
    with LocalExecutor(workers=2) as ex:
        local = pliant.optimize(scene, out_dir=tmp_path / "local", previews=False, executor=ex)
    with RayExecutor() as ex:
        on_ray = pliant.optimize(scene, out_dir=tmp_path / "ray", previews=False, executor=ex)
    assert on_ray["best_loss"] == local["best_loss"] and on_ray["best_controls"] == local["best_controls"]
    assert (tmp_path / "ray/log.jsonl").read_text().count("\n") == 3


def test_a_worker_killed_mid_evaluation_is_retried_and_the_generation_completes(hooks, tmp_path):
    scene = scene_in(tmp_path)
    arm(hooks, "crash")
    with RayExecutor(max_retries=2) as ex:
        results = ex.evaluate(scene, POINTS, seed=3)
    disarm(hooks, "crash")
    assert [r.status for r in results] == ["ok"] * 4
    assert [r.loss for r in results] == local_losses(scene)
    assert sorted(r.attempts for r in results) == [1, 1, 1, 2]


def test_a_hung_worker_times_out_and_is_retried(hooks, tmp_path):
    scene = scene_in(tmp_path)
    arm(hooks, "hang")
    with RayExecutor(max_retries=1, timeout_s=4) as ex:
        results = ex.evaluate(scene, POINTS, seed=3)
    disarm(hooks, "hang")
    assert [r.loss for r in results] == local_losses(scene)
    assert sorted(r.attempts for r in results) == [1, 1, 1, 2]


def test_a_candidate_whose_worker_keeps_dying_is_lost_and_stops_an_optimization(hooks, tmp_path):
    scene = scene_in(tmp_path)
    arm(hooks, "crash")
    with RayExecutor(max_retries=0) as ex:
        results = ex.evaluate(scene, POINTS, seed=3)
    disarm(hooks, "crash")
    lost = [r for r in results if r.status == "lost"]
    assert len(lost) == 1 and lost[0].attempts == 1 and "WorkerCrashedError" in lost[0].reason
    with pytest.raises(pliant.SimulationError, match="lost after 1 attempt"):
        lost[0].raise_if_fatal("candidate")


def test_bad_input_is_reported_not_retried(hooks, tmp_path):
    scene = scene_in(tmp_path)
    with RayExecutor(max_retries=2) as ex:
        results = ex.evaluate(scene, POINTS[:1] + [[0.5] * 3], seed=3)
        assert results[0].status == "ok"
        assert results[1].status == "input_error" and results[1].attempts == 1
        assert "u has 3 values; the scene's controls have 8" in results[1].reason
        # a scene invalid on the worker (its target file's content is not a point cloud)
        (tmp_path / "assets/targets/plasticine_squashed.ply").write_text("not a ply file\n")
        bad = ex.evaluate(scene_in_place(tmp_path), POINTS[:1], seed=3)
    assert bad[0].status == "input_error" and bad[0].attempts == 1 and "plasticine_squashed.ply" in bad[0].reason


def scene_in_place(tmp_path):
    return pliant.Scene.load(tmp_path / "scenes/shape_match_opt_2d.yaml", overrides=SHAPE)


def test_the_cli_points_pliant_optimize_at_a_running_cluster(hooks, tmp_path):
    """`pliant optimize SCENE --executor ray --address ADDR` (the C++ CLI hands
    it to python -m pliant) joins this module's cluster; same result as local."""
    import json
    import pathlib
    import subprocess
    import sys
    scene = scene_in(tmp_path)
    with LocalExecutor(workers=2) as ex:
        local = pliant.optimize(scene, out_dir=tmp_path / "local", previews=False, executor=ex)
    exe = pathlib.Path(pliant._pliant.__file__).resolve().parents[2] / "tools" / "pliant"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pliant"]
    sets = sum((["--set", f"{k}={v}"] for k, v in SHAPE.items()), [])
    p = subprocess.run(cmd + ["optimize", str(tmp_path / "scenes/shape_match_opt_2d.yaml"), "--executor", "ray",
                              "--address", ray.get_runtime_context().gcs_address, "--out", str(tmp_path / "cli"),
                              "--no-preview"] + sets, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "with the ray executor" in p.stdout and "iter    3" in p.stdout
    summary = json.loads((tmp_path / "cli/summary.json").read_text())
    assert summary["best_loss"] == local["best_loss"] and summary["best_controls"] == local["best_controls"]
