"""Networks of the imitation family, for Box or Discrete observations and Discrete or Box actions.

Every network reads observations through `lfo_ray.nets.ObsFeatures` (standardised vectors, one-hot
ids), so one definition serves CartPole's vectors and GridWorld's cells.

- `ActorCritic`: separate tanh MLPs for the policy (logits, or the means of a Gaussian over
  normalised Box actions with a state-independent log-std) and the value; the observation
  statistics are running buffers that travel with the weights.
- `DeployedActor`: the policy part, what `lfo_ray.load_policy` rebuilds from a run.
- `NumpyPolicy`: the same policy evaluated with numpy on rollout workers (a 64x64 MLP on 8 rows is
  ~10x cheaper in numpy than through torch's dispatcher), sampling or greedy.
- Reward networks: `PairDiscriminator` (GAIL/GAIfO), `NextStateModel` (IMRL), `TwoTower` (PMI-IL).
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lfo_ray.distributions import (
    LOG_STD_MAX,
    LOG_STD_MIN,
    ActionBounds,
    action_width,
    categorical_log_prob_entropy,
    gaussian_entropy,
    gaussian_log_prob,
)
from lfo_ray.nets import OBS_CLIP, ObsFeatures, PartsMLP
from lfo_ray.policy import register_architecture


class ActorCritic(nn.Module):
    """Policy outputs and values (B,) of observations (B, ...) or ids (B,). The policy output is
    logits (B, A) for Discrete actions, (mean, log_std) (B, D) each for Box actions."""

    squash = "clip"
    """How Box actions reach their bounds (lfo_ray.distributions): PPO's raw samples are clipped."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int]) -> None:
        super().__init__()
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.bounds = None if self.discrete else ActionBounds.of(action_space)
        self.hidden = tuple(hidden)
        self.features = ObsFeatures(observation_space)
        width, discrete = [self.features.dim], [self.features.discrete]
        self.pi = PartsMLP(width, discrete, hidden, action_width(action_space), out_gain=0.01)
        self.v = PartsMLP(width, discrete, hidden, 1, out_gain=1.0)
        self.log_std = None if self.discrete else nn.Parameter(torch.zeros(action_width(action_space)))

    def _policy(self, x: list[torch.Tensor]) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out = self.pi(x)
        if self.discrete:
            return out
        return out, self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).expand_as(out)

    def forward(self, obs: torch.Tensor):
        return self.from_features(self.features(obs))

    def from_features(self, features: torch.Tensor):
        """`forward` on `self.features(obs)` computed beforehand (PPO encodes a rollout once per
        update, not once per pass)."""
        x = [features]
        return self._policy(x), self.v(x).squeeze(-1)

    def policy(self, obs: torch.Tensor):
        return self._policy([self.features(obs)])

    def log_prob_entropy(self, out, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log pi(a) (B,) and entropy (B,) of a policy output at actions (ids, or normalised Box actions)."""
        if self.discrete:
            return categorical_log_prob_entropy(out, actions)
        mean, log_std = out
        return gaussian_log_prob(mean, log_std, actions), gaussian_entropy(log_std)

    def acting_weights(self) -> dict[str, np.ndarray]:
        """What rollout workers need: the observation encoding and the policy layers, as numpy arrays."""
        features = self.features
        weights: dict[str, torch.Tensor | np.ndarray] = {}
        if features.discrete:
            weights["one_hot"] = np.array([features.start, features.n])
        else:
            weights["mean"], weights["var"] = features.obs.mean, features.obs.var
        if not self.discrete:
            weights["log_std"] = self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
            weights["center"], weights["half_range"] = self.bounds.center, self.bounds.half_range
        weights["w0"], weights["b0"] = self.pi.first_layer()
        for k, layer in enumerate((m for m in self.pi.rest if isinstance(m, nn.Linear)), start=1):
            weights[f"w{k}"], weights[f"b{k}"] = layer.weight, layer.bias
        return {name: t.detach().cpu().numpy().copy() if isinstance(t, torch.Tensor) else t
                for name, t in weights.items()}


class DeployedActor(ActorCritic):
    """The deployed policy ("actor_critic" in lfo_ray.policy): the ActorCritic's policy output alone."""

    def forward(self, obs: torch.Tensor):
        return self.policy(obs)


def build_actor(observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int]) -> DeployedActor:
    return DeployedActor(observation_space, action_space, hidden)


register_architecture("actor_critic", build_actor)


class NumpyPolicy:
    """The ActorCritic's policy head in numpy: what rollout workers run.

    Built as `NumpyPolicy(observation_space, action_space)` (the RolloutWorker policy factory
    signature); acts uniformly at random until the first `set_weights`. Box actions: the Gaussian's
    sample (or mean, greedy) in env units, unclipped (the vector driver clips it into the env). For one-hot inputs the first
    layer is a row lookup, never a (B, n) matrix product.
    """

    def __init__(self, observation_space=None, action_space=None, greedy: bool = False, seed: int = 0) -> None:
        self.action_space = action_space
        self.greedy = greedy
        self.rng = np.random.default_rng(seed)
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        self.mean = self.std = self.one_hot = self.log_std = None

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        if "log_std" in weights:
            self.log_std = weights["log_std"].astype(np.float32)
            self.center, self.half_range = weights["center"], weights["half_range"]
        if "one_hot" in weights:
            self.one_hot = (int(weights["one_hot"][0]), int(weights["one_hot"][1]))
        else:
            self.mean = weights["mean"].astype(np.float32)
            self.std = np.sqrt(weights["var"] + 1e-8).astype(np.float32)
        count = sum(1 for name in weights if name.startswith("w"))
        self.layers = [(weights[f"w{k}"].T.astype(np.float32).copy(), weights[f"b{k}"].astype(np.float32))
                       for k in range(count)]

    def logits(self, obs: np.ndarray) -> np.ndarray:
        first, *rest = self.layers
        if self.one_hot is not None:
            x = first[0][np.asarray(obs, dtype=np.int64) - self.one_hot[0]] + first[1]
        else:
            x = np.clip((np.asarray(obs, dtype=np.float32).reshape(len(obs), -1) - self.mean) / self.std,
                        -OBS_CLIP, OBS_CLIP) @ first[0] + first[1]
        for w, b in rest:
            x = np.tanh(x) @ w + b
        return x

    def act(self, obs: np.ndarray) -> np.ndarray:
        if not self.layers:
            if isinstance(self.action_space, gym.spaces.Discrete):
                return self.rng.integers(self.action_space.n, size=len(obs))
            return self.rng.uniform(self.action_space.low, self.action_space.high,
                                    (len(obs), *self.action_space.shape)).astype(np.float32)
        logits = self.logits(obs)
        if self.log_std is not None:
            u = np.clip(logits, -1.0, 1.0) if self.greedy else (
                logits + np.exp(self.log_std) * self.rng.standard_normal(logits.shape, dtype=np.float32))
            return (self.center + self.half_range * u).astype(np.float32)
        if self.greedy:
            return logits.argmax(-1)
        gumbel = -np.log(-np.log(self.rng.random(logits.shape, dtype=np.float32) + 1e-20) + 1e-20)
        return (logits + gumbel).argmax(-1)


def one_hot_or_none(actions: torch.Tensor, n: int) -> torch.Tensor:
    """One-hot float rows of action ids (B,); id -1 (no action: an absorbing state's) gives zeros."""
    actions = actions.long()
    return F.one_hot(actions.clamp(min=0), n).float() * (actions >= 0).unsqueeze(-1)


class PairDiscriminator(nn.Module):
    """Logit (B,) of D = P(expert) on the state's features and `second`, side by side:

    - "action": the action, one-hot (GAIL); for Box actions the normalised action clipped to [-1, 1]
      (what the env acted on: an agent must not be told apart by samples the env clipped anyway);
    - "delta": the step s' - s (GAIfO's default). Still a function of (s, s'), but a CartPole step
      moves the state by ~1% of its spread, so on raw (s, s') the MLP mostly sees the state marginal
      and rewards being where the expert was rather than moving as it did;
    - "next_obs": s' (GAIfO as published); "both": s' and the step.
    """

    SECONDS = ("action", "delta", "next_obs", "both")

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int],
                 second: str) -> None:
        super().__init__()
        if second not in self.SECONDS:
            raise ValueError(f"second must be one of {self.SECONDS}, got {second!r}")
        self.second, self.num_actions = second, action_width(action_space)
        self.discrete_actions = isinstance(action_space, gym.spaces.Discrete)
        self.obs = ObsFeatures(observation_space)
        # Actions are few, so GAIL's is a dense one-hot float: the gradient penalty can interpolate it.
        obs_part, delta_part, action_part = (self.obs.dim, self.obs.discrete), (self.obs.delta_dim, self.obs.discrete), \
            (self.num_actions, False)
        parts = [obs_part, *{"action": [action_part], "delta": [delta_part], "next_obs": [obs_part],
                             "both": [obs_part, delta_part]}[second]]
        self.net = PartsMLP([w for w, _ in parts], [d for _, d in parts], hidden, 1)

    @property
    def continuous(self) -> bool:
        """True when every input part is a float vector (what the gradient penalty interpolates)."""
        return not any(self.net.discrete)

    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor) -> None:
        """Standardisation from expert transitions."""
        self.obs.fit(obs, next_obs)

    def features(self, obs: torch.Tensor, actions: torch.Tensor | None, next_obs: torch.Tensor) -> list[torch.Tensor]:
        """The input parts the MLP sees."""
        if self.second == "action":
            if actions is None:
                raise ValueError("GAIL's discriminator needs actions (the demonstrations have none)")
            parts = [one_hot_or_none(actions, self.num_actions) if self.discrete_actions
                     else actions.float().clamp(-1.0, 1.0)]
        elif self.second == "delta":
            parts = [self.obs.delta(obs, next_obs)]
        elif self.second == "next_obs":
            parts = [self.obs(next_obs)]
        else:
            parts = [self.obs(next_obs), self.obs.delta(obs, next_obs)]
        return [self.obs(obs), *parts]

    def head(self, parts: list[torch.Tensor]) -> torch.Tensor:
        return self.net(parts).squeeze(-1)

    def dense_head(self, x: torch.Tensor) -> torch.Tensor:
        """`head` of the parts concatenated into one float matrix (continuous inputs only)."""
        return self.head(list(x.split(list(self.net.widths), dim=1)))

    def forward(self, obs: torch.Tensor, actions: torch.Tensor | None, next_obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(obs, actions, next_obs))


class NextStateModel(nn.Module):
    """theta(s): the expert's mean step features (standardised s' - s, or the one-hot id difference),
    plus a learned per-dimension log std for the Gaussian likelihood form."""

    def __init__(self, observation_space: gym.Space, hidden: Sequence[int]) -> None:
        super().__init__()
        self.obs = ObsFeatures(observation_space)
        self.net = PartsMLP([self.obs.dim], [self.obs.discrete], hidden, self.obs.delta_dim)
        self.log_std = nn.Parameter(torch.zeros(self.obs.delta_dim))

    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor) -> None:
        self.obs.fit(obs, next_obs)

    def target(self, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """The step features the model predicts, as a float vector."""
        return self.obs.one_hot(self.obs.delta(obs, next_obs), self.obs.delta_dim)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net([self.obs(obs)])


class TwoTower(nn.Module):
    """PMI-IL's DSSM: phi1(s') and phi2(s), each (B, E), optionally unit-norm."""

    def __init__(self, observation_space: gym.Space, hidden: Sequence[int], embed_dim: int, normalize: bool) -> None:
        super().__init__()
        self.obs = ObsFeatures(observation_space)
        width, discrete = [self.obs.dim], [self.obs.discrete]
        self.phi1 = PartsMLP(width, discrete, hidden, embed_dim)
        self.phi2 = PartsMLP(width, discrete, hidden, embed_dim)
        self.normalize = normalize

    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor) -> None:
        self.obs.fit(obs, next_obs)

    def _embed(self, tower: nn.Module, obs: torch.Tensor) -> torch.Tensor:
        out = tower([self.obs(obs)])
        return F.normalize(out, dim=-1) if self.normalize else out

    def next_embed(self, next_obs: torch.Tensor) -> torch.Tensor:
        return self._embed(self.phi1, next_obs)

    def embed(self, obs: torch.Tensor) -> torch.Tensor:
        return self._embed(self.phi2, obs)
