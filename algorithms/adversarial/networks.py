"""The discriminator: one input layer per component of its input, summed, then an MLP.

For GAIL the components are (s, a); for GAIfO (s, s') and, by default, the change s' - s.
Discrete components are one-hot (`OneHotLinear`), so the first layer equals a Linear layer on
the concatenated one-hot vectors.
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from lfo_ray.algorithms.bc.networks import input_layer


def difference_space(space: gym.Space) -> gym.Space:
    """The space of s' - s for observations from `space`.

    Discrete(n): the id difference shifted to 0..2n-2, its own one-hot component, so one learned
    row stands for one kind of transition in every state (on a row-major grid, +1 is a step
    right and +size a step down, whatever the cell). Box: the float displacement.
    """
    if isinstance(space, gym.spaces.Discrete):
        return gym.spaces.Discrete(2 * int(space.n) - 1)
    if isinstance(space, gym.spaces.Box):
        return gym.spaces.Box(-np.inf, np.inf, shape=space.shape, dtype=np.float32)
    raise ValueError(f"unsupported observation space {space!r}: expected Discrete or Box")


def difference(obs: torch.Tensor, next_obs: torch.Tensor, space: gym.Space) -> torch.Tensor:
    """s' - s as `difference_space(space)` holds it, for batches made by `as_input`."""
    if isinstance(space, gym.spaces.Discrete):
        return next_obs - obs + (int(space.n) - 1)
    return next_obs - obs


class Discriminator(nn.Module):
    """Logit (B,) of D(x) = P(x comes from the demonstrator), x = one tensor per input space."""

    def __init__(self, spaces: Sequence[gym.Space], hidden: Sequence[int]) -> None:
        super().__init__()
        self.inputs = nn.ModuleList(input_layer(space, hidden[0]) for space in spaces)
        layers: list[nn.Module] = [nn.Tanh()]
        for width_in, width_out in zip(hidden[:-1], hidden[1:]):
            layers += [nn.Linear(width_in, width_out), nn.Tanh()]
        layers.append(nn.Linear(hidden[-1], 1))
        self.head = nn.Sequential(*layers)

    def forward(self, *components: torch.Tensor) -> torch.Tensor:
        if len(components) != len(self.inputs):
            raise ValueError(f"expected {len(self.inputs)} input components, got {len(components)}")
        return self.head(sum(layer(x) for layer, x in zip(self.inputs, components))).squeeze(-1)
