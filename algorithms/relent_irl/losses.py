"""Relative entropy IRL (Boularias et al. 2011) as pure array functions.

The learned trajectory distribution is P(tau) ~ Q(tau) exp(theta . f(tau)), where Q is the
distribution under a uniform baseline policy. Its feature expectation is estimated without the
transition model, by self-normalised importance sampling of trajectories drawn with any
sampling policy pi: the dynamics cancel in Q(tau) / pi(tau) = prod_t U(a_t|s_t) / pi(a_t|s_t).
theta maximises the dual

    g(theta) = theta . f_E - log E_pi[(U/pi)(tau) exp(theta . f(tau))] - sum_i eps_i |theta_i|,

whose L1 term lets the matched features differ from the demonstrator's by the Hoeffding
bound eps_i. Trajectory features are linear in state counts, f(tau) = phi^T c(tau), so samples
are kept as a sparse (N, S) matrix of discounted counts and theta . f(tau) = c(tau) . (phi theta).
"""

from __future__ import annotations

import math

import torch


def log_importance_ratios(states: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor,
                          baseline_probs: torch.Tensor, sampling_probs: torch.Tensor) -> torch.Tensor:
    """log U(tau) / pi(tau) (N,) of N sampled trajectories.

    states: (N, T) int64 states the actions were taken in; actions: (N, T) int64; mask: (N, T)
    bool, True for real steps (padding after the end is False); baseline_probs and
    sampling_probs: (S, A) stationary or (T', S, A), T' >= T, time-indexed action distributions
    of the baseline U and of the sampling policy pi.
    """
    per_step = _log_probs(baseline_probs, states, actions) - _log_probs(sampling_probs, states, actions)
    return torch.where(mask, per_step, 0.0).sum(dim=1)


def _log_probs(probs: torch.Tensor, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    if probs.dim() == 2:
        return torch.log(probs[states, actions])
    steps = torch.arange(states.shape[1], device=states.device).expand_as(states)
    return torch.log(probs[steps, states, actions])


def start_log_ratios(starts: torch.Tensor, demo_start: torch.Tensor) -> torch.Tensor:
    """log p_E(s_0) / p_samples(s_0) (N,): reweights samples to the demonstrations' start
    distribution, both estimated from counts (samples from unused starts get weight 0).
    Kept for match_starts=False-style experiments; training now conditions on s_0 instead
    (grouped_softmax), which a global softmax over these ratios would undo."""
    sample_start = torch.bincount(starts, minlength=demo_start.shape[0]).to(demo_start.dtype)
    sample_start = sample_start / sample_start.sum()
    return torch.log(demo_start[starts]) - torch.log(sample_start[starts])


def grouped_softmax(logits: torch.Tensor, groups: torch.Tensor, group_probs: torch.Tensor) -> torch.Tensor:
    """(N,) sum_g p(g) softmax(logits restricted to group g): a softmax within each group of
    samples, the groups mixed by group_probs (G,) renormalised over the groups with samples."""
    size = group_probs.shape[0]
    peak = torch.full((size,), -torch.inf, dtype=logits.dtype, device=logits.device)
    peak = peak.scatter_reduce(0, groups, logits, reduce="amax")
    exp = torch.exp(logits - peak[groups])
    totals = torch.zeros(size, dtype=logits.dtype, device=logits.device).index_add_(0, groups, exp)
    covered = torch.zeros_like(group_probs).index_add_(0, groups, torch.ones_like(logits)) > 0
    probs = torch.where(covered, group_probs, 0.0)
    return probs[groups] / probs.sum() * exp / totals[groups]


def trajectory_weights(state_reward: torch.Tensor, sample_counts: torch.Tensor, log_ratios: torch.Tensor,
                       starts: torch.Tensor | None = None, start_probs: torch.Tensor | None = None) -> torch.Tensor:
    """Self-normalised weights (N,) of the samples under P: softmax(theta . f(tau) + log w0).

    state_reward: (S,) phi theta; sample_counts: (N, S) sparse discounted counts. With starts
    (N,) and start_probs (S,), P is conditioned on its first state, P(tau) = p(s_0) P(tau | s_0),
    and the softmax is taken among the samples of each start (see grouped_softmax).
    """
    returns = torch.sparse.mm(sample_counts, state_reward[:, None]).squeeze(1)
    if starts is None:
        return torch.softmax(returns + log_ratios, dim=0)
    return grouped_softmax(returns + log_ratios, starts, start_probs)


def dual_gradient(theta: torch.Tensor, features: torch.Tensor, expert_counts: torch.Tensor,
                  sample_counts: torch.Tensor, log_ratios: torch.Tensor, epsilon: torch.Tensor,
                  starts: torch.Tensor | None = None, start_probs: torch.Tensor | None = None) -> torch.Tensor:
    """(Sub)gradient of the dual in theta: phi^T (c_E - E_P[c(tau)]) - eps * sign(theta)."""
    weights = trajectory_weights(features @ theta, sample_counts, log_ratios, starts, start_probs)
    sample_expectation = torch.sparse.mm(sample_counts.t(), weights[:, None]).squeeze(1)
    return (expert_counts - sample_expectation) @ features - epsilon * torch.sign(theta)


def hoeffding_epsilon(feature_range: torch.Tensor, num_demos: int, horizon: int, gamma: float,
                      delta: float) -> torch.Tensor:
    """eps_i = sqrt(-ln(1 - delta) / (2 n)) * sum_{t=0}^{H} gamma^t * (max phi_i - min phi_i)."""
    discounted_steps = horizon + 1 if gamma == 1.0 else (1.0 - gamma ** (horizon + 1)) / (1.0 - gamma)
    return math.sqrt(-math.log(1.0 - delta) / (2.0 * num_demos)) * discounted_steps * feature_range
