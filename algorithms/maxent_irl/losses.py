"""MaxEnt IRL (Ziebart et al. 2008, Algorithm 1) as pure array functions.

The distribution over whole paths is P(tau) ~ exp(sum of rewards) * prod P(s'|s,a). Its
partition functions over the remaining horizon follow a backward pass in log space:

    log Z_{s,a} = log sum_{s'} P(s'|s,a) exp(r(s') + log Z_{s'})
    log Z_s     = log sum_a Z_{s,a},  starting from log Z = 0 with H steps to go,

and the local action probabilities are P(a|s) = Z_{s,a} / Z_s. With stochastic transitions this
backup is optimistic (the expectation of exp, not the exp of the expectation): the flaw that
maximum causal entropy IRL corrects. On deterministic worlds the two coincide.
"""

from __future__ import annotations

import torch

from lfo_ray.algorithms.tabular.model import TabularModel


def backward_pass(model: TabularModel, state_reward: torch.Tensor, horizon: int) -> torch.Tensor:
    """log P(a|s) (S, A): MaxEnt's local action probabilities with `horizon` steps to go."""
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    next_state = model.absorbing_next_state
    log_z = torch.zeros_like(state_reward)
    for _ in range(horizon):
        per_move = (state_reward + log_z)[next_state]
        shift = per_move.max(dim=1, keepdim=True).values
        log_z_sa = shift + torch.log(torch.exp(per_move - shift) @ model.move_probs.T)
        log_z = torch.logsumexp(log_z_sa, dim=1)
    return log_z_sa - log_z[:, None]
