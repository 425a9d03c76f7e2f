"""Relative entropy IRL configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelEntIRLConfig:
    features: str = "onehot"
    """State features phi(s) of the linear reward (lfo_ray.algorithms.tabular.FEATURES)."""
    gamma: float = 0.99
    """Discount of the trajectory features f(tau) = sum_t gamma^t phi(s_{t+1})."""
    num_samples: int = 5_000
    """Trajectories sampled once from the environment with the sampling policy."""
    sampling_probs: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)
    """Action distribution of the state-independent sampling policy pi. The baseline policy is
    uniform; samples are reweighted by U(tau) / pi(tau), so any pi with full support works."""
    rounds: int = 1
    """Sampling rounds. Round 0 samples with sampling_probs; every later round samples with
    the soft-optimal policy of the current reward (mixed with sampling_probs by sampler_mix)
    and all rounds' samples are pooled, reweighted to the baseline by multiple importance
    sampling. 1: the paper's single fixed sample."""
    sampler_mix: float = 0.1
    """Weight of sampling_probs in the adaptive samplers of rounds >= 1 (keeps full support)."""
    match_starts: bool = True
    """Condition P on the first state: normalise the importance weights among the samples of
    each start and mix the starts by the demonstrations' empirical start frequencies (samples
    from starts the demonstrations never used get weight 0; demonstrations from starts no
    sample shares are left out of the matched counts). False: one softmax over all samples."""
    delta: float = 1e-4
    """Confidence parameter of the Hoeffding bound that sets the L1 slack epsilon_i."""
    iterations: int = 150
    """Gradient steps on the dual of the relative entropy problem."""
    lr: float = 0.1
    """Adam step size on the reward weights (gradient ascent on the dual)."""
    plan_gamma: float = 0.99
    """Discount of the value iteration that derives the policy from the learned reward."""
    goal_margin: float = 1.0
    """When deriving the policy, the goal's reward is raised to max(reward) + goal_margin: the
    demonstrations end at the goal and stay there, which no reward with a better state
    elsewhere would explain (negative: keep the learned goal reward)."""
    greedy: bool = True
    """Deploy the greedy policy of the learned reward (hard value iteration) instead of
    sampling its soft-optimal policy."""
    eval_every: int = 50
    """Iterations between exact evaluations of the derived policy (tensorboard only)."""
    device: str = "auto"
    """Torch device for the array computations ("auto": the GPU when there is one)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.gamma <= 1.0 or not 0.0 < self.plan_gamma < 1.0:
            raise ValueError(f"need 0 < gamma <= 1 and 0 < plan_gamma < 1, got {self.gamma}, {self.plan_gamma}")
        if min(self.sampling_probs, default=0.0) <= 0.0 or abs(sum(self.sampling_probs) - 1.0) > 1e-6:
            raise ValueError(f"sampling_probs must be positive and sum to 1, got {self.sampling_probs}")
        if not 0.0 < self.delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {self.delta}")
        if self.rounds < 1 or not 0.0 < self.sampler_mix <= 1.0:
            raise ValueError(f"need rounds >= 1 and 0 < sampler_mix <= 1, got {self.rounds}, {self.sampler_mix}")
        if self.num_samples < 1 or self.iterations < 0 or self.lr <= 0 or self.eval_every < 1:
            raise ValueError(
                f"need num_samples >= 1, iterations >= 0, lr > 0, eval_every >= 1; got "
                f"{self.num_samples}, {self.iterations}, {self.lr}, {self.eval_every}"
            )
