"""On-policy rollouts that keep their time axis: what PPO's advantage recursion needs.

`RolloutWorker.sample` flattens its steps and drops autoreset rows, which suits a replay but not
GAE over (time, env). `SegmentWorker` is the same worker (same vector env, seeding, weight
versions) with one more method returning a time-major `Segment`; it also pushes the segment's
valid transitions to the shared replay in the same call, for the reward learner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lfo_ray.batch import SampleBatch
from lfo_ray.placement import Handle, resolve
from lfo_ray.rollout import RolloutWorker
from lfo_ray.runner import RolloutGroup

_ARRAYS = ("obs", "actions", "next_obs", "env_rewards", "terminated", "truncated", "valid")


@dataclass(frozen=True)
class Segment:
    """T vector steps of B sub-envs.

    obs, next_obs: (T, B, *obs_shape) in the env's dtype (float32 vectors, int64 Discrete ids); next_obs
    is the true successor (final observation when the episode ended). actions: (T, B) int64 ids, or
    (T, B, D) float32 Box actions as the policy gave them. env_rewards: (T, B) float32, the true reward, for
    reporting only. terminated, truncated, valid: (T, B) bool; rows with valid False are autoreset
    steps (not transitions) and are masked everywhere. episode_returns: true returns of the
    episodes that ended in this segment.
    """

    obs: np.ndarray
    actions: np.ndarray
    next_obs: np.ndarray
    env_rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray
    episode_returns: tuple[float, ...]

    def __post_init__(self) -> None:
        shape = self.valid.shape
        if len(shape) != 2:
            raise ValueError(f"valid must be (T, B), got shape {shape}")
        for name in _ARRAYS:
            if getattr(self, name).shape[:2] != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected {shape} + ...")
        if self.next_obs.shape != self.obs.shape:
            raise ValueError(f"next_obs shape {self.next_obs.shape} != obs shape {self.obs.shape}")

    @property
    def env_steps(self) -> int:
        return int(self.valid.sum())

    def transitions(self) -> SampleBatch:
        """The valid rows as a flat SampleBatch (what the replay stores)."""
        v = self.valid
        return SampleBatch(obs=self.obs[v], actions=self.actions[v], rewards=self.env_rewards[v],
                           next_obs=self.next_obs[v], terminated=self.terminated[v], truncated=self.truncated[v])

    @staticmethod
    def concat_envs(segments: list["Segment"]) -> "Segment":
        """Segments of equal T side by side: (T, B1 + B2 + ...)."""
        if len(segments) == 1:
            return segments[0]
        return Segment(*(np.concatenate([getattr(s, name) for s in segments], axis=1) for name in _ARRAYS),
                       episode_returns=tuple(r for s in segments for r in s.episode_returns))


class SegmentWorker(RolloutWorker):
    """A RolloutWorker that also returns time-major segments."""

    _pending_add = None

    def sample_segment(self, num_steps: int, weights: Any = None, replay: Handle | None = None) -> Segment:
        """Exactly `num_steps` vector steps with the acting policy; their transitions go to `replay`."""
        self.set_weights(weights)
        steps, returns = [], []
        for _ in range(num_steps):
            batch, _, ended_returns = self.step()
            steps.append(batch)
            returns.extend(float(r) for r in ended_returns)
        segment = Segment(
            obs=np.stack([b.obs for b in steps]),
            actions=np.stack([b.actions for b in steps]),
            next_obs=np.stack([b.next_obs for b in steps]),
            env_rewards=np.stack([b.rewards for b in steps]),
            terminated=np.stack([b.terminated for b in steps]),
            truncated=np.stack([b.truncated for b in steps]),
            valid=np.stack([b.valid for b in steps]),
            episode_returns=tuple(returns),
        )
        # The previous push is resolved now, not when it was made: the replay's add then overlaps
        # with this segment's sampling instead of delaying the learners (and its errors still surface).
        if self._pending_add is not None:
            resolve(self._pending_add)
        self._pending_add = replay.call("add", segment.transitions()) if replay is not None else None
        return segment


class SegmentGroup(RolloutGroup):
    """RolloutGroup's placement, weight publishing and merging, with SegmentWorkers."""

    worker_cls = SegmentWorker

    def sample_segments(self, num_steps: int, replay: Handle | None = None) -> list[Any]:
        """Futures of one segment per worker (num_steps vector steps each), sampled in parallel."""
        return [w.call("sample_segment", num_steps, self.weights, replay) for w in self.workers]
