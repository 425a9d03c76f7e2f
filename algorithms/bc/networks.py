"""Policy networks over Discrete or Box observations, shared by BC, DAgger and GAIL/GAIfO.

A Discrete observation is one-hot encoded; its first layer is stored as a lookup table
(`OneHotLinear`: row i of the weight is the layer's output for one-hot(i)), which is the same
function as a Linear layer on the one-hot vector without building the vector. A Box
observation is flattened to float32.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from lfo_ray.data import space_from_dict, space_to_dict
from lfo_ray.checkpoint import safe_torch_load, save_torch
from lfo_ray.data.parquet import atomic_write

POLICY_WEIGHTS = "policy.pt"
POLICY_INFO = "policy.json"


class OneHotLinear(nn.Module):
    """Linear(n, width) applied to one-hot(index), as a table lookup."""

    def __init__(self, n: int, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n, width))
        self.bias = nn.Parameter(torch.zeros(width))
        nn.init.zeros_(self.weight)

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        return self.weight[index.long()] + self.bias


def input_layer(space: gym.Space, width: int) -> nn.Module:
    """The first layer for observations from `space`: OneHotLinear for Discrete, Linear for Box."""
    if isinstance(space, gym.spaces.Discrete):
        return OneHotLinear(int(space.n), width)
    if isinstance(space, gym.spaces.Box):
        return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(space.shape)), width))
    raise ValueError(f"unsupported observation space {space!r}: expected Discrete or Box")


def as_input(obs: np.ndarray | torch.Tensor, space: gym.Space, device: torch.device) -> torch.Tensor:
    """A batch of observations as the tensor `input_layer` expects."""
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
        return self.logits(obs)


class NetworkPolicy:
    """Acts with a CategoricalPolicyNet: samples its distribution, or its argmax when greedy."""

    def __init__(self, net: CategoricalPolicyNet, greedy: bool = False, seed: int | None = None) -> None:
        self.net = net
        self.greedy = greedy
        self.device = next(net.parameters()).device
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63))

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        logits = self.net(as_input(obs, self.net.observation_space, self.device))
        if self.greedy:
            return logits.argmax(dim=-1).cpu().numpy()
        probs = torch.softmax(logits, dim=-1)
        return torch.multinomial(probs, 1, generator=self.generator).squeeze(-1).cpu().numpy()

    @torch.no_grad()
    def action_probs(self, obs: np.ndarray) -> np.ndarray:
        """(B, A) the distribution `act` draws from (one-hot rows when greedy)."""
        logits = self.net(as_input(obs, self.net.observation_space, self.device))
        if self.greedy:
            return np.eye(self.net.num_actions)[logits.argmax(dim=-1).cpu().numpy()]
        return torch.softmax(logits, dim=-1).double().cpu().numpy()


def save_network_policy(policy: NetworkPolicy, directory: Path) -> None:
    """policy.pt (weights) and policy.json (what is needed to rebuild the network)."""
    net = policy.net
    info: dict[str, Any] = {
        "observation_space": space_to_dict(net.observation_space),
        "num_actions": net.num_actions,
        "hidden": list(net.hidden),
        "greedy": policy.greedy,
    }
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    save_torch(directory / POLICY_WEIGHTS, state)
    atomic_write(directory / POLICY_INFO, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2)))


def load_network_policy(directory: Path, device: str = "cpu") -> NetworkPolicy:
    directory = Path(directory)
    if not (directory / POLICY_WEIGHTS).exists():
        raise FileNotFoundError(f"{directory / POLICY_WEIGHTS}: no saved network policy")
    info = json.loads((directory / POLICY_INFO).read_text())
    net = CategoricalPolicyNet(space_from_dict(info["observation_space"]), int(info["num_actions"]),
                               info["hidden"])
    net.load_state_dict(safe_torch_load(directory / POLICY_WEIGHTS))
    return NetworkPolicy(net.to(device), greedy=bool(info["greedy"]))
