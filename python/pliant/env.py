"""A gym-style environment over any scene, for training policies.

    env = pliant.Env(scene, reward=lambda sim: -abs(sim.x[:, 0].mean() - 0.7), max_steps=50)
    obs = env.reset()
    done = False
    while not done:
        obs, reward, done, info = env.step(policy(obs))

Actions (for now; tool actions arrive with tools, issue 6): one external force
per body [N], shape (num_bodies, dim), held for `substeps_per_action`
substeps and spread over each body's particles in proportion to mass, so each
body receives exactly that total force.

Observation: per body, its centre of mass [m] and mean velocity [m/s], shape
(num_bodies, 2 * dim), float64.  Pass `observe=callable(sim)` for another.

The classic gym API (reset() -> obs; step() -> obs, reward, done, info): an
episode ends after `max_steps` actions, or when the simulation fails
(SimulationError), which ends the episode with info["error"] set and reward
`failure_reward`.  No gym/gymnasium import is needed; `action_shape` and
`observation_shape` describe the spaces.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from ._pliant import SimulationError
from .scene import Scene
from .simulation import Simulation


class Env:
    """Gym-style environment: reset() -> obs; step(action) -> (obs, reward, done, info).

    scene: a Scene (or a path); simulation: keyword arguments for Simulation
        (backend, threads, dtype).
    reward: callable(sim) -> float, evaluated after each action (default 0.0).
    max_steps: actions per episode (default: the scene's `frames`).
    substeps_per_action: substeps per action (default: the scene's `substeps_per_frame`).
    """

    def __init__(self, scene: Any, reward: Optional[Callable[[Simulation], float]] = None,
                 max_steps: Optional[int] = None, substeps_per_action: Optional[int] = None,
                 observe: Optional[Callable[[Simulation], np.ndarray]] = None, failure_reward: float = -1.0,
                 **simulation: Any):
        self.sim = Simulation(scene if isinstance(scene, Scene) else Scene.load(scene), **simulation)
        self.reward_fn = reward
        self.observe_fn = observe
        self.max_steps = int(max_steps if max_steps is not None else self.sim.scene.frames)
        self.substeps_per_action = int(substeps_per_action if substeps_per_action is not None
                                       else self.sim.scene.substeps_per_frame)
        if self.max_steps < 1 or self.substeps_per_action < 1:
            raise ValueError("Env: max_steps and substeps_per_action must be >= 1")
        self.failure_reward = float(failure_reward)
        self.action_shape: Tuple[int, int] = (len(self.sim.bodies), self.sim.dim)
        self.observation_shape = self._observe().shape
        self._steps = 0
        self._done = True

    def reset(self) -> np.ndarray:
        """Starts an episode from the scene's initial state; returns the observation."""
        self.sim.reset()
        self.sim.set_external_forces(None)
        self._steps = 0
        self._done = False
        return self._observe()

    def step(self, action: Any) -> Tuple[np.ndarray, float, bool, Dict[str, Any]]:
        """Applies per-body forces [N] (shape action_shape) for substeps_per_action substeps."""
        if self._done:
            raise RuntimeError("Env.step: the episode is over; call reset()")
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.action_shape:
            raise ValueError(f"Env.step: expected an action of shape {self.action_shape} "
                             f"(one force [N] per body), got {action.shape}")
        self.sim.set_body_forces(action)
        info: Dict[str, Any] = {"time": None}
        try:
            self.sim.step(self.substeps_per_action)
        except SimulationError as err:
            self._done = True
            info.update(error=str(err), time=self.sim.time)
            return self._observe(), self.failure_reward, True, info
        self._steps += 1
        self._done = self._steps >= self.max_steps
        info["time"] = self.sim.time
        reward = float(self.reward_fn(self.sim)) if self.reward_fn else 0.0
        return self._observe(), reward, self._done, info

    def _observe(self) -> np.ndarray:
        if self.observe_fn is not None:
            return np.asarray(self.observe_fn(self.sim))
        sim = self.sim
        mass = np.asarray(sim.mass, dtype=np.float64)
        body = np.asarray(sim.body)
        nb = len(sim.bodies)
        total = np.bincount(body, weights=mass, minlength=nb)
        obs = np.empty((nb, 2 * sim.dim))
        for a in range(sim.dim):
            obs[:, a] = np.bincount(body, weights=mass * sim.x[:, a], minlength=nb) / total
            obs[:, sim.dim + a] = np.bincount(body, weights=mass * sim.v[:, a], minlength=nb) / total
        return obs
