"""Behavioural cloning losses: negative log-likelihood of the demonstrator's actions, under a
categorical policy (Discrete actions) or a diagonal Gaussian over normalised actions (Box)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from lfo_ray.distributions import gaussian_entropy, gaussian_log_prob


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


def gaussian_bc_loss(mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor,
                     ent_weight: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean -log N(a; mean, std^2) - ent_weight * H over a batch, in normalised action units.

    mean, log_std: (B, D) from the policy; actions: (B, D) demonstrated actions mapped to [-1, 1]
    (lfo_ray.distributions.ActionBounds). Returns the loss and its parts (neglogp, entropy, and
    mse: the mean's squared error per action dimension, what the greedy policy gets wrong).
    """
    neglogp = -gaussian_log_prob(mean, log_std, actions).mean()
    entropy = gaussian_entropy(log_std).mean()
    loss = neglogp - ent_weight * entropy
    mse = (mean - actions).pow(2).mean()
    return loss, {"neglogp": neglogp.item(), "entropy": entropy.item(), "mse": mse.item()}
