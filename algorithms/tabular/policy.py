"""A stationary policy over a discrete state space: the "table" architecture of lfo_ray.policy.

The table holds log-probabilities (S, A), so the shared `Policy` treats it like any network's
logits: argmax when greedy (ties: lowest action), sampling otherwise.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from lfo_ray.data.parquet import atomic_write
from lfo_ray.policy import Policy, PolicySpec, register_architecture


class LogProbTable(nn.Module):
    """Action log-probabilities (B, A) of states (B,) int64, read from an (S, A) table."""

    def __init__(self, observation_space: gym.spaces.Discrete, action_space: gym.spaces.Discrete) -> None:
        super().__init__()
        if not isinstance(observation_space, gym.spaces.Discrete):
            raise ValueError(f"a table policy needs a Discrete observation space, got {observation_space}")
        self.start = int(observation_space.start)
        uniform = torch.full((int(observation_space.n), int(action_space.n)), -np.log(int(action_space.n)),
                             dtype=torch.float64)
        self.register_buffer("log_probs", uniform)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.log_probs[states.long() - self.start]


register_architecture("table", LogProbTable)


def table_policy(probs: np.ndarray, greedy: bool = True, seed: int | None = None) -> Policy:
    """The Policy acting by the (S, A) action probabilities `probs` (rows summing to 1)."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(f"probs must be (S, A) rows summing to 1, got shape {probs.shape}")
    spec = PolicySpec("table", gym.spaces.Discrete(probs.shape[0]), gym.spaces.Discrete(probs.shape[1]),
                      greedy=greedy)
    table = spec.build()
    with np.errstate(divide="ignore"):
        table.log_probs.copy_(torch.from_numpy(np.log(probs)))
    return Policy(table, spec, seed)


def deployed_probs(policy: Policy) -> np.ndarray:
    """(S, A) the distribution a policy over Discrete(S) acts by in every state."""
    space = policy.observation_space
    return policy.probs(np.arange(space.start, space.start + space.n))


def save_array(path: Path, array: np.ndarray) -> None:
    """Writes `array` as .npy at `path` atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            np.save(handle, np.asarray(array))

    atomic_write(path, write)
