#!/usr/bin/env python3
"""A tiny gradient-descent loop: find the throw that lands a jelly block on a target.

The parameters are the block's initial velocity (vx, vy) [m/s]; the loss is the
squared distance between its centre of mass after T substeps and a target
point,  L = |com(T) - target|^2.  The block hits the floor and slides on it
(Coulomb friction), so L is not a simple quadratic in the throw.  The target
is where a reference throw lands, so the loss can reach ~0.  Each iteration is one rollout, one backward
pass (dL/dv0, summed over the particles) and one gradient step.

    python3 examples/optimize_throw.py           # 25 iterations of 200 substeps
    python3 examples/optimize_throw.py --quick   # 6 iterations of 80 substeps (CI)
"""
import argparse

import numpy as np

import pliant


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=25)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="6 iterations of 80 substeps (for CI)")
    args = parser.parse_args()
    iterations, steps = (6, 80) if args.quick else (args.iterations, args.steps)

    scene = (pliant.SceneBuilder(dim=2, dx=1 / 32, size=1.0, dt=1e-3, substeps_per_frame=10, frames=20,
                                 gravity=(0, -9.81), precision="double")
             .material("jelly", "fixed_corotated", density=1000, E=3e3, nu=0.3)
             .box("block", "jelly", lower=(0.15, 0.15), upper=(0.25, 0.25))
             .walls(all={"type": "separate", "friction": 0.5})
             .build())
    sim = pliant.Simulation(scene, backend="cpu", dtype="float64", threads=2)
    n = sim.num_particles
    duration = steps * sim.dt
    sim.set_velocities(np.tile([1.5, -1.0], (n, 1)))       # the reference throw
    sim.step(steps)
    target = sim.x.mean(axis=0).copy()

    throw = np.zeros(2)
    learning_rate = 0.5 / duration**2                      # ~ the inverse curvature of L in v
    first = None
    for it in range(iterations):
        sim.reset()
        sim.set_velocities(np.tile(throw, (n, 1)))
        record = sim.rollout(steps)
        com = record[steps].x.mean(axis=0)
        loss = float(np.sum((com - target) ** 2))
        dL_dx = np.tile(2 * (com - target) / n, (n, 1))     # dL/dx_p(T)
        grad = sim.backward({steps: {"x": dL_dx}}).v.sum(axis=0)
        print(f"iter {it:2d}  throw ({throw[0]:+.3f}, {throw[1]:+.3f}) m/s  loss {loss:.3e} m^2  "
              f"|grad| {np.linalg.norm(grad):.3e}")
        first = loss if first is None else first
        throw = throw - learning_rate * grad
    print(f"target {target}, reached {com}; loss {first:.3e} -> {loss:.3e}")
    if not loss < 0.1 * first:
        raise SystemExit("the loss did not decrease tenfold")
    print(f"found throw ({throw[0]:.3f}, {throw[1]:.3f}) m/s (the target came from (1.5, -1.0) m/s; "
          "other throws may land there too)")


if __name__ == "__main__":
    main()
