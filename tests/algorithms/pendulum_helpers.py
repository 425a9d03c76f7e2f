"""InvertedPendulum-v5 (MuJoCo, Box actions) with a hand-written demonstrator, for the Box-action
tests of BC, BCO and DAgger.

The demonstrator is a linear controller, action = clip(obs @ K) into [-3, 3], whose gain K is the
first of a few candidates that holds the pole up for a whole 1,000-step episode while its actions
are perturbed by Gaussian noise (DART, Laskey et al. 2017): the perturbed demonstrations cover the
states around the balanced one that a learner drifts into, where the clean controller would keep
the pole so still (an angle spread of 0.001 rad) that any imitation error leaves what was shown.
The env receives the perturbed action; the recorded action is the controller's own (its label).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from lfo_ray.data import ObsDataset, write_dataset

PENDULUM = "InvertedPendulum-v5"
EPISODE_STEPS = 1000
NOISE = 0.3
"""Std of the Gaussian perturbation of the demonstrator's actions, in env units (bounds +-3)."""
# obs = (cart position, pole angle, cart velocity, pole angular velocity): pushing the cart towards
# the side the pole leans to rights it. Tried in order.
CANDIDATE_GAINS = ((0.3, 3.0, 0.3, 0.3), (0.5, 5.0, 0.5, 0.5), (1.0, 10.0, 1.0, 1.0), (1.0, 20.0, 2.0, 2.0))


class LinearController:
    """action = clip(obs @ gain) into the pendulum's bounds [-3, 3], for a batch of observations."""

    def __init__(self, gain) -> None:
        self.gain = np.asarray(gain, np.float64)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(obs) @ self.gain, -3.0, 3.0).astype(np.float32)[:, None]


def perturbed_episode(controller: LinearController, seed: int) -> dict[str, np.ndarray]:
    """One episode of the controller under NOISE: obs, next_obs, labels, rewards, terminated."""
    env = gym.make(PENDULUM)
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {"obs": [], "next_obs": [], "actions": [], "rewards": []}
    obs, _ = env.reset(seed=seed)
    terminated = truncated = False
    try:
        while not (terminated or truncated):
            label = controller.act(obs[None])[0]
            taken = np.clip(label + NOISE * rng.standard_normal(1), -3.0, 3.0).astype(np.float32)
            next_obs, reward, terminated, truncated, _ = env.step(taken)
            for name, value in (("obs", obs), ("next_obs", next_obs), ("actions", label), ("rewards", reward)):
                rows[name].append(value)
            obs = next_obs
    finally:
        env.close()
    return {**{name: np.asarray(values) for name, values in rows.items()}, "terminated": terminated}


def balancing_controller() -> LinearController:
    """The first candidate gain that keeps the pole up for a whole perturbed episode."""
    for gain in CANDIDATE_GAINS:
        controller = LinearController(gain)
        if len(perturbed_episode(controller, seed=123)["rewards"]) == EPISODE_STEPS:
            return controller
    raise AssertionError(f"no candidate gain balances {PENDULUM} under action noise {NOISE}")


def write_demos(path: Path, controller: LinearController, episodes: int = 4) -> Path:
    """`episodes` perturbed demonstrations (observations, labels, rewards) written with lfo_ray's
    Parquet writer."""
    runs = [perturbed_episode(controller, seed) for seed in range(episodes)]
    column = lambda name: np.concatenate([run[name] for run in runs])  # noqa: E731
    ends = np.concatenate([np.arange(len(run["rewards"])) == len(run["rewards"]) - 1 for run in runs])
    dones = ends & np.repeat([run["terminated"] for run in runs], [len(run["rewards"]) for run in runs])
    env = gym.make(PENDULUM)
    dataset = ObsDataset.from_arrays(
        column("obs").astype(np.float32), column("next_obs").astype(np.float32),
        episode_ids=np.repeat(np.arange(episodes), [len(run["rewards"]) for run in runs]),
        dones=dones, actions=column("actions"), rewards=column("rewards").astype(np.float32),
        env_id=PENDULUM, observation_space=env.observation_space, action_space=env.action_space,
        source=f"test:linear-controller+noise{NOISE}")
    env.close()
    return write_dataset(dataset, path)
