"""Exact state visitation frequencies and exact policy evaluation by dynamic programming.

Everything here propagates whole distributions over the S cells through the known model,
one array operation per time step: no sampling, no loop over cells.
"""

from __future__ import annotations

import numpy as np
import torch

from lfo_ray.algorithms.tabular.model import TabularModel
from lfo_ray.data import ObsDataset


def discounts(horizon: int, gamma: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """(horizon,) float64: gamma^t for t = 0..horizon-1."""
    return gamma ** torch.arange(horizon, dtype=torch.float64, device=device)


def state_visitation(model: TabularModel, policy: torch.Tensor, gamma: float = 1.0,
                     horizon: int | None = None, start: torch.Tensor | None = None) -> torch.Tensor:
    """Expected discounted counts (S,) of the states entered at steps 1..H under `policy` (S, A).

    Starts from `start` (S,) (default: the model's uniform valid starts); the goal is absorbing,
    so each step moves exactly one unit of probability mass and the counts sum to sum_t gamma^t.
    """
    horizon = model.horizon if horizon is None else horizon
    dist = model.start if start is None else start
    counts = torch.zeros_like(dist)
    for weight in discounts(horizon, gamma).tolist():
        dist = model.propagate(dist, policy)
        counts = counts + weight * dist
    return counts


def demo_state_counts(demos: ObsDataset, model: TabularModel, gamma: float = 1.0,
                      horizon: int | None = None) -> torch.Tensor:
    """Mean discounted counts (S,) of the states the demonstrator entered, as state_visitation.

    An episode that terminated (at the goal) stays there for the rest of the horizon, exactly
    as the absorbing model does; one cut by the time limit counts what it holds.
    """
    horizon = model.horizon if horizon is None else horizon
    weights = discounts(horizon + 1, gamma).cpu().numpy()
    tail = np.cumsum(weights[::-1])[::-1]
    counts = np.zeros(model.num_states)
    for episode in demos.episodes:
        entered = np.asarray(episode.observations[1:], dtype=np.int64)[:horizon]
        steps = len(entered)
        np.add.at(counts, entered, weights[:steps])
        if episode.terminated and steps < horizon:
            counts[entered[-1]] += tail[steps] - tail[horizon]
    return torch.as_tensor(counts / len(demos), device=model.device)


def demo_start_distribution(demos: ObsDataset, model: TabularModel) -> torch.Tensor:
    """(S,) empirical distribution of the demonstrations' first states.

    IRL matches the learner's visitation counts to the demonstrator's, so both must start from
    the same distribution: a start cell the demonstrations never used would otherwise push its
    reward down without end, however the learner behaves.
    """
    firsts = np.array([int(episode.observations[0]) for episode in demos.episodes])
    counts = np.bincount(firsts, minlength=model.num_states).astype(np.float64)
    return torch.as_tensor(counts / counts.sum(), device=model.device)


def policy_returns(model: TabularModel, policy: torch.Tensor, horizon: int | None = None) -> torch.Tensor:
    """Exact expected undiscounted true return (S,) of `policy` (S, A) from every start cell.

    Environment semantics: entering the goal ends the episode; episodes last at most H steps.
    Backward induction V_t(s) = sum_a pi(a|s) E[r(s, m) + V_{t+1}(s') [s' != goal]].
    """
    horizon = model.horizon if horizon is None else horizon
    move_reward = model.reward @ model.move_probs.T
    continues = (model.next_state != model.goal).to(policy.dtype)
    values = torch.zeros(model.num_states, dtype=policy.dtype, device=policy.device)
    for _ in range(horizon):
        future = (values[model.next_state] * continues) @ model.move_probs.T
        values = (policy * (move_reward + future)).sum(dim=1)
    return values


def expected_return(model: TabularModel, policy: torch.Tensor | np.ndarray) -> float:
    """Exact mean true return of `policy` (S, A) from uniform valid starts over the horizon."""
    policy = torch.as_tensor(policy, dtype=torch.float64, device=model.device)
    return float((policy_returns(model, policy) * model.start).sum())
