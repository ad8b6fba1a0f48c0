"""pliant.torch: a rollout inside torch autograd (skipped without PyTorch)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed; pliant.torch is optional")

import pliant  # noqa: E402
import pliant.torch as ptorch  # noqa: E402
from conftest import throw_scene  # noqa: E402


def test_autograd_matches_backward():
    sim = pliant.Simulation(throw_scene("double"), backend="cpu", dtype="float64", threads=2)
    v0 = torch.tensor(np.array(sim.v), requires_grad=True)
    x0 = torch.tensor(np.array(sim.x), requires_grad=True)
    w = torch.tensor(np.random.default_rng(1).uniform(-1, 1, (sim.num_particles, 2)))
    loss = (ptorch.rollout(sim, 10, x0=x0, v0=v0) * w).sum()
    loss.backward()
    sim.reset()
    sim.rollout(10)
    g = sim.backward({10: {"x": w.numpy()}})
    np.testing.assert_allclose(v0.grad.numpy(), g.v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x0.grad.numpy(), g.x, rtol=1e-12, atol=1e-14)
