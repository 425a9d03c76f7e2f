"""The few interfaces every lfo-ray component implements; nothing else lives here.

Policy and ActingPolicy are what rollout workers and evaluation act with (NumpyPolicy, the deployed
policies); Replay is what rollout workers push to and learners sample from (lfo_ray.replay.ReplayBuffer).
Components are plain Python classes; lfo_ray.placement puts them in this process or behind a Ray
actor without changing their code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from lfo_ray.batch import SampleBatch


@runtime_checkable
class Policy(Protocol):
    """Maps a batch of observations (B, *obs_shape) to a batch of actions (B, ...).

    Policies handed to evaluation act as they would be deployed (greedy where that applies).
    """

    def act(self, obs: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class ActingPolicy(Policy, Protocol):
    """A policy that rollout workers rebuild from published weights."""

    def set_weights(self, weights: Any) -> None: ...


@runtime_checkable
class Replay(Protocol):
    """Bounded store of online transitions fed by rollout workers, sampled by learners."""

    def add(self, batch: "SampleBatch") -> int: ...

    def sample(self, batch_size: int) -> "SampleBatch": ...
