"""The few interfaces every lfo-ray component implements; nothing else lives here.

Concrete classes: RolloutWorker (lfo_ray.rollout), ReplayBuffer (lfo_ray.replay), TorchLearner
subclasses (lfo_ray.learner and each algorithm). They are plain Python classes; lfo_ray.placement
puts them in this process or behind a Ray actor without changing their code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from lfo_ray.batch import SampleBatch
    from lfo_ray.rollout import RolloutStats


@runtime_checkable
class Policy(Protocol):
    """Maps a batch of observations (B, *obs_shape) to a batch of actions (B, ...).

    Policies handed to evaluation act as they would be deployed (greedy where that applies).
    """

    def act(self, obs: np.ndarray) -> np.ndarray: ...


class ActingPolicy(Policy, Protocol):
    """A policy that rollout workers rebuild from published weights."""

    def set_weights(self, weights: Any) -> None: ...


class WeightSource(Protocol):
    """Something whose current weights the acting policies need (a learner)."""

    def get_weights(self) -> Any: ...


class Replay(Protocol):
    """Bounded store of online transitions fed by rollout workers, sampled by learners."""

    def add(self, batch: "SampleBatch") -> int: ...

    def sample(self, batch_size: int) -> "SampleBatch": ...


class Learner(WeightSource, Protocol):
    """Owns models and optimisers; one call = one gradient step on a batch."""

    def update(self, batch: "SampleBatch") -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class RolloutSource(Protocol):
    """Steps environments with the acting policy and hands transitions on in batches."""

    def sample(self, num_steps: int, weights: Any = None) -> tuple["SampleBatch", "RolloutStats"]: ...

    def sample_into(self, replay: Any, num_steps: int, weights: Any = None) -> "RolloutStats": ...
