"""Action distributions of every learner and of the deployed policy: one of each.

Discrete action spaces use a categorical over logits. Box action spaces use a diagonal Gaussian
over *normalised* actions u, in which [-1, 1] spans the space's bounds (`ActionBounds`), with one of
two ways into the bounds:

- "clip" (PPO, BC, BCO): the env receives the unclipped sample mapped to env units and clips it
  (`lfo_ray.envs` wraps Box-action envs in ClipAction), so the stored action is the sample itself and
  its log-prob is the plain Gaussian one.
- "tanh" (SAC): y = tanh(u) stays inside the bounds; its log-prob carries the change of variables
  log|dy/du| = sum log(1 - tanh(u)^2), computed in the overflow-free form 2 (log 2 - u - softplus(-2u)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch.nn import functional as F

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
"""Range of learned log standard deviations (normalised action units)."""
SQUASHES = ("clip", "tanh")
_HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


@dataclass(frozen=True)
class ActionBounds:
    """The affine map between normalised actions in [-1, 1] and a Box space's bounds."""

    center: np.ndarray
    half_range: np.ndarray

    @classmethod
    def of(cls, space: gym.spaces.Box) -> "ActionBounds":
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"continuous actions must be a 1-D Box, got {space}")
        low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError(f"continuous actions need finite bounds to normalise them, got {space}")
        return cls(((high + low) / 2).astype(np.float32), ((high - low) / 2).astype(np.float32))

    @property
    def dim(self) -> int:
        return len(self.center)

    def to_env(self, y: np.ndarray) -> np.ndarray:
        """Normalised actions (..., D) -> env units (float32)."""
        return (self.center + self.half_range * np.asarray(y, np.float32)).astype(np.float32)

    def from_env(self, actions: np.ndarray) -> np.ndarray:
        """Env-unit actions (..., D) -> normalised units (float32)."""
        return ((np.asarray(actions, np.float32) - self.center) / self.half_range).astype(np.float32)


def action_width(space: gym.Space) -> int:
    """Outputs a policy head needs per distribution parameter: n logits, or D means."""
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    return ActionBounds.of(space).dim


def categorical_log_prob_entropy(logits: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log pi(a) (B,) and entropy (B,) of categorical logits (B, A) at integer actions (B,), without building
    a torch.distributions object per minibatch (its argument checks cost more than the math, and would
    raise on a NaN before the learner's metric check can name it)."""
    log_p = torch.log_softmax(logits, dim=-1)
    return log_p.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1), -(log_p.exp() * log_p).sum(-1)


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag exp(log_std)^2), summed over the last dim: (B, D) -> (B,)."""
    z = (x - mean) * torch.exp(-log_std)
    return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    """Entropy of a diagonal Gaussian, summed over the last dim."""
    return (log_std + _HALF_LOG_2PI_E).sum(-1)


def tanh_log_det(u: torch.Tensor) -> torch.Tensor:
    """log |d tanh(u) / du| summed over the last dim, without overflow for large |u|."""
    return (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(-1)


def squashed_sample(mean: torch.Tensor, log_std: torch.Tensor,
                    noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A reparameterised tanh-Gaussian sample y in (-1, 1) (B, D) and its log-prob (B,), from standard
    normal `noise`: gradients flow to mean and log_std (SAC's actor loss)."""
    u = mean + torch.exp(log_std) * noise
    return torch.tanh(u), gaussian_log_prob(mean, log_std, u) - tanh_log_det(u)


def squash(u: np.ndarray | torch.Tensor, kind: str):
    """Normalised pre-squash actions into [-1, 1], as the env will act on them."""
    if kind == "tanh":
        return torch.tanh(u) if isinstance(u, torch.Tensor) else np.tanh(u)
    if kind == "clip":
        return u.clamp(-1.0, 1.0) if isinstance(u, torch.Tensor) else np.clip(u, -1.0, 1.0)
    raise ValueError(f"squash must be one of {SQUASHES}, got {kind!r}")
