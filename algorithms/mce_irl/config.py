"""Maximum causal entropy IRL configuration: MaxEnt IRL's fields plus the discount and the sweeps."""

from __future__ import annotations

from dataclasses import dataclass

from lfo_ray.algorithms.maxent_irl.config import MaxEntIRLConfig


@dataclass(frozen=True)
class MCEIRLConfig(MaxEntIRLConfig):
    greedy: bool = True
    """Deploy the argmax of the soft action values instead of sampling the soft policy."""
    gamma: float = 0.99
    """Discount of the soft Bellman equation and of the matched feature counts."""
    sweeps: int = 100
    """Most soft value iteration sweeps per gradient step, warm-started from the last values."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.gamma < 1.0:
            raise ValueError(f"gamma must be in (0, 1), got {self.gamma}")
        if self.sweeps < 1:
            raise ValueError(f"need sweeps >= 1, got {self.sweeps}")
