"""ILPO's losses and remapping labels as pure functions of tensors (no networks, no Ray)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def lpn_terms(obs: torch.Tensor, next_obs: torch.Tensor, deltas: torch.Tensor,
              latent_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The two LPN terms and the (B, Z) per-latent squared errors.

    obs, next_obs: (B, *obs_shape); deltas: (B, Z, *obs_shape) predicted s' - s per latent action;
    latent_logits: (B, Z) of pi(z|s). Errors are squared L2 norms summed over the observation.

        min term:      mean_b min_z ||s + delta_z - s'||^2                     trains the generator
        expected term: mean_b ||sum_z pi(z|s) stopgrad(s + delta_z) - s'||^2   trains the policy

    The stop-gradient keeps the expectation from pulling every delta_z towards s' (which would
    collapse the latent actions onto one average); the policy has no part in the min term.
    """
    target = (next_obs - obs).flatten(1)
    predicted = deltas.flatten(2)
    errors = (predicted - target[:, None]).pow(2).sum(-1)
    min_term = errors.min(dim=1).values.mean()
    probs = latent_logits.softmax(dim=-1)
    expected = (probs[..., None] * predicted.detach()).sum(dim=1)
    expected_term = (expected - target).pow(2).sum(-1).mean()
    return min_term, expected_term, errors


def lpn_loss(obs: torch.Tensor, next_obs: torch.Tensor, deltas: torch.Tensor,
             latent_logits: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """min term + expected term (see `lpn_terms`), and figures to log: both terms, the latent
    policy's entropy and the share of the most used latent action (near 1: collapsed latents)."""
    min_term, expected_term, errors = lpn_terms(obs, next_obs, deltas, latent_logits)
    probs = latent_logits.softmax(dim=-1)
    entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
    usage = F.one_hot(errors.argmin(dim=1), errors.shape[1]).float().mean(0)
    metrics = {
        "lpn_min": min_term.item(),
        "lpn_expected": expected_term.item(),
        "latent_entropy": entropy.item(),
        "latent_usage_max": usage.max().item(),
    }
    return min_term + expected_term, metrics


def closest_latent(predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
    """(B,) int64 argmin_z ||predicted[b, z] - actual[b]||: the latent action whose predicted next
    state (or its encoding) is nearest to what really happened.

    predicted: (B, Z, ...); actual: (B, ...) of the same trailing shape.
    """
    distances = (predicted.flatten(2) - actual.flatten(1)[:, None]).pow(2).sum(-1)
    return distances.argmin(dim=1)


def arn_loss(logits: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy of the real actions taken under the ARN's pi(a | s, z_min).

    logits: (B, A); actions: (B,) int64.
    """
    loss = F.cross_entropy(logits, actions)
    accuracy = (logits.argmax(dim=-1) == actions).float().mean()
    return loss, {"arn": loss.item(), "arn_accuracy": accuracy.item()}
