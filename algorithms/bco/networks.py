"""BCO's two networks, the inverse dynamics model p(a | s, s') and the policy pi(a | s).

Both are an observation encoder followed by an MLP head giving action logits. The encoder is
chosen once, from the observation space (`make_encoder`):
  - Box with 3 dims and dtype uint8 (an HxWxC image): a small stride-2 conv net;
  - any other Box (a vector): standardised features, with mean/std fitted on training data;
  - Discrete: one-hot (as a lookup table).
The inverse model encodes the pair (s, s'): images stacked on the channel axis, vectors as
(s, s' - s) because the action shows in the change, which can be far smaller than s itself
(MountainCar's action moves the velocity by 0.001 in a range of 0.14).
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from lfo_ray.nets import obs_dtype
from lfo_ray.policy import PolicySpec, register_architecture


def is_image(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 3 and space.dtype == np.uint8


class VectorEncoder(nn.Module):
    """Flattens s (or [s, s' - s] for a pair) and standardises it with fitted statistics."""

    def __init__(self, space: gym.spaces.Box, pair: bool) -> None:
        super().__init__()
        self.pair = pair
        self.out_features = int(np.prod(space.shape)) * (2 if pair else 1)
        self.register_buffer("mean", torch.zeros(self.out_features))
        self.register_buffer("std", torch.ones(self.out_features))

    def features(self, obs: torch.Tensor, next_obs: torch.Tensor | None) -> torch.Tensor:
        obs = obs.flatten(1).float()
        if not self.pair:
            return obs
        return torch.cat([obs, next_obs.flatten(1).float() - obs], dim=1)

    @torch.no_grad()
    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> None:
        features = self.features(obs, next_obs)
        self.mean.copy_(features.mean(dim=0))
        # The floor keeps constant features (a velocity that random play never changes) finite.
        self.std.copy_(features.std(dim=0).clamp_min(1e-6))

    def forward(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> torch.Tensor:
        return (self.features(obs, next_obs) - self.mean) / self.std


class OneHotEncoder(nn.Module):
    """A Discrete observation s (or the pair s, s') as a Linear layer on one-hot(s), stored as the
    lookup table it equals (row i = the layer's output for one-hot(i)), so no N x n one-hot
    matrix is ever built."""

    def __init__(self, space: gym.spaces.Discrete, pair: bool, width: int = 64) -> None:
        super().__init__()
        self.start = int(space.start)
        self.tables = nn.ModuleList(nn.Embedding(int(space.n), width) for _ in range(2 if pair else 1))
        self.out_features = width * len(self.tables)

    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> None:
        """Nothing to fit."""

    def forward(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> torch.Tensor:
        parts = [obs] if next_obs is None else [obs, next_obs]
        return torch.cat([table(p.long() - self.start) for table, p in zip(self.tables, parts)], dim=1)


class ConvEncoder(nn.Module):
    """uint8 (B, H, W, C) images (pairs stacked on C) -> stride-2 3x3 convolutions -> flat features."""

    def __init__(self, space: gym.spaces.Box, pair: bool, channels: Sequence[int]) -> None:
        super().__init__()
        height, width, colours = space.shape
        layers: list[nn.Module] = []
        in_channels = colours * (2 if pair else 1)
        for out_channels in channels:
            layers += [nn.Conv2d(in_channels, out_channels, 3, stride=2), nn.ReLU()]
            in_channels = out_channels
        self.net = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            self.out_features = int(self.net(torch.zeros(1, colours * (2 if pair else 1), height, width)).shape[1])

    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> None:
        """Nothing to fit: pixels are scaled by 1/255."""

    def forward(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> torch.Tensor:
        images = obs if next_obs is None else torch.cat([obs, next_obs], dim=-1)
        return self.net(images.permute(0, 3, 1, 2).float() / 255.0)


def make_encoder(space: gym.Space, pair: bool, conv_channels: Sequence[int]) -> nn.Module:
    """The one place where the observation space picks the encoder."""
    if is_image(space):
        return ConvEncoder(space, pair, conv_channels)
    if isinstance(space, gym.spaces.Box):
        return VectorEncoder(space, pair)
    if isinstance(space, gym.spaces.Discrete):
        return OneHotEncoder(space, pair)
    raise ValueError(f"unsupported observation space {space!r}: expected Box or Discrete")


def mlp_head(in_features: int, hidden: Sequence[int], out: int) -> nn.Sequential:
    """(Linear -> ReLU)* -> Linear to `out` logits. ReLU extrapolates linearly beyond the states
    the inverse model was trained on, where a tanh would saturate."""
    widths = [in_features, *hidden]
    layers: list[nn.Module] = []
    for width_in, width_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], out))


class InverseDynamicsNet(nn.Module):
    """Logits (B, A) of p(a | s, s')."""

    def __init__(self, observation_space: gym.Space, num_actions: int, hidden: Sequence[int],
                 conv_channels: Sequence[int]) -> None:
        super().__init__()
        self.encoder = make_encoder(observation_space, True, conv_channels)
        self.head = mlp_head(self.encoder.out_features, hidden, num_actions)

    def forward(self, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(obs, next_obs))


class PolicyNet(nn.Module):
    """Logits (B, A) of pi(a | s): the "bco" architecture of lfo_ray.policy."""

    def __init__(self, observation_space: gym.Space, num_actions: int, hidden: Sequence[int],
                 conv_channels: Sequence[int]) -> None:
        super().__init__()
        self.num_actions = int(num_actions)
        self.encoder = make_encoder(observation_space, False, conv_channels)
        self.head = mlp_head(self.encoder.out_features, hidden, num_actions)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(obs))


def policy_spec(observation_space: gym.Space, action_space: gym.spaces.Discrete, hidden: Sequence[int],
                conv_channels: Sequence[int]) -> PolicySpec:
    """The deployed (greedy) policy's spec."""
    return PolicySpec("bco", observation_space, action_space,
                      {"hidden": list(hidden), "conv_channels": list(conv_channels)}, greedy=True)


def build_policy_net(observation_space: gym.Space, action_space: gym.spaces.Discrete, hidden: Sequence[int],
                     conv_channels: Sequence[int]) -> PolicyNet:
    return PolicyNet(observation_space, int(action_space.n), hidden, conv_channels)


register_architecture("bco", build_policy_net)


class BCOPolicy:
    """The CPU acting policy of the rollout workers and of evaluation.

    Until the first weights arrive it acts uniformly at random: that is the pre-demonstration
    phase. Afterwards it samples pi(a|s) (collecting), or takes its argmax (greedy: deployment).
    Its random stream comes from the action space, which each rollout worker seeds differently.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.spaces.Discrete,
                 hidden: Sequence[int] = (64, 64), conv_channels: Sequence[int] = (16, 32),
                 greedy: bool = False) -> None:
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"BCO needs a Discrete action space, got {action_space}")
        self.net = PolicyNet(observation_space, int(action_space.n), hidden, conv_channels)
        self.dtype = obs_dtype(observation_space)
        self.greedy = greedy
        self.rng = np.random.default_rng(action_space.np_random.integers(2**63))
        self.has_weights = False

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        self.net.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
        self.has_weights = True

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        num_actions = self.net.num_actions
        if not self.has_weights:
            return self.rng.integers(num_actions, size=len(obs))
        logits = self.net(torch.as_tensor(np.asarray(obs), dtype=self.dtype))
        if self.greedy:
            return logits.argmax(dim=-1).numpy()
        # Inverse-CDF sampling of each row's softmax with one uniform draw per row.
        cdf = torch.softmax(logits.double(), dim=-1).cumsum(dim=-1).numpy()
        draws = self.rng.random((len(obs), 1)) * cdf[:, -1:]
        return np.minimum((cdf < draws).sum(axis=1), num_actions - 1)
