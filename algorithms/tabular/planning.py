"""Planning on a state reward under the known model: soft (MaxEnt) and hard value iteration.

A state reward r (S,) is paid on entering a cell; the goal is absorbing (see model.py), so
Q(s, a) = E_{s'}[r(s') + gamma * V(s') | s, a] with no special case at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lfo_ray.algorithms.tabular.model import TabularModel


@dataclass(frozen=True)
class SoftPlan:
    """Result of soft value iteration.

    q: (S, A) soft action values; values: (S,) soft state values V = logsumexp_a Q;
    policy: (S, A) the maximum-causal-entropy policy exp(Q - V); iterations: sweeps made.
    """

    q: torch.Tensor
    values: torch.Tensor
    policy: torch.Tensor
    iterations: int


def soft_value_iteration(model: TabularModel, state_reward: torch.Tensor, gamma: float,
                         tol: float = 1e-8, max_iters: int = 10_000,
                         init_values: torch.Tensor | None = None) -> SoftPlan:
    """Stationary soft Bellman fixed point: V(s) = log sum_a exp(E[r(s') + gamma V(s') | s, a]).

    `init_values` warm-starts the sweeps (IRL re-plans after small reward changes).
    """
    if not 0.0 < gamma < 1.0:
        raise ValueError(f"soft value iteration needs 0 < gamma < 1 to converge, got {gamma}")
    values = torch.zeros_like(state_reward) if init_values is None else init_values
    for iteration in range(1, max_iters + 1):
        q = model.expected_next(state_reward + gamma * values)
        new_values = torch.logsumexp(q, dim=1)
        delta = torch.max(torch.abs(new_values - values)).item()
        values = new_values
        if delta < tol:
            break
    q = model.expected_next(state_reward + gamma * values)
    return SoftPlan(q, values, torch.softmax(q, dim=1), iteration)


def value_iteration(model: TabularModel, state_reward: torch.Tensor, gamma: float,
                    tol: float = 1e-8, max_iters: int = 10_000) -> tuple[torch.Tensor, torch.Tensor]:
    """Optimal values (S,) and action values (S, A) of a state reward with the goal absorbing."""
    if not 0.0 < gamma < 1.0:
        raise ValueError(f"value iteration needs 0 < gamma < 1 to converge, got {gamma}")
    values = torch.zeros_like(state_reward)
    for _ in range(max_iters):
        new_values = model.expected_next(state_reward + gamma * values).max(dim=1).values
        delta = torch.max(torch.abs(new_values - values)).item()
        values = new_values
        if delta < tol:
            break
    return values, model.expected_next(state_reward + gamma * values)
