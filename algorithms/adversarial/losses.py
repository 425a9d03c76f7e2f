"""Adversarial imitation losses as pure functions: discriminator, imitation reward, PPO."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def discriminator_loss(expert_logits: torch.Tensor, learner_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with the demonstrator labelled 1 and the learner 0."""
    return (F.binary_cross_entropy_with_logits(expert_logits, torch.ones_like(expert_logits))
            + F.binary_cross_entropy_with_logits(learner_logits, torch.zeros_like(learner_logits)))


def imitation_reward(logits: torch.Tensor, kind: str) -> torch.Tensor:
    """Reward of learner transitions from the discriminator's logit, D = sigmoid(logit).

    "logit": log D - log(1 - D) (the AIRL form, either sign); "gail": -log(1 - D) >= 0;
    "neg_log": log D <= 0.
    """
    if kind == "logit":
        return logits
    if kind == "gail":
        return F.softplus(logits)
    if kind == "neg_log":
        return -F.softplus(-logits)
    raise ValueError(f"unknown reward kind {kind!r}")


def generalized_advantages(rewards: torch.Tensor, values: torch.Tensor, next_values: torch.Tensor,
                           terminated: torch.Tensor, ended: torch.Tensor, gamma: float,
                           gae_lambda: float) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE over a rollout of shape (T, B); returns advantages and value targets.

    next_values are V(s') of each transition's true successor; `terminated` stops the bootstrap,
    `ended` (terminated or truncated) stops the advantage recursion across episodes.
    """
    deltas = rewards + gamma * next_values * (~terminated) - values
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        running = deltas[t] + gamma * gae_lambda * (~ended[t]) * running
        advantages[t] = running
    return advantages, advantages + values


def ppo_loss(new_log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor,
             new_values: torch.Tensor, returns: torch.Tensor, entropy: torch.Tensor, clip_coef: float,
             vf_coef: float, ent_coef: float) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped surrogate + value regression - entropy bonus (advantages normalised here)."""
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_ratio = new_log_probs - old_log_probs
    ratio = torch.exp(log_ratio)
    policy_loss = torch.max(-advantages * ratio,
                            -advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)).mean()
    value_loss = 0.5 * ((new_values - returns) ** 2).mean()
    entropy_mean = entropy.mean()
    loss = policy_loss + vf_coef * value_loss - ent_coef * entropy_mean
    clip_fraction = ((ratio - 1.0).abs() > clip_coef).float().mean()
    # Schulman's low-variance estimator of KL(old || new), for early stopping on the update's size.
    approx_kl = ((ratio - 1.0) - log_ratio).mean()
    return loss, {"policy_loss": policy_loss.item(), "value_loss": value_loss.item(),
                  "entropy": entropy_mean.item(), "clipfrac": clip_fraction.item(), "approx_kl": approx_kl.item()}
