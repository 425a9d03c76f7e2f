"""BCO's losses and label inference, as pure functions of tensors.

An action head's output is categorical logits (B, A) for a Discrete action space, or a pair
(mean, log_std), each (B, D), of a Gaussian over actions normalised to [-1, 1] for a Box one
(lfo_ray.distributions.ActionBounds). `HEADS` holds each kind's three functions; the training loop
is the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch.nn import functional as F

from lfo_ray.algorithms.bc.losses import bc_loss, gaussian_bc_loss
from lfo_ray.distributions import gaussian_log_prob

Gaussian = tuple[torch.Tensor, torch.Tensor]


def inverse_dynamics_loss(logits: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean -log p(a | s, s') of the actions the agent took.

    logits: (B, A) inverse-model logits for the agent's (s, s'); actions: (B,) int64.
    Returns the loss and {"inverse_loss", "inverse_accuracy"} (argmax == the action taken).
    """
    loss = F.cross_entropy(logits, actions)
    accuracy = (logits.argmax(dim=-1) == actions).float().mean()
    return loss, {"inverse_loss": loss.item(), "inverse_accuracy": accuracy.item()}


def gaussian_inverse_dynamics_loss(output: Gaussian, actions: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean -log N(a; mean, std^2) of the (normalised) actions the agent took.

    output: (mean, log_std) (B, D) for the agent's (s, s'); actions: (B, D) in [-1, 1].
    Returns the loss and {"inverse_loss", "inverse_mse"} (the mean's squared error per dimension).
    """
    mean, log_std = output
    loss = -gaussian_log_prob(mean, log_std, actions).mean()
    mse = (mean - actions).pow(2).mean()
    return loss, {"inverse_loss": loss.item(), "inverse_mse": mse.item()}


def infer_actions(logits: torch.Tensor) -> torch.Tensor:
    """The expert's actions as BCO labels them: the most likely action under p(a | s, s').

    logits: (N, A) inverse-model logits for expert pairs -> (N,) int64.
    """
    return logits.argmax(dim=-1)


def infer_gaussian_actions(output: Gaussian) -> torch.Tensor:
    """The expert's normalised actions as BCO labels them: the mean of p(a | s, s'), clipped to
    [-1, 1] (no action outside the bounds ever reached the env). (N, D) -> (N, D)."""
    return output[0].clamp(-1.0, 1.0)


def behavioural_cloning_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean -log pi(a~ | s) of the inferred labels a~ on expert states (BC's loss).

    logits: (B, A) policy logits; labels: (B,) int64 from `infer_actions`.
    Returns the loss and {"policy_loss", "policy_accuracy", "policy_entropy"}.
    """
    loss, parts = bc_loss(logits, labels)
    return loss, {"policy_loss": parts["neglogp"], "policy_accuracy": parts["accuracy"],
                  "policy_entropy": parts["entropy"]}


def gaussian_cloning_loss(output: Gaussian, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean -log pi(a~ | s) of the inferred normalised labels a~ (BC's Gaussian loss).

    output: the policy's (mean, log_std) (B, D); labels: (B, D) from `infer_gaussian_actions`.
    Returns the loss and {"policy_loss", "policy_mse", "policy_entropy"}.
    """
    loss, parts = gaussian_bc_loss(*output, labels)
    return loss, {"policy_loss": parts["neglogp"], "policy_mse": parts["mse"], "policy_entropy": parts["entropy"]}


@dataclass(frozen=True)
class HeadLosses:
    """What BCO does with one kind of action head."""

    inverse: Callable[..., tuple[torch.Tensor, dict[str, float]]]
    infer: Callable[..., torch.Tensor]
    clone: Callable[..., tuple[torch.Tensor, dict[str, float]]]


HEADS = {
    "categorical": HeadLosses(inverse_dynamics_loss, infer_actions, behavioural_cloning_loss),
    "gaussian": HeadLosses(gaussian_inverse_dynamics_loss, infer_gaussian_actions, gaussian_cloning_loss),
}
