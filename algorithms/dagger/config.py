"""DAgger configuration: behavioural cloning's fields plus the aggregation schedule."""

from __future__ import annotations

from dataclasses import dataclass

from lfo_ray.algorithms.bc.config import BCConfig


@dataclass(frozen=True)
class DAggerConfig(BCConfig):
    rounds: int = 8
    """Aggregation rounds after the initial behavioural cloning on the demonstrations."""
    num_envs: int = 64
    """Parallel environments stepped by the rollout policy."""
    steps_per_round: int = 100
    """Vector-env steps per round (num_envs transitions each), all labelled by the expert."""
    beta: float = 0.5
    """Round i acts with the expert with probability beta**i, else with the learner."""
    round_train_steps: int = 500
    """Gradient steps on the aggregated dataset after each round."""
    curve_episodes: int = 100
    """Evaluation episodes after each round for the learning curve (not counted as env steps)."""
    expert: str = "expert"
    """The labeller: "expert" (the env's shipped expert, or one registered in Python with
    lfo_ray.envs.experts.register_expert), a run directory of `lfo train`, or 'module:callable'
    (a function or object mapping an observation batch to an action batch)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rounds < 0 or self.num_envs < 1 or self.steps_per_round < 1 or self.round_train_steps < 0:
            raise ValueError(
                f"need rounds >= 0, num_envs >= 1, steps_per_round >= 1, round_train_steps >= 0; got "
                f"{self.rounds}, {self.num_envs}, {self.steps_per_round}, {self.round_train_steps}"
            )
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], got {self.beta}")
