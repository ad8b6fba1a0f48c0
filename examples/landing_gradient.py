#!/usr/bin/env python3
"""Gradient of where a thrown elastic ball lands with respect to how it was thrown.

An elastic disk is thrown down and to the right onto a frictional floor, where
it bounces and slides.  The loss is
the horizontal centre of mass after T substeps,  L = mean_p x_p(T)[0].
One rollout and one backward pass give dL/dv0 for every particle; summed over
the particles this is the derivative with respect to the throw velocity
(vx, vy).  The example checks it against central finite differences (double
precision) and exits non-zero when they disagree.

    python3 examples/landing_gradient.py            # 300 substeps
    python3 examples/landing_gradient.py --quick    # 60 substeps (CI)
"""
import argparse

import numpy as np

import pliant


def make_scene(precision="double"):
    return (pliant.SceneBuilder(dim=2, dx=1 / 32, size=1.0, dt=1e-3, substeps_per_frame=10, frames=30,
                                gravity=(0, -9.81), precision=precision)
            .material("rubber", "fixed_corotated", density=1000, E=5e3, nu=0.3)
            .sphere("ball", "rubber", center=(0.25, 0.2), radius=0.08, velocity=(1.0, -1.0))
            .walls(all={"type": "slip"}, y_low={"type": "separate", "friction": 0.4})
            .build())


def landing(sim, steps, throw):
    """L for a throw velocity (vx, vy): plain steps from the initial state."""
    sim.reset()
    sim.set_velocities(np.tile(throw, (sim.num_particles, 1)))
    sim.step(steps)
    return float(sim.x[:, 0].mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="60 substeps (for CI)")
    args = parser.parse_args()
    steps = 60 if args.quick else args.steps

    sim = pliant.Simulation(make_scene(), backend="cpu", dtype="float64", threads=2)
    n = sim.num_particles
    throw = np.array([1.0, -1.0])

    record = sim.rollout(steps)                         # records; record[steps] is the final state
    loss = float(record[steps].x[:, 0].mean())
    dL_dx = np.zeros((n, 2))
    dL_dx[:, 0] = 1.0 / n                               # dL/dx(T) of the mean x coordinate
    grads = sim.backward({steps: {"x": dL_dx}})
    dL_dthrow = grads.v.sum(axis=0)                     # every particle shares the throw velocity

    h = 1e-6
    fd = np.array([(landing(sim, steps, throw + h * e) - landing(sim, steps, throw - h * e)) / (2 * h)
                   for e in np.eye(2)])
    print(f"landing x after {steps} substeps ({steps * sim.dt:.3f} s): {loss:.6f} m")
    print(f"dL/d(vx, vy) adjoint            : {dL_dthrow}")
    print(f"dL/d(vx, vy) finite differences : {fd}")
    print(f"dL/dE: {grads.material_params['rubber']['E']:.3e} m/Pa,  dL/d(floor friction): "
          f"{grads.wall_friction[1, 0]:.3e} m")
    err = np.abs(dL_dthrow - fd).max() / np.abs(fd).max()
    print(f"relative error {err:.2e}")
    if not err < 1e-4:
        raise SystemExit("adjoint and finite differences disagree")


if __name__ == "__main__":
    main()
