"""Absorbing states for the discriminator rewards (DAC, Kostrikov et al. 2019), as pure functions.

A learned per-step reward has a sign, and the sign decides whether ending an episode pays: a
positive -log(1 - D) rewards survival, which is wrong where termination is the goal (Acrobot,
MountainCar). DAC removes that bias by letting a terminated episode go on in an absorbing state
s_a whose reward the discriminator learns like any other: ending early pays exactly as much as
the expert's data says reaching s_a is worth.

Here a state is its vector plus a flag column (0 for every real state); s_a is all zeros with
flag 1. The discriminator sees, besides the ordinary transitions, one (s_T -> s_a) and one
(s_a -> s_a) row for every terminated transition of the expert and of the agent. The policy
never acts in s_a, so instead of stepping through it the return of s_a is folded into the
reward of the terminated step:

    r'(s_t, s_T) = r(s_t, s_T) + gamma * (r(s_T, s_a) + gamma * r(s_a, s_a) / (1 - gamma))

which is exactly the discounted return of the absorbed continuation; PPO's GAE and SAC's masks
then need no change (a terminated step still bootstraps nothing).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def flagged(obs: torch.Tensor) -> torch.Tensor:
    """Real states (N, D) with a zero flag column: (N, D + 1)."""
    return F.pad(obs.flatten(1).float(), (0, 1))


def absorbing_state(width: int, like: torch.Tensor, count: int = 1) -> torch.Tensor:
    """`count` copies of s_a for states of `width` real dimensions: (count, width + 1)."""
    state = torch.zeros(count, width + 1, dtype=torch.float32, device=like.device)
    state[:, -1] = 1.0
    return state


def expand(obs: torch.Tensor, next_obs: torch.Tensor, terminated: torch.Tensor | None,
           actions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """A batch with flag columns and, after it, (s_T -> s_a) then (s_a -> s_a) for each terminated row.

    obs, next_obs: (N, D) real states; terminated: (N,) bool (None: none). Absorbing rows carry no
    action: a zero vector for Box actions (B, D) float, id -1 for Discrete ids (B,) long, which the
    discriminator's one-hot turns into zeros."""
    x, y = flagged(obs), flagged(next_obs)
    if terminated is None:
        return x, y, actions
    ends = y[terminated]
    sink = absorbing_state(obs.flatten(1).shape[1], obs, len(ends))
    x, y = torch.cat([x, ends, sink]), torch.cat([y, sink, sink])
    if actions is not None:
        actions = torch.cat([actions, no_action(actions, 2 * len(ends))])
    return x, y, actions


def no_action(like: torch.Tensor | None, count: int) -> torch.Tensor | None:
    """The action of `count` absorbing rows, shaped as the batch's actions `like` (None: no actions)."""
    if like is None:
        return None
    if like.dim() == 1:
        return torch.full((count,), -1, dtype=like.dtype, device=like.device)
    return like.new_zeros((count, *like.shape[1:]))


def absorbed_return(enter: torch.Tensor, stay: torch.Tensor, gamma: float) -> torch.Tensor:
    """The return from a terminal state s_T on: r(s_T, s_a) + gamma r(s_a, s_a) / (1 - gamma)."""
    if not 0.0 < gamma < 1.0:
        raise ValueError(f"absorbing states need 0 < gamma < 1 (the absorbed return is a geometric sum), got {gamma}")
    return enter + gamma * stay / (1.0 - gamma)
