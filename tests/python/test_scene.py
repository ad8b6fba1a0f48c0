"""Scenes from files, overrides and the programmatic builder."""
import numpy as np
import pytest

import pliant
from conftest import SCENES


def test_load_reports_what_the_file_says():
    scene = pliant.Scene.load(SCENES / "multi_material_2d.yaml")
    assert scene.dim == 2
    assert [m["label"] for m in scene.materials] == ["water", "jelly", "snow"]
    assert scene.materials[1]["params"] == {"E": 1e5, "nu": 0.2}
    assert [b["name"] for b in scene.bodies] == ["fluid_block", "jelly_block", "snow_block"]
    assert scene.dt == pytest.approx(4e-4)


def test_overrides_dict_and_list():
    a = pliant.Scene.load(SCENES / "dam_break_2d.yaml", overrides={"simulation.frames": 3, "simulation.gravity": [0, -3]})
    b = pliant.Scene.load(SCENES / "dam_break_2d.yaml", overrides=["simulation.frames=3", "simulation.gravity=[0, -3]"])
    for s in (a, b):
        assert s.frames == 3 and s.gravity == (0, -3)
    c = a.with_overrides({"simulation.precision": "double"})
    assert c.precision == "double" and c.frames == 3


def test_builder_matches_the_equivalent_file(tmp_path):
    built = (pliant.SceneBuilder(dim=2, dx=0.02, size=[1.0, 0.8], dt=1e-4, substeps_per_frame=5, frames=2,
                                 gravity=(0, -9.81))
             .material("goo", "herschel_bulkley", density=1200, yield_stress=50)
             .sphere("drop", "goo", center=(0.5, 0.4), radius=0.1, velocity=(0, -1), seed=4)
             .walls(all={"type": "sticky"}))
    text = built.text()
    path = tmp_path / "built.yaml"
    path.write_text(text)
    a = pliant.Simulation(built.build(), backend="cpu")
    b = pliant.Simulation(pliant.Scene.load(path), backend="cpu")
    assert a.num_particles == b.num_particles > 0
    np.testing.assert_array_equal(a.x, b.x)
    assert a.materials == b.materials
    assert a.materials[0]["params"]["yield_stress"] == 50
    np.testing.assert_allclose(a.v, np.tile([0, -1], (a.num_particles, 1)))


def test_model_registry():
    assert "fixed_corotated" in pliant.model_names()
    names = [p[0] for p in pliant.model_parameters("drucker_prager")]
    assert names[:2] == ["E", "nu"] and "friction_angle" in names
    with pytest.raises(pliant.InputError, match="unknown material model"):
        pliant.model_parameters("jello")


def test_3d_scene_runs_in_both_precisions():
    scene = pliant.Scene.load(SCENES / "jelly_drop_3d.yaml")
    for dtype in ("float32", "float64"):
        sim = pliant.Simulation(scene, backend="cpu", dtype=dtype, threads=2)
        assert sim.x.dtype == np.dtype(dtype) and sim.x.shape[1] == 3 and sim.F.shape[1:] == (3, 3)
        vy0 = sim.v[:, 1].mean()
        sim.step(5)
        # Free fall under gravity for 5 substeps (the cube starts away from the floor).
        assert sim.v[:, 1].mean() == pytest.approx(vy0 - 9.81 * 5 * sim.dt, rel=1e-4)
