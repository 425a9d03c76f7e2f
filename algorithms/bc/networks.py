"""Policy networks over Discrete or Box observations, shared by BC, DAgger and GAIL/GAIfO;
registered as the "mlp" architecture of lfo_ray.policy.

A Discrete observation is one-hot encoded; its first layer is stored as a lookup table
(`OneHotLinear`: row i of the weight is the layer's output for one-hot(i)), which is the same
function as a Linear layer on the one-hot vector without building the vector. A Box
observation is flattened to float32 (`FlatLinear`).
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from lfo_ray.policy import Policy, PolicySpec, register_architecture


class OneHotLinear(nn.Module):
    """Linear(n, width) applied to one-hot(index), as a table lookup."""

    def __init__(self, n: int, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n, width))
        self.bias = nn.Parameter(torch.zeros(width))
        nn.init.zeros_(self.weight)

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        return self.weight[index.long()] + self.bias


class FlatLinear(nn.Linear):
    """Linear on (B, *shape) observations of any dtype (images arrive as uint8), flattened."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return super().forward(obs.flatten(1).float())


def input_layer(space: gym.Space, width: int) -> nn.Module:
    """The first layer for observations from `space`: OneHotLinear for Discrete, FlatLinear for Box."""
    if isinstance(space, gym.spaces.Discrete):
        return OneHotLinear(int(space.n), width)
    if isinstance(space, gym.spaces.Box):
        return FlatLinear(int(np.prod(space.shape)), width)
    raise ValueError(f"unsupported observation space {space!r}: expected Discrete or Box")


def as_input(obs: np.ndarray | torch.Tensor, space: gym.Space, device: torch.device) -> torch.Tensor:
    """A batch of observations as float32 (int64 for Discrete), for arithmetic such as s' - s."""
    dtype = torch.long if isinstance(space, gym.spaces.Discrete) else torch.float32
    return torch.as_tensor(np.asarray(obs), dtype=dtype, device=device)


def mlp(space: gym.Space, hidden: Sequence[int], out: int) -> nn.Module:
    """input_layer -> (tanh -> Linear)* -> `out` units. No hidden layers: one linear map."""
    widths = list(hidden) + [out]
    layers: list[nn.Module] = [input_layer(space, widths[0])]
    for width_in, width_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Tanh(), nn.Linear(width_in, width_out)]
    return nn.Sequential(*layers)


class CategoricalPolicyNet(nn.Module):
    """Logits (B, A) of a categorical policy over a Discrete action space."""

    def __init__(self, observation_space: gym.Space, num_actions: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.observation_space = observation_space
        self.num_actions = num_actions
        self.hidden = tuple(hidden)
        self.logits = mlp(observation_space, hidden, num_actions)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs: as lfo_ray.policy.obs_tensor makes them."""
        return self.logits(obs)


def build_mlp_policy(observation_space: gym.Space, action_space: gym.spaces.Discrete,
                     hidden: Sequence[int]) -> CategoricalPolicyNet:
    """The "mlp" architecture of lfo_ray.policy."""
    return CategoricalPolicyNet(observation_space, int(action_space.n), hidden)


def mlp_policy(net: CategoricalPolicyNet, greedy: bool, seed: int | None = None) -> Policy:
    """`net` as the deployed Policy (saved and loaded as architecture "mlp")."""
    spec = PolicySpec("mlp", net.observation_space, gym.spaces.Discrete(net.num_actions),
                      {"hidden": list(net.hidden)}, greedy)
    return Policy(net, spec, seed)


register_architecture("mlp", build_mlp_policy)
