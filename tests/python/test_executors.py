"""Executors without Ray (issue 10): the evaluation function binding, scene
bundles, LocalExecutor, populations of pliant.optimize through an executor,
and resuming a generation that a killed driver left half done."""
import json
import math
import shutil

import pytest

import pliant
from pliant import _pliant
from pliant.executors import EvalResult, LocalExecutor
from pliant.executors.bundle import SceneBundle
from conftest import REPO, SCENES

# Shape matching with a target point cloud file, shortened: 8 controls, ms per rollout.
SHAPE = {"simulation.frames": 4, "optimizer.method": "cmaes", "optimizer.population": 4, "optimizer.iterations": 3}


def shape_scene(**more):
    return pliant.Scene.load(SCENES / "shape_match_opt_2d.yaml", overrides={**SHAPE, **more})


def test_evaluate_returns_loss_gradient_metrics_and_its_gradient_matches_finite_differences():
    scene = pliant.Scene.load(SCENES / "throw_opt_2d.yaml", overrides={"simulation.frames": 6})  # double precision
    problem = _pliant.Problem(scene._desc)
    u = problem.initial_unit()
    loss, grad, metrics, ok, reason = pliant.evaluate(scene, u, seed=1, gradient=True)
    assert ok and reason == "" and len(grad) == 2 and "loss.land" in metrics
    assert problem.evaluate(u, 1, True, 1)[0] == loss  # Problem and the one-call form agree bit for bit
    h = 1e-6
    for i in range(2):
        up, dn = list(u), list(u)
        up[i] += h
        dn[i] -= h
        fd = (pliant.evaluate(scene, up, 1, gradient=False)[0] - pliant.evaluate(scene, dn, 1, gradient=False)[0]) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_evaluate_rejects_bad_calls_with_input_errors():
    scene = shape_scene()
    with pytest.raises(pliant.InputError, match="u has 3 values; the scene's controls have 8"):
        pliant.evaluate(scene, [0.5] * 3)
    with pytest.raises(pliant.InputError, match="threads=0"):
        pliant.evaluate(scene, [0.5] * 8, threads=0)
    with pytest.raises(pliant.InputError, match="no controls, objective and optimizer"):
        pliant.evaluate(pliant.Scene.load(SCENES / "dam_break_2d.yaml"), [])


def test_scene_assets_name_the_key_and_a_bundle_rebuilds_the_scene_without_the_original_files(tmp_path):
    src = tmp_path / "src"
    (src / "scenes").mkdir(parents=True)
    (src / "assets" / "targets").mkdir(parents=True)
    shutil.copy(SCENES / "shape_match_opt_2d.yaml", src / "scenes")
    shutil.copy(REPO / "assets/targets/plasticine_squashed.ply", src / "assets/targets")
    scene = pliant.Scene.load(src / "scenes/shape_match_opt_2d.yaml", overrides=SHAPE)
    assets = _pliant.scene_assets(scene._desc)
    assert [(a["key_path"], a["written"], a["companion"]) for a in assets] == [
        ("objective.shape.file", "../assets/targets/plasticine_squashed.ply", False)]
    bundle = SceneBundle.from_scene(scene)
    u = [0.55] * 8
    expected = pliant.evaluate(scene, u, 3, gradient=True)
    shutil.rmtree(src)  # the worker has only the bundle
    rebuilt = bundle.materialize(str(tmp_path / "worker"))
    assert pliant.evaluate(rebuilt, u, 3, gradient=True) == expected
    assert SceneBundle.from_scene(rebuilt).files[0].data == bundle.files[0].data


def test_a_bundle_refuses_a_missing_asset_naming_the_key(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(SCENES / "shape_match_opt_2d.yaml", d)
    target = tmp_path / "assets/targets"
    target.mkdir(parents=True)
    shutil.copy(REPO / "assets/targets/plasticine_squashed.ply", target)
    scene = pliant.Scene.load(d / "shape_match_opt_2d.yaml", overrides=SHAPE)
    (target / "plasticine_squashed.ply").unlink()
    with pytest.raises(pliant.InputError, match="objective.shape.file: cannot read .*plasticine_squashed.ply"):
        SceneBundle.from_scene(scene)


def test_local_executor_keeps_submission_order_and_reports_bad_input():
    scene = shape_scene()
    points = [[0.5 + 0.05 * k] * 8 for k in range(5)]
    with LocalExecutor(workers=2) as ex:
        results = ex.evaluate(scene, points + [[0.5] * 3], seed=3)
    assert [r.status for r in results] == ["ok"] * 5 + ["input_error"]
    assert [r.loss for r in results[:5]] == [pliant.evaluate(scene, u, 3, gradient=False)[0] for u in points]
    assert "u has 3 values" in results[5].reason and math.isinf(results[5].loss)
    with pytest.raises(pliant.InputError, match="u has 3 values"):
        results[5].raise_if_fatal("candidate 5")
    with pytest.raises(pliant.SimulationError, match="candidate 0: lost after 3 attempt"):
        EvalResult("lost", reason="worker died", attempts=3).raise_if_fatal("candidate 0")


class CountingExecutor(LocalExecutor):
    """Counts submitted evaluations; optionally dies (KeyboardInterrupt, as a
    killed driver would stop) after `die_after` results have arrived."""

    def __init__(self, die_after=None):
        super().__init__(workers=1)
        self.submitted, self.arrived, self.die_after = 0, 0, die_after

    def map(self, tasks, on_result=None):
        self.submitted += len(tasks)

        def arrived(k, r):
            if on_result is not None:
                on_result(k, r)
            self.arrived += 1
            if self.die_after is not None and self.arrived >= self.die_after:
                raise KeyboardInterrupt("driver killed")

        return super().map(tasks, arrived)


@pytest.mark.parametrize("method", ["cmaes", "hybrid"])
def test_optimize_through_an_executor_matches_the_thread_pool(tmp_path, method):
    more = {"optimizer.method": method, "optimizer.cmaes_iterations": 2, "optimizer.refine_candidates": 1,
            "optimizer.refine_iterations": 1}
    scene = shape_scene(**more)
    # threads=1: the pool runs every rollout on one thread, as executors do (refine steps included)
    pool = pliant.optimize(scene, out_dir=tmp_path / "pool", previews=False, threads=1)
    ex = CountingExecutor()
    via = pliant.optimize(scene, out_dir=tmp_path / "ex", previews=False, threads=2, executor=ex)
    assert via["best_loss"] == pool["best_loss"] and via["best_controls"] == pool["best_controls"]
    assert ex.submitted == (12 if method == "cmaes" else 9)  # hybrid: 2 generations of 4, one refine step
    log = [json.loads(x) for x in (tmp_path / "ex" / "log.jsonl").read_text().splitlines()]
    assert [e["phase"] for e in log] == (["cmaes"] * 3 if method == "cmaes" else ["cmaes", "cmaes", "refine"])


def test_a_driver_killed_mid_generation_resumes_without_rerunning_finished_evaluations(tmp_path):
    scene = shape_scene()
    whole = pliant.optimize(scene, out_dir=tmp_path / "whole", previews=False, executor=CountingExecutor())
    first = CountingExecutor(die_after=6)  # generation 0 (4) and 2 of generation 1's 4
    with pytest.raises(KeyboardInterrupt):
        pliant.optimize(scene, out_dir=tmp_path / "cut", previews=False, executor=first)
    assert len((tmp_path / "cut" / "evaluations.jsonl").read_text().splitlines()) == 2
    again = CountingExecutor()
    resumed = pliant.optimize(scene, out_dir=tmp_path / "cut", previews=False, resume=True, executor=again)
    assert resumed["resumed_from"] == 1 and resumed["iterations"] == 3
    assert again.submitted == 12 - 6  # the 2 journaled candidates of generation 1 were not run again
    assert resumed["best_loss"] == whole["best_loss"] and resumed["best_controls"] == whole["best_controls"]
    assert (tmp_path / "cut" / "evaluations.jsonl").read_text() == ""  # emptied after each generation
