"""The network building blocks every algorithm shares: one of each.

- `pick_device`: where a learner's tensors live ("auto"/None: the GPU when one is visible).
- `to_tensor`: numpy -> torch, copying read-only arrays (what Ray's object store hands out).
- `adam`: the one Adam constructor: torch's fused kernel, one call per step for all parameters.
- `Normalizer`: fitted, running or fixed (images to [-1, 1]) mean/std standardisation of vectors
  or whole images, clipped or not; statistics are buffers, so they travel with the weights into
  checkpoints and to the acting policies.
- `tanh_mlp`: the one MLP builder: Linear -> tanh (or another activation) -> ... -> Linear, with
  CleanRL's orthogonal initialisation or torch's default one.
- `ObsFeatures`: the one encoder from an observation space to network inputs — Box vectors
  standardised, Discrete ids one-hot — and of a step s -> s' (`delta`): the standardised
  change for Box, and for Discrete the id difference shifted to 0..2n-2, one-hot, so one
  learned row stands for one kind of move in every state (+1 is a step right on a row-major
  grid, whatever the cell).
- `GaussianActor`: observations -> (mean, log_std) of a Gaussian over normalised Box actions
  (lfo_ray.distributions), with a state-independent or state-dependent log-std.
- `PartsMLP`: an MLP over several such inputs side by side. A one-hot input is passed as its
  ids and its share of the first layer is a row lookup: the same function as a Linear layer on
  the one-hot vector, without building a (B, 2500) matrix for a 50x50 grid.
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lfo_ray.distributions import LOG_STD_MAX, LOG_STD_MIN, SQUASHES

OBS_CLIP = 10.0


def pick_device(device: str | None = None) -> torch.device:
    """None or "auto": "cuda" when a GPU is visible to this process, else "cpu"; else `device`."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def to_tensor(array: np.ndarray | torch.Tensor, dtype: torch.dtype | None = torch.float32,
              device: torch.device | str = "cpu") -> torch.Tensor:
    """A tensor of `array`; read-only numpy views (from Ray's object store) are copied first,
    because torch cannot wrap memory it may not write."""
    if isinstance(array, np.ndarray) and not array.flags.writeable:
        array = array.copy()
    return torch.as_tensor(array, dtype=dtype, device=device)


def adam(params, lr: float, **kwargs) -> torch.optim.Adam:
    """torch.optim.Adam with the fused kernel (CPU and CUDA): on this project's small networks the
    per-tensor Python of the default implementation costs more than the arithmetic (a CartPole PPO
    step: 1.3 ms foreach, 0.43 ms fused, for the same update up to rounding, ~1e-7)."""
    return torch.optim.Adam(params, lr=lr, fused=True, **kwargs)


@torch.no_grad()
def clip_grad_norm(grads: list[torch.Tensor], max_norm: float) -> torch.Tensor:
    """torch.nn.utils.clip_grad_norm_(foreach=True) on gradients of one device and dtype: the same
    arithmetic in the same order (bit-identical), without its per-call grouping and checks, which
    cost more than the arithmetic on small networks (a CartPole PPO minibatch: 221 -> 93 us)."""
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads, 2.0)), 2.0)
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))
    return total


ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "silu": nn.SiLU, "elu": nn.ELU}
"""Hidden activations: tanh for the on-policy and imitation networks, relu for SAC's (its usual choice)
and BCO's inverse model; silu and elu only for the exported expert MLPs (lfo_ray.envs.experts)."""


def tanh_mlp(width_in: int, hidden: Sequence[int], width_out: int, out_gain: float = 1.0,
             activation: str = "tanh", orthogonal: bool = True) -> nn.Sequential:
    """Linear -> tanh (or `activation`) -> ... -> Linear, orthogonally initialised (CleanRL's PPO
    initialisation; `out_gain` scales the last layer).

    orthogonal=False keeps torch's default Linear initialisation (`out_gain` unused): BCO's ReLU
    inverse model, and networks whose weights are loaded anyway (the shipped experts). The layers and
    their state-dict keys (0, 2, 4, ... for the Linears) are the same either way."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
    widths = [width_in, *hidden, width_out]
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        linear = nn.Linear(a, b)
        last = k == len(widths) - 2
        if orthogonal:
            nn.init.orthogonal_(linear.weight, out_gain if last else np.sqrt(2))
            nn.init.zeros_(linear.bias)
        layers += [linear] if last else [linear, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


class Normalizer(nn.Module):
    """(x - mean) / std clipped to +-clip; `fit` sets the statistics from a batch, `update` merges a
    batch into running statistics (Chan et al.'s parallel variance), `unnormalize` maps back.

    shape: one input's (an int for vectors; (H, W, C) keeps images whole); mean, std: the statistics
    until fitted (127.5, 127.5 maps uint8 images to [-1, 1]); clip=None: not clipped (a target that is
    unnormalized again, or raw inputs that may lie far out, e.g. Acrobot's angular velocities).
    """

    def __init__(self, shape: int | Sequence[int], clip: float | None = OBS_CLIP, mean: float = 0.0,
                 std: float = 1.0) -> None:
        super().__init__()
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.clip = clip
        self.register_buffer("mean", torch.full(shape, float(mean)))
        self.register_buffer("var", torch.full(shape, float(std) ** 2))
        self.register_buffer("count", torch.tensor(1e-4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = (x - self.mean) / torch.sqrt(self.var + 1e-8)
        return y if self.clip is None else y.clamp(-self.clip, self.clip)

    def unnormalize(self, y: torch.Tensor) -> torch.Tensor:
        """The inverse of `forward` (where it did not clip)."""
        return y * torch.sqrt(self.var + 1e-8) + self.mean

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


def obs_dtype(space: gym.Space) -> torch.dtype:
    """Observations enter networks as int64 (Discrete ids), uint8 (uint8 Boxes: images, scaled inside
    the network) or float32."""
    if isinstance(space, gym.spaces.Discrete):
        return torch.long
    return torch.uint8 if space.dtype == np.uint8 else torch.float32


class ObsFeatures(nn.Module):
    """Network inputs of observations (`forward`) and of steps s -> s' (`delta`).

    Box(shape): float features, flattened and standardised by `obs` (fitted, or updated as a running
    estimate), width prod(shape); delta: s' - s standardised on its own (a CartPole step moves the
    state ~1% of its spread, so the raw change would vanish next to the state).
    Discrete(n): the one-hot input given by its ids (B,) long, width n (see `PartsMLP`); delta: the
    ids s' - s + n - 1, width 2n - 1. `one_hot` makes them dense where a float vector is needed.
    standardize=False passes Box vectors through as they are (SAC's choice: an off-policy learner's
    replay holds states from every past policy, and statistics that keep moving would change the
    meaning of old transitions).
    """

    def __init__(self, space: gym.Space, standardize: bool = True) -> None:
        super().__init__()
        self.standardize = standardize
        if isinstance(space, gym.spaces.Discrete):
            self.discrete, self.n, self.start = True, int(space.n), int(space.start)
            self.dim, self.delta_dim = self.n, 2 * self.n - 1
        elif isinstance(space, gym.spaces.Box):
            self.discrete = False
            self.dim = self.delta_dim = int(np.prod(space.shape))
        else:
            raise ValueError(f"unsupported observation space {space!r}: expected Box or Discrete")
        self.obs = Normalizer(self.dim)
        self.step = Normalizer(self.dim)

    @torch.no_grad()
    def fit(self, obs: torch.Tensor, next_obs: torch.Tensor | None = None) -> None:
        """Standardisation statistics from demonstration transitions (nothing to fit for Discrete)."""
        if self.discrete:
            return
        obs = obs.flatten(1)
        self.obs.fit(obs if next_obs is None else torch.cat([obs, next_obs.flatten(1)]))
        if next_obs is not None:
            self.step.fit(next_obs.flatten(1) - obs, min_std=1e-6)

    @torch.no_grad()
    def update(self, obs: torch.Tensor) -> None:
        """Merges a batch into the running observation statistics (Box only)."""
        if not self.discrete:
            self.obs.update(obs.flatten(1))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if self.discrete:
            return obs.long() - self.start
        return self.obs(obs.flatten(1)) if self.standardize else obs.flatten(1).float()

    def delta(self, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        if self.discrete:
            return next_obs.long() - obs.long() + self.n - 1
        return self.step(next_obs.flatten(1) - obs.flatten(1))

    def one_hot(self, part: torch.Tensor, width: int) -> torch.Tensor:
        """A part from `forward`/`delta` as a dense float vector (identity for Box features)."""
        return F.one_hot(part, width).float() if self.discrete else part


class PartsMLP(nn.Module):
    """tanh MLP over inputs given side by side as parts: float (B, width) features, or (B,) ids of a
    one-hot input of that width. Initialised as `tanh_mlp` on the concatenated input."""

    def __init__(self, widths: Sequence[int], discrete: Sequence[bool], hidden: Sequence[int], width_out: int,
                 out_gain: float = 1.0, activation: str = "tanh") -> None:
        super().__init__()
        dense = tanh_mlp(sum(widths), hidden, width_out, out_gain, activation)
        first = dense[0]
        self.widths, self.discrete = tuple(widths), tuple(discrete)
        columns = first.weight.detach().split(list(widths), dim=1)
        self.first = nn.ParameterList(nn.Parameter(c.T.contiguous() if d else c.contiguous())
                                      for c, d in zip(columns, discrete))
        self.bias = nn.Parameter(first.bias.detach().clone())
        self.rest = dense[1:]

    def first_layer(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The first layer as one dense (out, sum(widths)) weight and its bias."""
        return torch.cat([w.T if d else w for w, d in zip(self.first, self.discrete)], dim=1), self.bias

    def forward(self, parts: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(parts) != len(self.widths):
            raise ValueError(f"expected {len(self.widths)} input parts, got {len(parts)}")
        if len(parts) == 1 and not self.discrete[0]:
            x = F.linear(parts[0], self.first[0], self.bias)      # the common case: one fused addmm
        else:
            x = self.bias
            for weight, is_ids, part in zip(self.first, self.discrete, parts):
                x = x + (weight[part] if is_ids else part @ weight.T)
        for layer in self.rest:
            x = layer(x)
        return x


class GaussianActor(nn.Module):
    """Observations (B, ...) -> (mean (B, D), log_std (B, D)) over normalised actions (see
    lfo_ray.distributions: `squash` says how they reach the bounds, "clip" or "tanh").

    state_dependent_std=False: log_std is one learned vector (PPO's choice, stable under its
    ratio clipping); True: a second output head, bounded smoothly to [LOG_STD_MIN, LOG_STD_MAX]
    (SAC's choice, whose entropy term needs per-state spread).
    """

    def __init__(self, observation_space: gym.Space, action_dim: int, hidden: Sequence[int], squash: str = "clip",
                 state_dependent_std: bool = False, activation: str = "tanh", init_log_std: float = 0.0,
                 standardize: bool = True) -> None:
        super().__init__()
        if squash not in SQUASHES:
            raise ValueError(f"squash must be one of {SQUASHES}, got {squash!r}")
        self.squash, self.state_dependent_std, self.action_dim = squash, state_dependent_std, action_dim
        self.features = ObsFeatures(observation_space, standardize)
        outputs = 2 * action_dim if state_dependent_std else action_dim
        self.body = PartsMLP([self.features.dim], [self.features.discrete], hidden, outputs, out_gain=0.01,
                             activation=activation)
        self.log_std = None if state_dependent_std else nn.Parameter(torch.full((action_dim,), float(init_log_std)))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.body([self.features(obs)])
        if not self.state_dependent_std:
            return out, self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).expand_as(out)
        mean, raw = out.split(self.action_dim, dim=-1)
        return mean, LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(raw) + 1.0)
