"""The gym-style environment: shapes, episode bookkeeping and that actions are
forces on bodies (a force equal to the weight holds a body against gravity)."""
import numpy as np
import pytest

import pliant


def falling_scene():
    return (pliant.SceneBuilder(dim=2, dx=1 / 32, size=1.0, dt=1e-3, substeps_per_frame=10, frames=5,
                                gravity=(0, -9.81))
            .material("jelly", "fixed_corotated", E=5e3)
            .box("a", "jelly", lower=(0.2, 0.5), upper=(0.3, 0.6))
            .box("b", "jelly", lower=(0.6, 0.5), upper=(0.7, 0.6))
            .build())


def test_episode_and_forces():
    env = pliant.Env(falling_scene(), reward=lambda sim: float(sim.x[:, 1].mean()), threads=2)
    assert env.action_shape == (2, 2) and env.observation_shape == (2, 4)
    obs = env.reset()
    np.testing.assert_allclose(obs[:, 2:], 0)
    sim = env.sim
    weight = [float(sim.mass[sim.body == b].sum()) * 9.81 for b in range(2)]
    action = np.array([[0.0, weight[0]], [0.0, 0.0]])  # hold body a, let b fall
    done, count = False, 0
    while not done:
        obs, reward, done, info = env.step(action)
        count += 1
        assert isinstance(reward, float) and info["time"] == pytest.approx(count * 10 * 1e-3)
    assert count == 5
    t = 5 * 10 * 1e-3
    assert abs(obs[0, 3]) < 1e-3                             # held: no vertical velocity
    assert obs[1, 3] == pytest.approx(-9.81 * t, rel=1e-3)   # free fall
    with pytest.raises(RuntimeError, match="reset"):
        env.step(action)
    obs = env.reset()
    np.testing.assert_allclose(obs[:, 2:], 0)
    assert env.sim.external_forces() is None


def test_bad_actions():
    env = pliant.Env(falling_scene(), threads=2)
    env.reset()
    with pytest.raises(ValueError, match=r"action of shape \(2, 2\)"):
        env.step(np.zeros(2))


def test_failure_ends_the_episode():
    env = pliant.Env(falling_scene(), threads=2, failure_reward=-10.0)
    env.reset()
    obs, reward, done, info = env.step(np.array([[1e6, 0.0], [0.0, 0.0]]))  # flung out of the domain
    assert done and reward == -10.0 and "left the simulation domain" in info["error"]
    env.reset()
    obs, reward, done, info = env.step(np.zeros((2, 2)))
    assert "error" not in info
