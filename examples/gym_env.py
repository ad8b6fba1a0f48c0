#!/usr/bin/env python3
"""A gym-style control loop: push a jelly block to a target with per-body forces.

pliant.Env wraps any scene: the action is one external force per body [N],
the observation each body's centre of mass and mean velocity.  Here a PD
controller (standing in for a trained policy) pushes the block along the
floor to x = 0.7 m; the reward is minus the distance to the target.

    python3 examples/gym_env.py           # 40 actions
    python3 examples/gym_env.py --quick   # 12 actions (CI)
"""
import argparse

import numpy as np

import pliant

TARGET_X = 0.7


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="12 actions (for CI)")
    args = parser.parse_args()
    actions = 12 if args.quick else args.actions

    scene = (pliant.SceneBuilder(dim=2, dx=1 / 32, size=1.0, dt=1e-3, substeps_per_frame=20, frames=actions,
                                 gravity=(0, -9.81))
             .material("jelly", "fixed_corotated", density=1000, E=5e3, nu=0.3)
             .box("block", "jelly", lower=(0.2, 0.1), upper=(0.3, 0.2))
             .walls(all={"type": "separate", "friction": 0.2})
             .build())

    def reward(sim):
        return -abs(float(sim.x[:, 0].mean()) - TARGET_X)

    env = pliant.Env(scene, reward=reward, threads=2)
    mass = float(env.sim.mass.sum())
    obs = env.reset()
    done, total, step = False, 0.0, 0
    while not done:
        com_x, vel_x = obs[0, 0], obs[0, 2]
        push = mass * (40.0 * (TARGET_X - com_x) - 10.0 * vel_x)     # PD law [N]
        obs, r, done, info = env.step(np.array([[push, 0.0]]))
        total += r
        step += 1
        print(f"action {step:2d}  t = {info['time']:.3f} s  push {push:+7.3f} N  com x {obs[0, 0]:.3f} m  reward {r:+.3f}")
    print(f"return {total:.3f}; final distance to target {abs(obs[0, 0] - TARGET_X):.3f} m")
    start_distance = abs(0.25 - TARGET_X)
    if not abs(obs[0, 0] - TARGET_X) < 0.7 * start_distance:
        raise SystemExit("the controller did not move the block toward the target")


if __name__ == "__main__":
    main()
