"""Simulation.backward against NumPy central finite differences (double
precision) on a short rollout: a block thrown onto a frictional floor, with a
loss that reads the state at two steps."""
import numpy as np
import pytest

import pliant
from conftest import throw_scene

STEPS = 24
MID = STEPS // 2
H = 1e-6


class Loss:
    """L = sum(wx * x_T) + sum(wv * v_mid): linear, so the FD error is only truncation."""

    def __init__(self, n):
        rng = np.random.default_rng(11)
        self.wx = rng.uniform(-1, 1, (n, 2))
        self.wv = rng.uniform(-1, 1, (n, 2))

    def gradients(self):
        return {STEPS: {"x": self.wx}, MID: {"v": self.wv}}

    def evaluate(self, sim, forces=None):
        """Runs the loss's rollout with plain steps (no recording) from the current state."""
        total = 0.0
        for step in range(STEPS):
            if forces is not None:
                sim.set_external_forces(forces[step])
            sim.step(1)
            if step + 1 == MID:
                total += float(np.sum(self.wv * sim.v))
        return total + float(np.sum(self.wx * sim.x))


@pytest.fixture(scope="module")
def setup():
    sim = pliant.Simulation(throw_scene("double"), backend="cpu", threads=2)
    loss = Loss(sim.num_particles)
    rng = np.random.default_rng(5)
    forces = rng.uniform(-1, 1, (STEPS, sim.num_particles, 2)) * 1e-3
    rec = sim.rollout(STEPS, loss_frames=[MID, STEPS], forces=forces)
    assert sorted(rec) == [MID, STEPS]
    grads = sim.backward(loss.gradients())
    assert sim.step_count == 0  # backward returns the world to s_0
    return sim, loss, forces, grads


def central_difference(sim, loss, perturb, forces):
    values = []
    for sign in (+1, -1):
        sim.reset()
        restore = perturb(sign * H)
        values.append(loss.evaluate(sim, forces))
        if restore:
            restore()
    sim.reset()
    return (values[0] - values[1]) / (2 * H)


def check(adjoint, fd):
    assert abs(fd) > 1e-6, "the direction must change the loss, or the check proves nothing"
    assert adjoint == pytest.approx(fd, rel=2e-5, abs=1e-9)


def test_recording_matches_plain_steps(setup):
    sim, loss, forces, _ = setup
    sim.reset()
    rec = sim.rollout(STEPS, loss_frames=[STEPS], forces=forces)
    final = rec[STEPS].x.copy()
    np.testing.assert_array_equal(sim.x, final)  # the views show s_T after the rollout
    sim.reset()
    loss.evaluate(sim, forces)
    np.testing.assert_allclose(sim.x, final, rtol=0, atol=1e-12)
    sim.reset()
    sim.set_external_forces(None)


@pytest.mark.parametrize("quantity", ["x", "v", "F", "C"])
def test_initial_state(setup, quantity):
    sim, loss, forces, grads = setup
    direction = np.random.default_rng(2).uniform(-1, 1, getattr(sim, quantity).shape)
    base = getattr(sim, quantity).copy()

    def perturb(h):
        getattr(sim, quantity)[...] = base + h * direction  # through the zero-copy view

    fd = central_difference(sim, loss, perturb, forces)
    check(float(np.sum(getattr(grads, quantity) * direction)), fd)


@pytest.mark.parametrize("param", ["E", "nu"])
def test_material_parameters(setup, param):
    sim, loss, forces, grads = setup
    value = sim.materials[0]["params"][param]

    def perturb(h):  # relative step: param * (1 + h)
        sim.set_material("jelly", **{param: value * (1 + h)})
        return lambda: sim.set_material("jelly", **{param: value})

    # Compared as dL/dln(param) = param dL/dparam (E is in pascals, its gradient tiny).
    check(grads.material_params["jelly"][param] * value, central_difference(sim, loss, perturb, forces))


def test_density(setup):
    sim, loss, forces, grads = setup

    def perturb(h):
        sim.set_material("jelly", density=1000 * (1 + h))
        return lambda: sim.set_material("jelly", density=1000)

    check(grads.density["jelly"] * 1000, central_difference(sim, loss, perturb, forces))


def test_floor_friction(setup):
    sim, loss, forces, grads = setup

    def perturb(h):
        sim.set_wall_friction(1, 0, 0.3 + h)
        return lambda: sim.set_wall_friction(1, 0, 0.3)

    fd = central_difference(sim, loss, perturb, forces)
    check(float(grads.wall_friction[1, 0]), fd)


def test_per_step_forces(setup):
    sim, loss, forces, grads = setup
    assert grads.forces.shape == forces.shape
    direction = np.random.default_rng(4).uniform(-1, 1, forces.shape)

    values = []
    for sign in (+1, -1):
        sim.reset()
        values.append(loss.evaluate(sim, forces + sign * H * direction))
    sim.reset()
    sim.set_external_forces(None)
    check(float(np.sum(grads.forces * direction)), (values[0] - values[1]) / (2 * H))


def test_float32_gradients_track_float64(setup):
    _, _, forces, grads = setup
    sim32 = pliant.Simulation(throw_scene("double"), backend="cpu", dtype="float32", threads=2)
    sim32.rollout(STEPS, loss_frames=[MID, STEPS], forces=forces)
    loss = Loss(sim32.num_particles)
    g32 = sim32.backward(loss.gradients())
    assert g32.v.dtype == np.float32
    np.testing.assert_allclose(g32.v, grads.v, rtol=1e-2, atol=1e-3 * np.abs(grads.v).max())


def test_backward_needs_a_fresh_recording(setup):
    sim, loss, forces, _ = setup
    sim.rollout(4)
    sim.step(1)  # the world moved on: the recording no longer describes it
    with pytest.raises(ValueError, match="changed after the rollout"):
        sim.backward({4: {"x": np.zeros((sim.num_particles, 2))}})
    sim.reset()


def test_checkpoint_budget_and_force_gradient_options(setup):
    sim, loss, _, _ = setup
    sim.reset()
    sim.set_external_forces(None)
    results = []
    for kwargs in ({"force_gradient": True}, {"forces": np.zeros((sim.num_particles, 2)), "checkpoints": 2}):
        sim.reset()
        rec = sim.rollout(STEPS, loss_frames=[MID, STEPS], **kwargs)
        results.append(sim.backward(loss.gradients()))
        if "checkpoints" in kwargs:
            report = rec.report()
            assert report["checkpoints"] == 2 and report["recomputed_substeps"] > 0
    a, b = results
    assert a.forces.shape == (STEPS, sim.num_particles, 2)
    # Same gradients whether states were stored or recomputed, forces implicit or explicit.
    np.testing.assert_array_equal(a.forces, b.forces)
    np.testing.assert_array_equal(a.v, b.v)
    assert np.abs(a.forces).max() > 0
