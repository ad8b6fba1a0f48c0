#!/usr/bin/env python3
"""PyTorch on both sides of a rollout: torch parameters in, a torch loss out.

pliant.torch.rollout(sim, steps, v0=...) is a torch.autograd.Function: the
initial velocities come from a torch tensor (here a tiny "policy" - one
learnable throw velocity shared by all particles) and the final positions go
into a torch loss; loss.backward() runs Pliant's adjoint through DLPack.

    python3 examples/torch_rollout.py           # 15 Adam steps
    python3 examples/torch_rollout.py --quick   # 4 steps (CI); prints a note and exits 0 without torch
"""
import argparse
import sys

import numpy as np

import pliant


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    try:
        import torch
        import pliant.torch as ptorch
    except ImportError:
        print("torch is not installed: nothing to show (pip install torch)")
        return 0
    steps, iterations = (40, 4) if args.quick else (120, 15)
    scene = (pliant.SceneBuilder(dim=2, dx=1 / 32, size=1.0, dt=1e-3, frames=1, gravity=(0, -9.81), precision="double")
             .material("jelly", "fixed_corotated", E=3e3).box("block", "jelly", lower=(0.2, 0.3), upper=(0.3, 0.4))
             .build())
    sim = pliant.Simulation(scene, backend="cpu", dtype="float64", threads=2)
    target = torch.tensor(sim.x.mean(axis=0) + np.array([0.1, 0.02]))
    throw = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([throw], lr=0.2)
    losses = []
    for it in range(iterations):
        opt.zero_grad()
        v0 = throw.expand(sim.num_particles, 2)
        x_final = ptorch.rollout(sim, steps, v0=v0)
        loss = ((x_final.mean(dim=0) - target) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        print(f"iter {it}: loss {loss.item():.3e}, throw {throw.detach().numpy()}")
    if not losses[-1] < losses[0]:
        raise SystemExit("the loss did not decrease")
    return 0


if __name__ == "__main__":
    sys.exit(main())
