"""BCO's two networks, the inverse dynamics model p(a | s, s') and the policy pi(a | s).

Both are an observation encoder followed by an action head: an MLP giving categorical logits for
a Discrete action space, or the mean of a Gaussian over actions normalised to [-1, 1] with a
learned state-independent log-std for a Box one (lfo_ray.distributions, `head_output`). The
deployed policy is the "bco" architecture either way (a Box policy's actions are clipped to the
bounds, its `squash`). The encoder is
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

from lfo_ray.nets import ObsFeatures, tanh_mlp
from lfo_ray.distributions import LOG_STD_MAX, LOG_STD_MIN, ActionBounds
from lfo_ray.policy import PolicySpec, WorkerPolicy, register_architecture


def is_image(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 3 and space.dtype == np.uint8


class VectorEncoder(nn.Module):
    """s standardised, or the pair as (s, s' - s) each standardised: lfo_ray.nets.ObsFeatures."""

    def __init__(self, space: gym.spaces.Box, pair: bool) -> None:
        super().__init__()
        self.pair = pair
        self.obs_features = ObsFeatures(space)
        self.out_features = self.obs_features.dim * (2 if pair else 1)

    @torch.no_grad()
    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> None:
        self.obs_features.fit(obs.float(), None if next_obs is None else next_obs.float())

    def forward(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> torch.Tensor:
        obs = obs.float()
        x = self.obs_features(obs)
        return x if not self.pair else torch.cat([x, self.obs_features.delta(obs, next_obs.float())], dim=1)


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


def mlp_head(in_features: int, hidden: Sequence[int], out: int, activation: str = "relu") -> nn.Sequential:
    """(Linear -> activation)* -> Linear to `out` outputs (lfo_ray.nets.tanh_mlp).

    "relu" (the inverse model; torch's default initialisation): extrapolates linearly beyond the
    transitions it was trained on, where a tanh would saturate. "tanh" (the policy, BC's head:
    orthogonal with a small output gain): a policy is fitted on expert states only, which a good
    expert keeps in a tiny region (InvertedPendulum's pole angle spreads 0.0024 rad), so
    standardised off-demo states lie many stds out; a ReLU net's unbounded, noise-fitted slopes
    send the actions anywhere there, while a tanh net's stay bounded and smooth (BCO's ReLU policy
    got ~40 there on the true actions, the tanh one 1000)."""
    if activation == "tanh":
        return tanh_mlp(in_features, hidden, out, out_gain=0.01)
    if activation != "relu":
        raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
    return tanh_mlp(in_features, hidden, out, activation="relu", orthogonal=False)


def as_action_space(actions: gym.Space | int) -> gym.Space:
    """An action space; an int n stands for Discrete(n)."""
    return gym.spaces.Discrete(actions) if isinstance(actions, int) else actions


def head_kind(action_space: gym.Space) -> str:
    """"categorical" or "gaussian": which head, and which losses (losses.HEADS), BCO uses."""
    return "categorical" if isinstance(action_space, gym.spaces.Discrete) else "gaussian"


def head_width(action_space: gym.Space) -> int:
    """Outputs of an action head's MLP: one logit per Discrete action, one mean per Box dimension."""
    return ActionBounds.of(action_space).dim if head_kind(action_space) == "gaussian" else int(action_space.n)


def gaussian_log_std(action_space: gym.Space) -> nn.Parameter | None:
    """A Box head's learned state-independent log-std (normalised units); None for Discrete."""
    return nn.Parameter(torch.zeros(head_width(action_space))) if head_kind(action_space) == "gaussian" else None


def head_output(out: torch.Tensor, log_std: nn.Parameter | None) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The head MLP's output as the losses take it: logits, or (mean, log_std) (losses.HEADS)."""
    if log_std is None:
        return out
    return out, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).expand_as(out)


class InverseDynamicsNet(nn.Module):
    """p(a | s, s'): logits (B, A), or (mean, log_std) of the normalised Box action."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space | int, hidden: Sequence[int],
                 conv_channels: Sequence[int]) -> None:
        super().__init__()
        action_space = as_action_space(action_space)
        self.encoder = make_encoder(observation_space, True, conv_channels)
        self.head = mlp_head(self.encoder.out_features, hidden, head_width(action_space))
        self.log_std = gaussian_log_std(action_space)

    def forward(self, obs: torch.Tensor, next_obs: torch.Tensor):
        return head_output(self.head(self.encoder(obs, next_obs)), self.log_std)


POLICY_ACTIVATION = "tanh"
"""The policy head's activation (see `mlp_head`); recorded in the deployed spec."""


class PolicyNet(nn.Module):
    """pi(a | s), shaped like `InverseDynamicsNet`'s output: the "bco" architecture of lfo_ray.policy."""

    squash = "clip"
    """How a Box policy's normalised actions reach the bounds (lfo_ray.distributions.squash)."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space | int, hidden: Sequence[int],
                 conv_channels: Sequence[int], activation: str = POLICY_ACTIVATION) -> None:
        super().__init__()
        self.action_space = as_action_space(action_space)
        self.encoder = make_encoder(observation_space, False, conv_channels)
        self.head = mlp_head(self.encoder.out_features, hidden, head_width(self.action_space), activation)
        self.log_std = gaussian_log_std(self.action_space)

    def forward(self, obs: torch.Tensor):
        return head_output(self.head(self.encoder(obs)), self.log_std)


def policy_spec(observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int],
                conv_channels: Sequence[int], greedy: bool = True) -> PolicySpec:
    """The deployed policy's spec (greedy: the argmax, or the Gaussian's mean)."""
    return PolicySpec("bco", observation_space, action_space,
                      {"hidden": list(hidden), "conv_channels": list(conv_channels), "activation": POLICY_ACTIVATION},
                      greedy=greedy)


def build_policy_net(observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int],
                     conv_channels: Sequence[int], activation: str = "relu") -> PolicyNet:
    """The "bco" architecture; policies saved before the spec recorded an activation had ReLU heads."""
    return PolicyNet(observation_space, action_space, hidden, conv_channels, activation)


register_architecture("bco", build_policy_net)


def acting_policy(observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int] = (64, 64),
                  conv_channels: Sequence[int] = (16, 32), greedy: bool = False) -> WorkerPolicy:
    """The CPU acting policy of the rollout workers and of evaluation (a RolloutWorker's policy factory).

    Until the first weights arrive it acts uniformly at random over the action space (Box: over its
    bounds): that is the pre-demonstration phase. Afterwards it samples pi(a|s) (collecting) or acts
    greedily (deployment). Its random stream is seeded from the action space, which each rollout
    worker seeds differently.
    """
    spec = policy_spec(observation_space, action_space, hidden, conv_channels, greedy)
    return WorkerPolicy(spec, np.random.default_rng(int(action_space.np_random.integers(2**63))))
