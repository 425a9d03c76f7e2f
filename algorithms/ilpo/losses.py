"""ILPO's losses and remapping labels as pure functions of tensors (no networks, no Ray)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

POLICY_TERMS = ("expected", "assignment")


def lpn_terms(target: torch.Tensor, deltas: torch.Tensor,
              latent_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The two LPN terms and the (B, Z) per-latent squared errors.

    target: (B, *obs_shape) the observed change d = s' - s (or its standardised form: any fixed
    affine map of s' - s per dimension); deltas: (B, Z, *obs_shape) the predicted change per latent
    action, in the same space; latent_logits: (B, Z) of pi(z|s). Errors are squared L2 norms summed
    over the observation (||s + delta_z - s'|| = ||delta_z - d||).

        min term:      mean_b min_z ||delta_z - d||^2                     trains the generator
        expected term: mean_b ||sum_z pi(z|s) stopgrad(delta_z) - d||^2   trains the policy

    The stop-gradient keeps the expectation from pulling every delta_z towards s' (which would
    collapse the latent actions onto one average); the policy has no part in the min term.
    """
    target = target.flatten(1)
    predicted = deltas.flatten(2)
    errors = (predicted - target[:, None]).pow(2).sum(-1)
    min_term = errors.min(dim=1).values.mean()
    probs = latent_logits.softmax(dim=-1)
    expected = (probs[..., None] * predicted.detach()).sum(dim=1)
    expected_term = (expected - target).pow(2).sum(-1).mean()
    return min_term, expected_term, errors


def assignment_term(errors: torch.Tensor, latent_logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of pi(z|s) against z_min = argmin_z errors[b, z], the latent whose prediction
    explains the transition: pi learns how often each latent explains s' from s, so its argmax is
    the demonstrator's most frequent latent action. The expected term cannot tell that apart when
    the latents' predicted changes are collinear (MountainCar's and Acrobot's push left / none /
    right: 1/2 left + 1/2 right matches "none" exactly). The generator gets no gradient from it."""
    return F.cross_entropy(latent_logits, errors.detach().argmin(dim=1))


def lpn_loss(target: torch.Tensor, deltas: torch.Tensor, latent_logits: torch.Tensor,
             policy_term: str = "expected") -> tuple[torch.Tensor, dict[str, float]]:
    """min term + the latent policy's term: the expected term (see `lpn_terms`, the paper's) or
    the assignment term (see `assignment_term`); and figures to log: the terms, the latent
    policy's entropy and the share of the most used latent action (near 1: collapsed latents)."""
    min_term, expected_term, errors = lpn_terms(target, deltas, latent_logits)
    probs = latent_logits.softmax(dim=-1)
    entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
    usage = F.one_hot(errors.argmin(dim=1), errors.shape[1]).float().mean(0)
    assignment = assignment_term(errors, latent_logits)
    metrics = {
        "lpn_min": min_term.item(),
        "lpn_expected": expected_term.item(),
        "lpn_assignment": assignment.item(),
        "latent_entropy": entropy.item(),
        "latent_usage_max": usage.max().item(),
    }
    if policy_term not in POLICY_TERMS:
        raise ValueError(f"policy_term must be one of {POLICY_TERMS}, got {policy_term!r}")
    return min_term + (expected_term if policy_term == "expected" else assignment), metrics


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
