"""SampleBatch: the unit that crosses process boundaries (rollouts -> replay -> learners)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class SampleBatch:
    """N transitions as parallel numpy arrays (no per-transition Python objects).

    obs, next_obs: (N, *obs_shape); actions: (N, *act_shape); rewards: (N,) float32;
    terminated, truncated: (N,) bool — next_obs ended its episode by termination / time limit.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.obs)
        if self.next_obs.shape != self.obs.shape:
            raise ValueError(f"next_obs shape {self.next_obs.shape} != obs shape {self.obs.shape}")
        for name in ("actions", "rewards", "terminated", "truncated"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, obs has {n}")

    def __len__(self) -> int:
        return len(self.obs)

    def take(self, index: np.ndarray | slice) -> "SampleBatch":
        return SampleBatch(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    @staticmethod
    def concat(batches: Sequence["SampleBatch"]) -> "SampleBatch":
        if len(batches) == 1:
            return batches[0]
        return SampleBatch(*(
            np.concatenate([getattr(b, f.name) for b in batches])
            for f in dataclasses.fields(SampleBatch)
        ))

    def to_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
