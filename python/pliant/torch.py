"""PyTorch interop: a rollout as a ``torch.autograd.Function``.

    import torch, pliant, pliant.torch
    sim = pliant.Simulation(scene, dtype="float64")
    v0 = torch.tensor(sim.v, requires_grad=True)
    x_final = pliant.torch.rollout(sim, v0=v0, steps=100)        # (n, dim) tensor
    loss = ((x_final - target) ** 2).sum()
    loss.backward()                                              # v0.grad = dL/dv0

Tensors cross into NumPy and back through DLPack (no copy for CPU tensors of
the simulation's dtype).  The rollout starts from the simulation's initial
state (reset) with the given x0 / v0; gradients flow to whichever of them
requires grad.  Requires PyTorch (not a dependency of pliant); importing this
module without it raises ImportError with that message.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

try:
    import torch as _torch
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("pliant.torch needs PyTorch (pip install torch); the rest of pliant works without it") from exc

from .simulation import Simulation


def _to_numpy(t: "_torch.Tensor", dtype: np.dtype) -> np.ndarray:
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    return np.from_dlpack(t.contiguous()).astype(dtype, copy=False)


def _to_torch(a: np.ndarray, dtype: "_torch.dtype", device: "_torch.device") -> "_torch.Tensor":
    # Autograd wants each gradient in its input's dtype and device.
    return _torch.from_dlpack(np.ascontiguousarray(a)).to(dtype=dtype, device=device)


class RolloutFunction(_torch.autograd.Function):
    """(x0, v0) -> positions after `steps` substeps; backward through Simulation.backward."""

    @staticmethod
    def forward(ctx: Any, x0: "_torch.Tensor", v0: "_torch.Tensor", sim: Simulation, steps: int) -> "_torch.Tensor":
        sim.reset()
        sim.set_positions(_to_numpy(x0, sim.dtype))
        sim.set_velocities(_to_numpy(v0, sim.dtype))
        record = sim.rollout(steps, loss_frames=[steps])
        ctx.sim, ctx.steps = sim, steps
        ctx.meta = ((x0.dtype, x0.device), (v0.dtype, v0.device))
        return _to_torch(record[steps].x, x0.dtype, x0.device)

    @staticmethod
    def backward(ctx: Any, grad_x: "_torch.Tensor"):
        grads = ctx.sim.backward({ctx.steps: {"x": _to_numpy(grad_x, ctx.sim.dtype)}})
        (x_dtype, x_device), (v_dtype, v_device) = ctx.meta
        return _to_torch(grads.x, x_dtype, x_device), _to_torch(grads.v, v_dtype, v_device), None, None


def rollout(sim: Simulation, steps: int, x0: Optional["_torch.Tensor"] = None,
            v0: Optional["_torch.Tensor"] = None) -> "_torch.Tensor":
    """Final positions (n, dim) after `steps` substeps from (x0, v0), differentiable
    with respect to both (defaults: the scene's initial positions / velocities)."""
    sim.reset()
    dtype = _torch.float64 if sim.dtype == np.float64 else _torch.float32
    if x0 is None:
        x0 = _torch.tensor(np.array(sim.x), dtype=dtype)
    if v0 is None:
        v0 = _torch.tensor(np.array(sim.v), dtype=dtype)
    return RolloutFunction.apply(x0, v0, sim, steps)
