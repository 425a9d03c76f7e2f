"""BCO's losses and label inference, as pure functions of tensors."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def inverse_dynamics_loss(logits: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean -log p(a | s, s') of the actions the agent took.

    logits: (B, A) inverse-model logits for the agent's (s, s'); actions: (B,) int64.
    Returns the loss and {"inverse_loss", "inverse_accuracy"} (argmax == the action taken).
    """
    loss = F.cross_entropy(logits, actions)
    accuracy = (logits.argmax(dim=-1) == actions).float().mean()
    return loss, {"inverse_loss": loss.item(), "inverse_accuracy": accuracy.item()}


def infer_actions(logits: torch.Tensor) -> torch.Tensor:
    """The expert's actions as BCO labels them: the most likely action under p(a | s, s').

    logits: (N, A) inverse-model logits for expert pairs -> (N,) int64.
    """
    return logits.argmax(dim=-1)


def behavioural_cloning_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean -log pi(a~ | s) of the inferred labels a~ on expert states.

    logits: (B, A) policy logits; labels: (B,) int64 from `infer_actions`.
    Returns the loss and {"policy_loss", "policy_accuracy", "policy_entropy"}.
    """
    log_probs = F.log_softmax(logits, dim=-1)
    loss = F.nll_loss(log_probs, labels)
    entropy = -(log_probs.exp() * log_probs).sum(dim=-1).mean()
    accuracy = (logits.argmax(dim=-1) == labels).float().mean()
    return loss, {"policy_loss": loss.item(), "policy_accuracy": accuracy.item(),
                  "policy_entropy": entropy.item()}
