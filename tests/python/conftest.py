"""Shared fixtures for the Python package tests (run by ctest as python.pytest,
or `PYTHONPATH=python:<build>/bindings python3 -m pytest tests/python`)."""
import os
import pathlib

import pytest

import pliant

REPO = pathlib.Path(__file__).resolve().parents[2]
SCENES = REPO / "scenes"

os.environ.setdefault("OMP_NUM_THREADS", "2")


def throw_scene(precision="double", friction=0.3, velocity=(1.5, -1.0), model="fixed_corotated", **params):
    """A small 2D block thrown down and sideways onto a floor with Coulomb
    friction (a sticky right wall, slip elsewhere): contact, friction and
    elasticity all shape the motion within a few dozen substeps."""
    params = params or {"E": 2e3, "nu": 0.3}
    return (pliant.SceneBuilder(dim=2, dx=1 / 16, size=1.0, dt=2e-3, substeps_per_frame=4, frames=6,
                                gravity=(0, -9.8), precision=precision)
            .material("jelly", model, density=1000, **params)
            .box("block", "jelly", lower=(0.35, 0.2075), upper=(0.6, 0.4075), velocity=velocity,
                 particles_per_cell=4, seed=3)
            .walls(all={"type": "slip"}, y_low={"type": "separate", "friction": friction}, x_high={"type": "sticky"})
            .build())


@pytest.fixture
def scene64():
    return throw_scene("double")


@pytest.fixture
def sim64(scene64):
    return pliant.Simulation(scene64, backend="cpu", threads=2)
