"""Expert policies for every shipped environment, produced by lfo-ray's own code.

GridWorld's expert is value iteration on the known model (optimal). The classic-control experts
are small networks trained by experiments/train_experts.py and shipped as weights in
envs/experts/; `expert_info(env_id)` says how each was made and what it scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lfo_ray.envs import GRIDWORLD


@dataclass(frozen=True)
class TablePolicy:
    """Greedy policy over a discrete state space: action = table[state]."""

    table: np.ndarray

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.table[np.asarray(obs, dtype=np.int64)]


def gridworld_expert(**env_kwargs: Any) -> TablePolicy:
    from lfo_ray.envs.gridworld import make_spec, value_iteration

    spec = make_spec(env_kwargs.get("seed"), env_kwargs.get("world"), env_kwargs.get("size", 50))
    _, greedy = value_iteration(spec, gamma=0.999,
                                transition_prob=bool(env_kwargs.get("transition_prob", False)))
    return TablePolicy(greedy)


def load_expert(env_id: str, **env_kwargs: Any):
    """The expert Policy of `env_id` (built with the same env kwargs as the env)."""
    if env_id == GRIDWORLD:
        return gridworld_expert(**env_kwargs)
    raise ValueError(f"no expert for environment {env_id!r}")


def expert_source(env_id: str) -> str:
    """How the expert was made, as recorded in dataset metadata."""
    if env_id == GRIDWORLD:
        return "expert:value-iteration"
    raise ValueError(f"no expert for environment {env_id!r}")
