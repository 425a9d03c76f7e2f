"""A stationary policy over a discrete state space stored as a table of action probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lfo_ray.data.parquet import atomic_write

POLICY_TABLE = "policy_probs.npy"
POLICY_INFO = "policy.json"


class TabularPolicy:
    """probs: (S, A) action probabilities. Greedy policies act by argmax (ties: lowest action);
    stochastic ones sample from the table with their own generator."""

    def __init__(self, probs: np.ndarray, greedy: bool = True, seed: int | None = None) -> None:
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 2 or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError(f"probs must be (S, A) rows summing to 1, got shape {probs.shape}")
        self.probs = probs
        self.greedy = greedy
        self.table = probs.argmax(axis=1)
        self.cumulative = probs.cumsum(axis=1)
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        states = np.asarray(obs, dtype=np.int64)
        if self.greedy:
            return self.table[states]
        draws = self.rng.random(states.shape)[..., None]
        return np.minimum((draws > self.cumulative[states]).sum(axis=-1), self.probs.shape[1] - 1)

    def deployed_probs(self) -> np.ndarray:
        """(S, A) the distribution `act` draws from: one-hot rows when greedy."""
        if not self.greedy:
            return self.probs
        return np.eye(self.probs.shape[1])[self.table]


def save_array(path: Path, array: np.ndarray) -> None:
    """Writes `array` as .npy at `path` atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            np.save(handle, np.asarray(array))

    atomic_write(path, write)


def save_table_policy(policy: TabularPolicy, directory: Path) -> None:
    save_array(directory / POLICY_TABLE, policy.probs)
    info = json.dumps({"greedy": policy.greedy})
    atomic_write(directory / POLICY_INFO, lambda tmp: Path(tmp).write_text(info))


def load_table_policy(directory: Path) -> TabularPolicy:
    directory = Path(directory)
    if not (directory / POLICY_TABLE).exists():
        raise FileNotFoundError(f"{directory / POLICY_TABLE}: no saved table policy")
    info = json.loads((directory / POLICY_INFO).read_text())
    return TabularPolicy(np.load(directory / POLICY_TABLE), greedy=bool(info["greedy"]))
