"""Maximum causal entropy IRL configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MCEIRLConfig:
    features: str = "onehot"
    """State features phi(s) of the linear reward (lfo_ray.algorithms.tabular.FEATURES)."""
    gamma: float = 0.99
    """Discount of the soft Bellman equation and of the matched feature counts."""
    iterations: int = 150
    """Gradient steps on the reward weights; each re-plans and recounts visitations."""
    sweeps: int = 100
    """Most soft value iteration sweeps per gradient step, warm-started from the last values."""
    lr: float = 0.5
    """Adam step size on the reward weights (gradient ascent on the causal log-likelihood)."""
    l2: float = 0.0
    """L2 penalty on the reward weights."""
    greedy: bool = True
    """Deploy the argmax of the soft action values instead of sampling the soft policy."""
    eval_every: int = 25
    """Iterations between exact evaluations of the current policy (tensorboard only)."""
    device: str = "auto"
    """Torch device for the array computations ("auto": the GPU when there is one)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.gamma < 1.0:
            raise ValueError(f"gamma must be in (0, 1), got {self.gamma}")
        if self.iterations < 0 or self.sweeps < 1 or self.lr <= 0 or self.l2 < 0 or self.eval_every < 1:
            raise ValueError(
                f"need iterations >= 0, sweeps >= 1, lr > 0, l2 >= 0, eval_every >= 1; got "
                f"{self.iterations}, {self.sweeps}, {self.lr}, {self.l2}, {self.eval_every}"
            )
