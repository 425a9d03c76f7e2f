"""GridWorld's known transition model as torch tensors, built from envs/gridworld.py.

Two views of the same dynamics:
- the environment's: entering the goal ends the episode (`next_state`, used for exact
  evaluation of a policy on the true reward);
- the IRL view: the goal is absorbing, every move from it stays there (`absorbing_next_state`).
  Every trajectory then lasts the full horizon and is described by the same number of entered
  states, so a learned state reward is only defined up to the constant that IRL cannot
  identify anyway, and a positive learned reward cannot lure the learner away from ending
  the episode (the absorbing-state treatment of Kostrikov et al. 2019).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch

from lfo_ray.envs.gridworld import GridWorldSpec, make_spec, noise_matrix

DEFAULT_HORIZON = 200


@dataclass(frozen=True)
class TabularModel:
    """Dynamics of one GridWorld over all S cells, A actions and M moves (A = M = 4).

    next_state: (S, M) int64, the cell reached by each move (the environment's own table).
    absorbing_next_state: (S, M) int64, the same with every move from the goal staying there.
    move_probs: (A, M) float64, P(move | action): the identity, or 0.7/0.1 when noisy.
    reward: (S, M) float64, the true reward paid for each move (border bumps pay -1).
    start: (S,) float64, the start distribution: uniform over the valid cells.
    """

    spec: GridWorldSpec
    next_state: torch.Tensor
    absorbing_next_state: torch.Tensor
    move_probs: torch.Tensor
    reward: torch.Tensor
    start: torch.Tensor
    horizon: int

    @classmethod
    def from_spec(cls, spec: GridWorldSpec, transition_prob: bool = False,
                  horizon: int = DEFAULT_HORIZON, device: str | torch.device = "cpu") -> "TabularModel":
        device = torch.device(device)
        next_state, reward = spec.move_table()
        next_state = torch.as_tensor(next_state, device=device)
        absorbing = next_state.clone()
        absorbing[spec.goal] = spec.goal
        start = torch.zeros(spec.num_states, dtype=torch.float64, device=device)
        start[torch.as_tensor(spec.valid_state_ids, device=device)] = 1.0 / len(spec.valid_states)
        return cls(
            spec=spec,
            next_state=next_state,
            absorbing_next_state=absorbing,
            move_probs=torch.as_tensor(noise_matrix(transition_prob), device=device),
            reward=torch.as_tensor(reward, device=device),
            start=start,
            horizon=horizon,
        )

    @classmethod
    def from_env_kwargs(cls, env_kwargs: Mapping[str, Any], device: str | torch.device = "cpu") -> "TabularModel":
        """The model of `lfo_ray/GridWorld-v0` built with these env kwargs."""
        spec = make_spec(env_kwargs.get("seed"), env_kwargs.get("world"), env_kwargs.get("size", 50))
        return cls.from_spec(spec, bool(env_kwargs.get("transition_prob", False)),
                             int(env_kwargs.get("max_steps", DEFAULT_HORIZON)), device)

    @property
    def num_states(self) -> int:
        return self.spec.num_states

    @property
    def num_actions(self) -> int:
        return self.move_probs.shape[0]

    @property
    def goal(self) -> int:
        return self.spec.goal

    @property
    def device(self) -> torch.device:
        return self.start.device

    def expected_next(self, per_state: torch.Tensor, absorbing: bool = True) -> torch.Tensor:
        """E[x(s') | s, a] for a per-state quantity x (S,): returns (S, A)."""
        table = self.absorbing_next_state if absorbing else self.next_state
        return per_state[table] @ self.move_probs.T

    def propagate(self, dist: torch.Tensor, policy: torch.Tensor, absorbing: bool = True) -> torch.Tensor:
        """Distribution over the next state (S,) from a state distribution (S,) and a policy (S, A)."""
        table = self.absorbing_next_state if absorbing else self.next_state
        mass = dist[:, None] * (policy @ self.move_probs)
        return torch.zeros_like(dist).index_add_(0, table.reshape(-1), mass.reshape(-1))
