"""pliant.optimize: the scene optimizer with a Python callback per iteration."""
import json

import pytest

import pliant
from conftest import SCENES


def test_optimize_calls_back_every_iteration_and_lowers_the_loss(tmp_path):
    scene = pliant.Scene.load(SCENES / "throw_opt_2d.yaml", overrides={"optimizer.iterations": 4})
    records = []
    result = pliant.optimize(scene, out_dir=tmp_path, threads=2, previews=False,
                             callback=lambda record, seconds: records.append((record, seconds)))
    assert [r["iteration"] for r, _ in records] == [0, 1, 2, 3]
    assert all(r["phase"] == "adam" and s >= 0 and len(r["u"]) == 2 for r, s in records)
    best = [r["best_loss"] for r, _ in records]
    assert best == sorted(best, reverse=True) and best[-1] < result["initial_loss"]
    assert result["iterations"] == 4 and result["best_loss"] == pytest.approx(best[-1])
    assert len(result["best_controls"]) == 2
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [entry["loss"] for entry in log] == pytest.approx([r["loss"] for r, _ in records])


def test_a_callback_exception_stops_the_run(tmp_path):
    scene = pliant.Scene.load(SCENES / "throw_opt_2d.yaml", overrides={"optimizer.iterations": 5})

    def stop(record, seconds):
        if record["iteration"] == 1:
            raise KeyboardInterrupt("enough")

    with pytest.raises(KeyboardInterrupt, match="enough"):
        pliant.optimize(scene, out_dir=tmp_path, threads=2, previews=False, callback=stop)
    # The state after iteration 0 or 1 was saved: resuming finishes the 5 iterations.
    result = pliant.optimize(scene, out_dir=tmp_path, threads=2, previews=False, resume=True)
    assert result["resumed_from"] >= 1 and result["iterations"] == 5


def test_a_scene_without_optimizer_sections_is_refused(tmp_path):
    with pytest.raises(pliant.InputError, match="no controls, objective and optimizer"):
        pliant.optimize(pliant.Scene.load(SCENES / "dam_break_2d.yaml"), out_dir=tmp_path)
