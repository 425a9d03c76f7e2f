"""Normalisation anchors: a uniform-random policy's return and the expert's, per environment.

A score is normalised as (R - R_random) / (R_expert - R_random) (`lfo_ray.stats.normalized_return`),
so 0 is the random policy and 1 the expert. The random returns are measured once by
`experiments/random_returns.py` (a uniform policy over the action space, on the env's defaults)
and shipped in envs/anchors.json; the expert's return is the 100-episode evaluation of the shipped
expert (envs/experts/<env_id>.json). `lfo collect` copies both into the metadata of the data it
writes (`extra["anchors"]`), so a demonstration file carries its own anchors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

if TYPE_CHECKING:
    from lfo_ray.data import DatasetMetadata

ANCHORS_FILE = "anchors.json"
METADATA_KEY = "anchors"
"""Key of DatasetMetadata.extra that holds {"random": float, "expert": float} (either may be absent)."""
REGENERATE = "python experiments/random_returns.py --env {env_id}"


@dataclass(frozen=True)
class Anchors:
    """The two returns a normalised score is measured between."""

    random: float
    expert: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.random) and np.isfinite(self.expert)):
            raise ValueError(f"anchors must be finite, got random={self.random}, expert={self.expert}")
        if self.expert == self.random:
            raise ValueError(f"the expert's return equals the random policy's ({self.expert}): "
                             "nothing to normalise by")


def random_returns(env_id: str, episodes: int = 100, seed: int = 0, num_envs: int = 10,
                   env_kwargs: Mapping[str, Any] | None = None) -> np.ndarray:
    """Returns of `episodes` episodes of a uniform-random policy (seeded actions and resets)."""
    from lfo_ray.collect import RandomPolicy
    from lfo_ray.envs import make_vector_env
    from lfo_ray.rollout import evaluate_policy

    env = make_vector_env(env_id, min(num_envs, episodes), **dict(env_kwargs or {}))
    env.single_action_space.seed(seed)
    try:
        return evaluate_policy(RandomPolicy(env.single_action_space), env, episodes, seed)
    finally:
        env.close()


def shipped_random_returns() -> dict[str, dict[str, Any]]:
    """env id -> {"return_mean", "return_std", "episodes", "seed"} from envs/anchors.json."""
    path = resources.files("lfo_ray.envs") / ANCHORS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def random_return(env_id: str) -> float | None:
    """The shipped uniform-random return of `env_id` (its default parameters), None if unmeasured."""
    entry = shipped_random_returns().get(env_id)
    return None if entry is None else float(entry["return_mean"])


def expert_return(env_id: str) -> float | None:
    """The shipped expert's evaluated mean return, None when `env_id` has no expert file."""
    from lfo_ray.envs.experts import expert_files

    _, info = expert_files(env_id)
    if not info.is_file():
        return None
    value = json.loads(info.read_text()).get("evaluation", {}).get("mean_return")
    return None if value is None else float(value)


def known_anchors(env_id: str) -> dict[str, float]:
    """{"random": ..., "expert": ...} for what is known of `env_id` (possibly empty): the form
    stored in demonstration metadata."""
    values = {"random": random_return(env_id), "expert": expert_return(env_id)}
    return {name: value for name, value in values.items() if value is not None}


def resolve_anchors(env_id: str, metadata: DatasetMetadata | None = None,
                    random: float | None = None, expert: float | None = None) -> Anchors:
    """The anchors of `env_id`, each from the first source that has it: the value given, the
    demonstrations' metadata (`extra["anchors"]`), the shipped anchors, and for the expert last
    the demonstrations' own mean return when an expert made them without noise.

    Raises ValueError naming what is missing and how to supply it.
    """
    stored = dict((metadata.extra.get(METADATA_KEY) if metadata else None) or {})
    shipped = known_anchors(env_id)
    made_by_expert = metadata is not None and metadata.source.startswith("expert") and not metadata.noise
    demo_expert = metadata.return_mean if made_by_expert else None
    chosen = {
        "random": next((v for v in (random, stored.get("random"), shipped.get("random")) if v is not None), None),
        "expert": next((v for v in (expert, stored.get("expert"), shipped.get("expert"), demo_expert)
                        if v is not None), None),
    }
    for name, how in (("random", f"measure it with `{REGENERATE.format(env_id=env_id)}`"),
                      ("expert", "ship its expert in envs/experts/ or give demonstrations an expert made")):
        if chosen[name] is None:
            raise ValueError(f"{env_id}: no {name} return to normalise by; give it "
                             f"(--{name} {env_id}=RETURN) or {how}")
    return Anchors(float(chosen["random"]), float(chosen["expert"]))
