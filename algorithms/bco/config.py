"""BCO / BCO(alpha) configuration, and how the interaction budget is split between phases."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BCOConfig:
    budget: int = 1_000
    """Environment interactions used for learning, in total (evaluation episodes are not counted);
    1,000 is the budget of the ILPO paper's comparison."""
    alpha: float = 1.0
    """BCO(alpha): each post-demonstration iteration adds alpha x |pre-demonstration interactions|."""
    iterations: int = 9
    """Post-demonstration iterations; 0 (with alpha=0) is plain BCO: all the budget is random play.
    The default (100 random steps, then 9 x 100 with the policy) matters on MountainCar, where
    random play never leaves the valley: -100 against plain BCO's -165 at 1,000 interactions."""
    inverse_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the inverse dynamics model p(a | s, s')."""
    policy_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the policy pi(a | s)."""
    conv_channels: tuple[int, ...] = (16, 32)
    """Channels of the conv encoder used for image observations (stride-2 3x3 convolutions)."""
    inverse_lr: float = 1e-3
    """Adam learning rate of the inverse dynamics model."""
    policy_lr: float = 1e-3
    """Adam learning rate of the policy."""
    inverse_updates: int = 1_000
    """Inverse-model gradient steps per iteration (the model is warm-started across iterations)."""
    policy_updates: int = 2_000
    """Behavioural-cloning gradient steps per iteration, each time from a fresh policy (see
    BCOLearner.fit_policy). InvertedPendulum-v5, seeds 0-2: 1000/920/664 with 2,000, 991/99/617
    with 1,000."""
    batch_size: int = 128
    """Transitions per gradient step, for both models."""
    num_workers: int = 1
    """Rollout workers. Each steps one env, so every worker delivers exactly the steps it is asked for."""
    eval_episodes: int = 10
    """Greedy evaluation episodes after each iteration, for the learning curve (0: no curve)."""
    device: str | None = None
    """Torch device of the learner; None/"auto" picks CUDA where the cluster has a GPU (and asks Ray
    for one only then), else CPU."""
    sampling: str = "sync"
    """"sync": each phase samples, then the learner fits. "async" (lfo_ray.sampling): the workers
    sample the next phase with the current policy while the learner fits, so a phase's transitions
    are partly one policy older; sampling and learning overlap."""
    max_policy_lag: int = 1
    """sampling=async: no transition reaches the replay more than this many policy versions stale."""
    replay_shards: int = 1
    """Replay actors; rollout worker k adds to shard k mod replay_shards, the learner samples all."""

    def __post_init__(self) -> None:
        if self.budget < 1 or self.iterations < 0 or self.alpha < 0:
            raise ValueError(f"need budget >= 1, iterations >= 0, alpha >= 0; got budget={self.budget}, "
                             f"iterations={self.iterations}, alpha={self.alpha}")
        if (self.alpha == 0) != (self.iterations == 0):
            raise ValueError(f"alpha={self.alpha} with iterations={self.iterations}: plain BCO is alpha=0, "
                             "iterations=0; BCO(alpha) needs both > 0")
        widths = self.inverse_hidden + self.policy_hidden + self.conv_channels
        if any(width < 1 for width in widths):
            raise ValueError(f"layer widths must be >= 1, got inverse_hidden={self.inverse_hidden}, "
                             f"policy_hidden={self.policy_hidden}, conv_channels={self.conv_channels}")
        if self.inverse_lr <= 0 or self.policy_lr <= 0:
            raise ValueError(f"learning rates must be > 0, got {self.inverse_lr}, {self.policy_lr}")
        if min(self.inverse_updates, self.policy_updates, self.batch_size, self.num_workers) < 1:
            raise ValueError(
                f"need inverse_updates, policy_updates, batch_size, num_workers >= 1; got "
                f"{self.inverse_updates}, {self.policy_updates}, {self.batch_size}, {self.num_workers}")
        if self.sampling not in ("sync", "async"):
            raise ValueError(f"sampling must be 'sync' or 'async', got {self.sampling!r}")
        if self.max_policy_lag < 0 or self.replay_shards < 1:
            raise ValueError(f"need max_policy_lag >= 0 and replay_shards >= 1; got {self.max_policy_lag}, "
                             f"{self.replay_shards}")
        if self.eval_episodes < 0:
            raise ValueError(f"eval_episodes must be >= 0, got {self.eval_episodes}")
        interaction_schedule(self.budget, self.alpha, self.iterations)


def interaction_schedule(budget: int, alpha: float, iterations: int) -> tuple[int, ...]:
    """Environment steps per phase: the random pre-demonstration phase, then one entry per iteration.

    pre = round(budget / (1 + alpha * iterations)) and each iteration gets round(alpha * pre); the
    last iteration absorbs the rounding, so the entries sum to `budget` exactly.
    """
    pre = round(budget / (1 + alpha * iterations))
    if iterations == 0:
        return (budget,)
    step = round(alpha * pre)
    schedule = (pre,) + (step,) * (iterations - 1) + (budget - pre - step * (iterations - 1),)
    if min(schedule) < 1:
        raise ValueError(f"budget={budget} cannot give every phase of alpha={alpha}, iterations={iterations} "
                         f"at least one interaction: {schedule}")
    return schedule
