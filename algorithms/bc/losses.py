"""Behavioural cloning loss: negative log-likelihood of the demonstrator's actions."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def bc_loss(logits: torch.Tensor, actions: torch.Tensor, ent_weight: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean -log pi(a|s) - ent_weight * H(pi(.|s)) over a batch.

    logits: (B, A) policy logits; actions: (B,) int64 demonstrated actions.
    Returns the loss and its parts (neglogp, entropy, accuracy of the argmax).
    """
    log_probs = F.log_softmax(logits, dim=-1)
    neglogp = F.nll_loss(log_probs, actions)
    entropy = -(log_probs.exp() * log_probs).sum(dim=-1).mean()
    loss = neglogp - ent_weight * entropy
    accuracy = (logits.argmax(dim=-1) == actions).float().mean()
    return loss, {"neglogp": neglogp.item(), "entropy": entropy.item(), "accuracy": accuracy.item()}
