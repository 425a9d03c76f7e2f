"""State features phi(s) for the linear rewards r(s) = phi(s) . theta of the IRL methods.

- "onehot": one indicator per cell (K = S), the tutorial's choice; the reward is a free table.
- "onehot_coords": the indicators plus the cell's normalised row and column (K = S + 2), so a
  reward gradient towards the goal can be shared by cells the demonstrator never entered.
"""

from __future__ import annotations

import torch

from lfo_ray.algorithms.tabular.model import TabularModel


def _onehot(model: TabularModel) -> torch.Tensor:
    return torch.eye(model.num_states, dtype=torch.float64, device=model.device)


def _onehot_coords(model: TabularModel) -> torch.Tensor:
    size = model.spec.size
    cells = torch.arange(model.num_states, device=model.device)
    coords = torch.stack([cells // size, cells % size], dim=1).to(torch.float64) / (size - 1)
    return torch.cat([_onehot(model), coords], dim=1)


FEATURES = {"onehot": _onehot, "onehot_coords": _onehot_coords}


def state_features(name: str, model: TabularModel) -> torch.Tensor:
    """(S, K) float64 feature matrix named `name` (one of FEATURES)."""
    if name not in FEATURES:
        raise ValueError(f"unknown state features {name!r}; choose one of {', '.join(FEATURES)}")
    return FEATURES[name](model)
