"""Losses and rewards of the imitation family as pure functions of tensors: the discriminator's,
IMRL's and PMI-IL's, and PPO's (GAE, the clipped surrogate, reward normalisation)."""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch.nn import functional as F


# --- adversarial -------------------------------------------------------------------------------

def discriminator_loss(expert_logits: torch.Tensor, learner_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with the demonstrator labelled 1 and the learner 0."""
    return smoothed_discriminator_loss(expert_logits, learner_logits, 0.0)


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


def smoothed_discriminator_loss(expert_logits: torch.Tensor, learner_logits: torch.Tensor,
                                smoothing: float) -> torch.Tensor:
    """Binary cross-entropy with targets 1 - smoothing (expert) and smoothing (learner).

    smoothing = 0 is the plain GAN loss (`discriminator_loss`).
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


# --- PPO ----------------------------------------------------------------------------------------

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


def normalize_advantages(advantages: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit std over the whole valid batch, once per rollout: a per-minibatch std is
    NaN for a single row and noisy for a few."""
    if len(advantages) < 2:
        return advantages - advantages.mean()
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


def ppo_loss(new_log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor,
             new_values: torch.Tensor, returns: torch.Tensor, entropy: torch.Tensor, clip_coef: float,
             vf_coef: float, ent_coef: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Clipped surrogate + value regression - entropy bonus, on advantages already normalised.

    The metrics are detached tensors: reading them is the caller's single device sync per iteration.
    """
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
    stats = {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy_mean,
             "clipfrac": clip_fraction, "approx_kl": approx_kl}
    return loss, {name: value.detach() for name, value in stats.items()}


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


# --- SAC: twin soft Q-learning with automatic entropy tuning ----------------------------------------

def soft_q_targets(rewards: torch.Tensor, terminated: torch.Tensor, next_q: torch.Tensor,
                   next_log_probs: torch.Tensor, alpha: torch.Tensor, gamma: float) -> torch.Tensor:
    """r + gamma (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a' | s')), a' ~ pi(s').

    next_q: (2, B) target critics. A truncated episode (time limit) still bootstraps: only a true
    termination ends the return."""
    soft_value = next_q.min(dim=0).values - alpha * next_log_probs
    return rewards + gamma * (~terminated).float() * soft_value


def twin_q_loss(q: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sum over the two critics (2, B) of the mean squared error to the (detached) targets (B,)."""
    return ((q - targets.detach()) ** 2).mean(dim=1).sum()


def sac_actor_loss(q: torch.Tensor, log_probs: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """E[alpha log pi(a | s) - min_i Q_i(s, a)], a ~ pi(s) reparameterised; q: (2, B)."""
    return (alpha.detach() * log_probs - q.min(dim=0).values).mean()


def entropy_temperature_loss(log_alpha: torch.Tensor, log_probs: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """Drives the policy's entropy -E[log pi] towards target_entropy by adjusting alpha = exp(log_alpha)."""
    return -(log_alpha * (log_probs.detach() + target_entropy)).mean()
