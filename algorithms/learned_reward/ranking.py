"""The candidate next states S_t of eq. 20: every state the agent could reach from s_t, one per action.

For the classic-control environments the observation determines the simulator state, so each
candidate is computed exactly by setting the state and stepping the unwrapped env with each action.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


SUCCESSOR_ENVS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")


def has_successor_model(env_id: str) -> bool:
    """Whether eq. 20's candidate next states can be computed for `env_id`."""
    return env_id in SUCCESSOR_ENVS


def _state_from_obs(env_id: str, obs: np.ndarray) -> np.ndarray:
    if env_id in ("CartPole-v1", "MountainCar-v0"):
        return obs.astype(np.float64)
    if env_id == "Acrobot-v1":
        return np.array([np.arctan2(obs[1], obs[0]), np.arctan2(obs[3], obs[2]), obs[4], obs[5]])
    raise ValueError(f"no successor model for {env_id!r}: eq. 20 needs CartPole-v1, Acrobot-v1 or MountainCar-v0")


def action_successors(env_id: str, obs: np.ndarray) -> np.ndarray:
    """(B, A, D) the next observation from each row of obs (B, D) under each of the A actions."""
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    num_actions = int(env.action_space.n)
    out = np.empty((len(obs), num_actions, obs.shape[1]), dtype=np.float32)
    for row, o in enumerate(obs):
        state = _state_from_obs(env_id, o)
        for action in range(num_actions):
            env.state = state.copy()
            out[row, action] = env.step(action)[0]
    env.close()
    return out


def true_candidate(candidates: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    """(B,) index of the candidate closest to the recorded next observation (the action taken)."""
    return np.linalg.norm(candidates - next_obs[:, None, :], axis=-1).argmin(1)
