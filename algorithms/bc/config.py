"""Behavioural cloning configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BCConfig:
    hidden: tuple[int, ...] = (64,)
    """Hidden layer widths of the policy network; () is a linear (for one-hot: tabular) policy."""
    lr: float = 3e-3
    """Adam learning rate."""
    weight_decay: float = 0.0
    """AdamW decoupled weight decay."""
    batch_size: int = 512
    """Demonstration transitions per gradient step."""
    train_steps: int = 2_000
    """Gradient steps over the demonstrations."""
    ent_weight: float = 0.0
    """Weight of the policy-entropy bonus added to the log-likelihood (imitation's ent_weight)."""
    greedy: bool | None = None
    """Deploy the most likely action (argmax; a Gaussian's mean) instead of sampling the learned
    distribution. None: the mean for Box actions (sampling the fitted Gaussian adds noise the expert
    never had: InvertedDoublePendulum-v5 seed 0, 3,149 greedy against 1,260 sampled), sampling for
    Discrete ones."""
    log_every: int = 200
    """Gradient steps between logged losses."""
    device: str = "cpu"
    """Torch device for the network ("auto": the GPU when there is one)."""

    def __post_init__(self) -> None:
        if any(width < 1 for width in self.hidden):
            raise ValueError(f"hidden widths must be >= 1, got {self.hidden}")
        if self.lr <= 0 or self.batch_size < 1 or self.train_steps < 0 or self.log_every < 1:
            raise ValueError(
                f"need lr > 0, batch_size >= 1, train_steps >= 0, log_every >= 1; got lr={self.lr}, "
                f"batch_size={self.batch_size}, train_steps={self.train_steps}, log_every={self.log_every}"
            )
        if self.ent_weight < 0 or self.weight_decay < 0:
            raise ValueError(f"ent_weight and weight_decay must be >= 0, got {self.ent_weight}, {self.weight_decay}")
