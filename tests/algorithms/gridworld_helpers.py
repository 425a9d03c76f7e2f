"""Shared pieces of the GridWorld learning tests: train through `train_run`, score exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lfo_ray import algorithms
from lfo_ray.algorithms.tabular import TabularModel, TabularPolicy, expected_return
from lfo_ray.envs import GRIDWORLD
from lfo_ray.experiment import CHECKPOINT_DIR, train_run

from tests.conftest import DEMOS

DETERMINISTIC_DEMOS = DEMOS / "GridWorld-v0.parquet"
NOISY_DEMOS = DEMOS / "GridWorld-v0-noisy.parquet"


def train_and_score(algo: str, out: Path, overrides: dict[str, Any], noisy: bool = False,
                    seed: int = 0) -> tuple[dict[str, Any], float]:
    """Trains `algo` on the shipped demonstrations; returns result.json's dict and the exact
    return of the policy reloaded from its checkpoint."""
    env_kwargs = {"transition_prob": True} if noisy else {}
    demos = NOISY_DEMOS if noisy else DETERMINISTIC_DEMOS
    result = train_run(algo, GRIDWORLD, demos, seed, out, overrides, env_kwargs, eval_episodes=64,
                       placement="local", progress=False)
    policy = algorithms.get(algo).load_policy(out / CHECKPOINT_DIR)
    model = TabularModel.from_env_kwargs(env_kwargs)
    if isinstance(policy, TabularPolicy):
        probs = policy.deployed_probs()
    else:
        probs = policy.probs(np.arange(model.num_states))
    return result, expected_return(model, probs)
