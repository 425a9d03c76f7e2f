"""BC's and DAgger's policy networks, one per kind of action space, over the shared encoders of
lfo_ray.nets (observations standardised or one-hot, as `ObsFeatures` makes them):

- Discrete actions: `CategoricalPolicyNet`, logits (B, A); registered as the "mlp" architecture of
  lfo_ray.policy. A one-hot observation's first layer is a row lookup (`PartsMLP`).
- Box actions: lfo_ray.nets.GaussianActor, (mean, log_std) over normalised actions with a
  state-independent log-std, deployed as the "gaussian" architecture (the env clips the actions).

`policy_spec` is the one place that picks between them; `spec.build()` makes the network.
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import torch
from torch import nn

from lfo_ray.nets import ObsFeatures, PartsMLP
from lfo_ray.policy import Policy, PolicySpec, register_architecture


class CategoricalPolicyNet(nn.Module):
    """Logits (B, A) of a categorical policy over a Discrete action space."""

    def __init__(self, observation_space: gym.Space, num_actions: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.observation_space = observation_space
        self.num_actions = num_actions
        self.hidden = tuple(hidden)
        self.features = ObsFeatures(observation_space)
        # A small output gain starts the policy near uniform.
        self.logits = PartsMLP([self.features.dim], [self.features.discrete], hidden, num_actions, out_gain=0.01)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs: as lfo_ray.policy.obs_tensor makes them."""
        return self.logits([self.features(obs)])


def build_mlp_policy(observation_space: gym.Space, action_space: gym.spaces.Discrete,
                     hidden: Sequence[int]) -> CategoricalPolicyNet:
    """The "mlp" architecture of lfo_ray.policy."""
    return CategoricalPolicyNet(observation_space, int(action_space.n), hidden)


def policy_spec(observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int],
                greedy: bool) -> PolicySpec:
    """The deployed policy of BC/DAgger: "mlp" for Discrete actions, "gaussian" for Box ones."""
    architecture = "mlp" if isinstance(action_space, gym.spaces.Discrete) else "gaussian"
    return PolicySpec(architecture, observation_space, action_space, {"hidden": list(hidden)}, greedy)


def mlp_policy(net: CategoricalPolicyNet, greedy: bool, seed: int | None = None) -> Policy:
    """`net` as the deployed Policy (saved and loaded as architecture "mlp")."""
    spec = PolicySpec("mlp", net.observation_space, gym.spaces.Discrete(net.num_actions),
                      {"hidden": list(net.hidden)}, greedy)
    return Policy(net, spec, seed)


register_architecture("mlp", build_mlp_policy)
