"""Networks of the learned-reward family, for Box observations and Discrete actions.

- `ActorCritic`: separate tanh MLPs for the policy logits and the value, behind a running
  observation normaliser whose statistics travel with the weights.
- `NumpyPolicy`: the same policy evaluated with numpy on rollout workers (a 64x64 MLP on 8 rows is
  ~10x cheaper in numpy than through torch's dispatcher), sampling or greedy.
- Reward networks, all behind a fixed normaliser fitted on the expert's observations:
  `PairDiscriminator` (GAIL/GAIfO), `NextStateModel` (IMRL), `TwoTower` (PMI-IL).

The discriminator is an MLP on the concatenated, continuous input (one-hot actions for GAIL) rather
than `adversarial.networks.Discriminator` (whose Discrete inputs are table lookups), because the
gradient penalty interpolates between expert and agent inputs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

OBS_CLIP = 10.0


def tanh_mlp(width_in: int, hidden: Sequence[int], width_out: int, out_gain: float = 1.0) -> nn.Sequential:
    """Linear -> tanh -> ... -> Linear, orthogonally initialised (CleanRL's PPO initialisation)."""
    widths = [width_in, *hidden, width_out]
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        linear = nn.Linear(a, b)
        last = k == len(widths) - 2
        nn.init.orthogonal_(linear.weight, out_gain if last else np.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers += [linear] if last else [linear, nn.Tanh()]
    return nn.Sequential(*layers)


class Normalizer(nn.Module):
    """(x - mean) / std clipped to +-OBS_CLIP; `fit` sets the statistics, `update` merges a batch into
    running statistics (Chan et al.'s parallel variance)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("count", torch.tensor(1e-4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.mean) / torch.sqrt(self.var + 1e-8)).clamp(-OBS_CLIP, OBS_CLIP)

    @torch.no_grad()
    def fit(self, x: torch.Tensor, min_std: float = 1e-3) -> None:
        self.mean.copy_(x.mean(0))
        self.var.copy_(x.var(0, unbiased=False).clamp_min(min_std ** 2))
        self.count.fill_(len(x))

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        batch_mean, batch_var, n = x.mean(0), x.var(0, unbiased=False), len(x)
        delta, total = batch_mean - self.mean, self.count + n
        self.var.copy_((self.var * self.count + batch_var * n + delta ** 2 * self.count * n / total) / total)
        self.mean.add_(delta * n / total)
        self.count.copy_(total)


class ActorCritic(nn.Module):
    """Logits (B, A) and values (B,) of normalised observations (B, D)."""

    def __init__(self, obs_dim: int, num_actions: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.obs_dim, self.num_actions, self.hidden = obs_dim, num_actions, tuple(hidden)
        self.normalizer = Normalizer(obs_dim)
        self.pi = tanh_mlp(obs_dim, hidden, num_actions, out_gain=0.01)
        self.v = tanh_mlp(obs_dim, hidden, 1, out_gain=1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.normalizer(obs)
        return self.pi(x), self.v(x).squeeze(-1)

    def acting_weights(self) -> dict[str, np.ndarray]:
        """What rollout workers need: the normaliser and the policy layers, as numpy arrays."""
        weights = {"mean": self.normalizer.mean, "var": self.normalizer.var}
        for k, layer in enumerate(m for m in self.pi if isinstance(m, nn.Linear)):
            weights[f"w{k}"], weights[f"b{k}"] = layer.weight, layer.bias
        return {name: t.detach().cpu().numpy().copy() for name, t in weights.items()}


class NumpyPolicy:
    """The ActorCritic's policy head in numpy: what rollout workers and the deployed policy run.

    Built as `NumpyPolicy(observation_space, action_space)` (the RolloutWorker policy factory
    signature); acts uniformly at random until the first `set_weights`.
    """

    def __init__(self, observation_space=None, action_space=None, greedy: bool = False, seed: int = 0) -> None:
        self.num_actions = int(action_space.n) if action_space is not None else None
        self.greedy = greedy
        self.rng = np.random.default_rng(seed)
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        self.mean = self.std = None

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        self.mean = weights["mean"].astype(np.float32)
        self.std = np.sqrt(weights["var"] + 1e-8).astype(np.float32)
        count = sum(1 for name in weights if name.startswith("w"))
        self.layers = [(weights[f"w{k}"].T.astype(np.float32).copy(), weights[f"b{k}"].astype(np.float32))
                       for k in range(count)]
        self.num_actions = len(self.layers[-1][1])

    def logits(self, obs: np.ndarray) -> np.ndarray:
        x = np.clip((np.asarray(obs, dtype=np.float32) - self.mean) / self.std, -OBS_CLIP, OBS_CLIP)
        for k, (w, b) in enumerate(self.layers):
            x = x @ w + b
            if k < len(self.layers) - 1:
                x = np.tanh(x)
        return x

    def act(self, obs: np.ndarray) -> np.ndarray:
        if not self.layers:
            return self.rng.integers(self.num_actions, size=len(obs))
        logits = self.logits(obs)
        if self.greedy:
            return logits.argmax(-1)
        gumbel = -np.log(-np.log(self.rng.random(logits.shape, dtype=np.float32) + 1e-20) + 1e-20)
        return (logits + gumbel).argmax(-1)


class PairDiscriminator(nn.Module):
    """Logit (B,) of D(s, x) = P(expert) on one concatenated input, x one of (`second`):

    - "one_hot": the action, one-hot (GAIL);
    - "delta": s' - s under its own normaliser (GAIfO's default). Still a function of (s, s'), but a
      CartPole step moves the state by ~1% of its spread, so on raw (s, s') the MLP mostly sees the
      state marginal and rewards being where the expert was rather than moving as it did;
    - "next_obs": s' under the state normaliser (GAIfO as published).
    """

    SECONDS = ("one_hot", "delta", "next_obs")

    def __init__(self, obs_dim: int, second_dim: int, hidden: Sequence[int], second: str) -> None:
        super().__init__()
        if second not in self.SECONDS:
            raise ValueError(f"second must be one of {self.SECONDS}, got {second!r}")
        self.obs_dim, self.second = obs_dim, second
        self.normalizer = Normalizer(obs_dim)
        self.delta = Normalizer(obs_dim)
        self.net = tanh_mlp(obs_dim + second_dim, hidden, 1)

    @torch.no_grad()
    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor) -> None:
        """Normalisers from expert transitions."""
        self.normalizer.fit(torch.cat([obs, next_obs]))
        self.delta.fit(next_obs - obs, min_std=1e-6)

    def features(self, obs: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """The (B, obs_dim + second_dim) input the MLP sees (what the gradient penalty interpolates)."""
        if self.second == "delta":
            x = self.delta(second - obs)
        elif self.second == "next_obs":
            x = self.normalizer(second)
        else:
            x = second
        return torch.cat([self.normalizer(obs), x], -1)

    def head(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features).squeeze(-1)

    def forward(self, obs: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(obs, second))


class NextStateModel(nn.Module):
    """theta(s): the expert's mean next state (predicting the normalised change s' - s), plus a learned
    per-dimension log std for the Gaussian likelihood form; both in the normalised space."""

    def __init__(self, obs_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.normalizer = Normalizer(obs_dim)
        self.delta = Normalizer(obs_dim)
        self.net = tanh_mlp(obs_dim, hidden, obs_dim)
        self.log_std = nn.Parameter(torch.zeros(obs_dim))

    def target(self, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """The normalised change the model predicts."""
        return self.delta(next_obs - obs)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalizer(obs))


class TwoTower(nn.Module):
    """PMI-IL's DSSM: phi1(s') and phi2(s), each (B, E), optionally unit-norm."""

    def __init__(self, obs_dim: int, hidden: Sequence[int], embed_dim: int, normalize: bool) -> None:
        super().__init__()
        self.normalizer = Normalizer(obs_dim)
        self.phi1 = tanh_mlp(obs_dim, hidden, embed_dim)
        self.phi2 = tanh_mlp(obs_dim, hidden, embed_dim)
        self.normalize = normalize

    def _embed(self, tower: nn.Module, obs: torch.Tensor) -> torch.Tensor:
        out = tower(self.normalizer(obs))
        return F.normalize(out, dim=-1) if self.normalize else out

    def next_embed(self, next_obs: torch.Tensor) -> torch.Tensor:
        return self._embed(self.phi1, next_obs)

    def embed(self, obs: torch.Tensor) -> torch.Tensor:
        return self._embed(self.phi2, obs)
