"""Shared pieces of the GridWorld learning tests: train through `train_run`, score exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lfo_ray import load_policy
from lfo_ray.algorithms.tabular import TabularModel, deployed_probs, expected_return
from lfo_ray.envs import GRIDWORLD
from lfo_ray.experiment import train_run

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
    model = TabularModel.from_env_kwargs(env_kwargs)
    return result, expected_return(model, deployed_probs(load_policy(out)))
