"""Maximum Entropy IRL configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MaxEntIRLConfig:
    features: str = "onehot"
    """State features phi(s) of the linear reward (lfo_ray.algorithms.tabular.FEATURES)."""
    iterations: int = 150
    """Gradient steps on the reward weights; each re-plans on the current reward and recounts the
    visitations (MaxEnt: one backward and one forward pass)."""
    lr: float = 0.5
    """Adam step size on the reward weights (gradient ascent on the demonstrations' log-likelihood)."""
    l2: float = 0.0
    """L2 penalty on the reward weights."""
    greedy: bool = False
    """Deploy the most likely action of the learned policy instead of sampling it."""
    eval_every: int = 25
    """Iterations between exact evaluations of the current policy (tensorboard only)."""
    device: str = "auto"
    """Torch device for the array computations ("auto": the GPU when there is one)."""

    def __post_init__(self) -> None:
        if self.iterations < 0 or self.lr <= 0 or self.l2 < 0 or self.eval_every < 1:
            raise ValueError(
                f"need iterations >= 0, lr > 0, l2 >= 0, eval_every >= 1; got {self.iterations}, "
                f"{self.lr}, {self.l2}, {self.eval_every}"
            )
