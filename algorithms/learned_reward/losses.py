"""Losses and rewards of the learned-reward family as pure functions of tensors.

The adversarial pieces (binary cross-entropy, the three reward forms) and the PPO pieces (GAE, the
clipped surrogate) come from `lfo_ray.algorithms.adversarial.losses`; what is added here is what
GAIL/GAIfO options, IMRL and PMI-IL need.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch.nn import functional as F

from lfo_ray.algorithms.adversarial.losses import (  # noqa: F401  (re-exported: one place to import from)
    discriminator_loss,
    generalized_advantages,
    imitation_reward,
    ppo_loss,
)


# --- adversarial options -----------------------------------------------------------------------

def smoothed_discriminator_loss(expert_logits: torch.Tensor, learner_logits: torch.Tensor,
                                smoothing: float) -> torch.Tensor:
    """Binary cross-entropy with targets 1 - smoothing (expert) and smoothing (learner).

    smoothing = 0 is exactly `discriminator_loss`.
    """
    return (F.binary_cross_entropy_with_logits(expert_logits, torch.full_like(expert_logits, 1.0 - smoothing))
            + F.binary_cross_entropy_with_logits(learner_logits, torch.full_like(learner_logits, smoothing)))


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], expert_inputs: torch.Tensor,
                     learner_inputs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """E[(||grad_x critic(x)||_2 - 1)^2] at random interpolates x of expert and learner inputs (B, D)."""
    mix = torch.rand(len(expert_inputs), 1, device=expert_inputs.device, generator=generator)
    points = (mix * expert_inputs + (1 - mix) * learner_inputs).detach().requires_grad_(True)
    grads, = torch.autograd.grad(critic(points).sum(), points, create_graph=True)
    return ((grads.norm(dim=-1) - 1.0) ** 2).mean()


# --- IMRL: a next-state model and the reward from its prediction error ---------------------------

def gaussian_nll(mean: torch.Tensor, log_std: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-row negative log-likelihood of target (B, D) under N(mean, diag exp(log_std)^2)."""
    z = (target - mean) * torch.exp(-log_std)
    return (0.5 * z ** 2 + log_std + 0.5 * math.log(2 * math.pi)).sum(-1)


def prediction_error_reward(predicted: torch.Tensor, actual: torch.Tensor, width: float) -> torch.Tensor:
    """IMRL reward r = -tanh(||s' - theta(s)||_2 / width) in (-1, 0]: 0 for a perfectly predicted
    (expert-like) transition, towards -1 as the agent's next state departs from the expert model's."""
    return -torch.tanh((actual - predicted).norm(dim=-1) / width)


# --- PMI-IL: InfoNCE on two towers, rewards eq. 16 and eq. 18, ranking metric eq. 20 -------------

def infonce_loss(scores: torch.Tensor) -> torch.Tensor:
    """Eq. 14 with f = exp(scores): scores (B, K), the positive in column 0, K - 1 negatives.

    Mean of -log softmax(scores)[:, 0]; log K - loss is InfoNCE's lower bound on I(s; s').
    """
    return -torch.log_softmax(scores, dim=-1)[:, 0].mean()


def in_batch_scores(next_embed: torch.Tensor, embed: torch.Tensor, temperature: float,
                    extra_next_embed: torch.Tensor | None = None) -> torch.Tensor:
    """(B, K) scores phi1(s'_j)^T phi2(s_i) / tau with each row's own s'_i first, then the other B - 1
    next states of the batch, then `extra_next_embed` (shared negatives, e.g. agent next states)."""
    all_scores = embed @ next_embed.T / temperature                       # (B, B): [i, j] = s_i with s'_j
    batch = len(embed)
    positive = all_scores.diagonal().unsqueeze(1)
    off_diagonal = ~torch.eye(batch, dtype=torch.bool, device=embed.device)
    negatives = all_scores[off_diagonal].reshape(batch, batch - 1)
    columns = [positive, negatives]
    if extra_next_embed is not None:
        columns.append(embed @ extra_next_embed.T / temperature)
    return torch.cat(columns, dim=1)


def dot_reward(next_embed: torch.Tensor, embed: torch.Tensor, temperature: float) -> torch.Tensor:
    """Eq. 16/19: r(s, s') = log f(s', s) = phi1(s')^T phi2(s) / tau, an estimate of PMI(s; s') + c."""
    return (next_embed * embed).sum(-1) / temperature


def softmax_reward(next_embed: torch.Tensor, embed: torch.Tensor, negative_next_embed: torch.Tensor,
                   temperature: float) -> torch.Tensor:
    """Eq. 18 in its likelihood form: log softmax of the actual s' among {s'} and X^IL.

        r_tau(s, s') = log  exp(phi1(s')^T phi2(s) / tau) / sum_{x in {s'} + X^IL} exp(phi1(x)^T phi2(s) / tau)

    The talk writes this with a leading minus (-log softmax), which would pay the agent most for the
    transitions the expert model finds least likely; we implement the likelihood, higher = more
    expert-like, always <= 0 (add log(|X^IL| + 1) for the InfoNCE PMI estimate, which is >= 0 when s'
    beats a uniform guess among the candidates). next_embed, embed: (B, E); negative_next_embed: (K, E).
    """
    positive = (next_embed * embed).sum(-1, keepdim=True) / temperature    # (B, 1)
    negatives = embed @ negative_next_embed.T / temperature                 # (B, K)
    return torch.log_softmax(torch.cat([positive, negatives], dim=1), dim=1)[:, 0]


def ranking_accuracy(candidate_scores: torch.Tensor, true_index: torch.Tensor | int = 0) -> torch.Tensor:
    """Eq. 20 for one trajectory set: the fraction of rows whose highest-scored candidate is the true next
    state. candidate_scores (B, C) scores f(s_t, s) of each candidate s in S_t; ties count as misses."""
    best = candidate_scores.max(dim=1)
    true_index = torch.as_tensor(true_index, device=candidate_scores.device).expand(len(candidate_scores))
    true_scores = candidate_scores.gather(1, true_index.unsqueeze(1)).squeeze(1)
    unique = (candidate_scores == best.values.unsqueeze(1)).sum(1) == 1
    return ((true_scores == best.values) & unique).float().mean()


# --- PPO's reward normalisation ----------------------------------------------------------------

def discounted_returns(rewards: torch.Tensor, ended: torch.Tensor, gamma: float,
                       start: torch.Tensor) -> torch.Tensor:
    """Running discounted sums (T, B) of rewards, reset after `ended`, starting from `start` (B,)
    (what `scale` normalisation estimates the std of, as in SB3's VecNormalize)."""
    out = torch.zeros_like(rewards)
    running = start
    for t in range(rewards.shape[0]):
        running = running * gamma + rewards[t]
        out[t] = running
        running = running * (~ended[t])
    return out
