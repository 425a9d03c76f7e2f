"""The one deployed policy type and its one on-disk format.

Every algorithm hands back, saves and loads its policy as `Policy`: a network plus a `PolicySpec`
that says how to rebuild it. For a Discrete action space the network maps an observation batch to
categorical logits (B, A); for a Box action space to (mean, log_std) (B, D) each, a Gaussian over
normalised actions that reach the bounds by the network's `squash` ("clip" or "tanh", see
lfo_ray.distributions). On disk a policy is two files in one directory:

    policy.json   {"format_version", "architecture", "kwargs", "observation_space",
                   "action_space", "greedy"}: plain JSON
    policy.pt     the network's state_dict, read back with torch.load(weights_only=True)

Loading never executes anything from the files: the architecture is a name looked up in a closed
registry (`ARCHITECTURE_MODULES` says which lfo-ray module defines each name; importing it runs
its `register_architecture` call), its kwargs are JSON, and `weights_only=True` refuses any
pickled object other than tensors and plain containers.

    policy = lfo_ray.load_policy("runs/x")
    action = policy.act(obs)                       # one observation -> one action
    actions = policy.act(obs_batch)                # (B, *obs_shape) -> (B,) or (B, D) for Box actions
    actions, _ = policy.predict(obs_batch)         # stable-baselines3's shape
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from lfo_ray.data import space_from_dict, space_to_dict
from lfo_ray.checkpoint import safe_torch_load, save_torch
from lfo_ray.data.parquet import atomic_write
from lfo_ray.distributions import ActionBounds, squash
from lfo_ray.nets import GaussianActor, obs_dtype, to_tensor

FORMAT_VERSION = 1
SPEC_FILE = "policy.json"
WEIGHTS_FILE = "policy.pt"

Builder = Callable[..., nn.Module]
"""builder(observation_space, action_space, **kwargs) -> module mapping observations to logits
(Discrete actions) or to (mean, log_std) (Box actions)."""

ARCHITECTURE_MODULES: dict[str, str] = {
    "mlp": "lfo_ray.algorithms.bc.networks",
    "table": "lfo_ray.algorithms.tabular.policy",
    "bco": "lfo_ray.algorithms.bco.networks",
    "ilpo": "lfo_ray.algorithms.ilpo.networks",
    "actor_critic": "lfo_ray.algorithms.learned_reward.networks",
    "gaussian": "lfo_ray.policy",
}
"""Architecture name -> the lfo-ray module whose import registers it. A saved policy naming any
other architecture is refused; a new network family adds its line here."""

_BUILDERS: dict[str, Builder] = {}


def register_architecture(name: str, builder: Builder) -> None:
    """Makes `name` buildable; the module defining the network calls this when imported."""
    _BUILDERS[name] = builder


def architecture(name: str) -> Builder:
    """The builder registered under `name`, importing its defining module when needed."""
    if name not in _BUILDERS and name in ARCHITECTURE_MODULES:
        importlib.import_module(ARCHITECTURE_MODULES[name])
    if name not in _BUILDERS:
        known = ", ".join(sorted(set(ARCHITECTURE_MODULES) | set(_BUILDERS)))
        raise ValueError(f"unknown policy architecture {name!r}; known: {known}")
    return _BUILDERS[name]


def obs_tensor(obs: Any, space: gym.Space, device: torch.device | str = "cpu") -> torch.Tensor:
    """A batch of observations as the tensor networks expect (`obs_dtype`), in its own memory:
    arrays from Ray's object store are read-only, which torch refuses to wrap."""
    return to_tensor(np.asarray(obs), obs_dtype(space), device)


@dataclass(frozen=True)
class PolicySpec:
    """What rebuilds a policy's network: policy.json."""

    architecture: str
    """A name in the architecture registry."""
    observation_space: gym.Space
    action_space: gym.Space
    """Discrete, or a 1-D Box with finite bounds."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    """The builder's JSON keyword arguments (widths, channels...)."""
    greedy: bool = True
    """act() takes the most likely action (argmax; the Gaussian's mean) or samples the distribution."""

    def __post_init__(self) -> None:
        if not isinstance(self.action_space, gym.spaces.Discrete):
            try:
                ActionBounds.of(self.action_space)
            except ValueError as error:
                raise ValueError(f"policies need a Discrete action space or a 1-D Box with finite bounds: "
                                 f"{error}") from None
        json.dumps(dict(self.kwargs))  # raises TypeError now rather than at save time

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "architecture": self.architecture,
                "kwargs": dict(self.kwargs), "observation_space": space_to_dict(self.observation_space),
                "action_space": space_to_dict(self.action_space), "greedy": bool(self.greedy)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PolicySpec":
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"policy format version {version!r}; this lfo-ray reads version {FORMAT_VERSION}")
        return cls(str(data["architecture"]), space_from_dict(data["observation_space"]),
                   space_from_dict(data["action_space"]), dict(data["kwargs"]), bool(data["greedy"]))

    def build(self) -> nn.Module:
        """A freshly initialised network of this architecture."""
        return architecture(self.architecture)(self.observation_space, self.action_space, **self.kwargs)


class Policy:
    """A categorical or Gaussian policy: acts greedily or by sampling, on one observation or a batch.

    Single or batch is decided by comparing the observation's ndim with the observation space's
    shape (a Discrete space's shape is ()), so act(obs) works on a gymnasium env's observation and
    on a vector env's batch alike. Samples come from this policy's own generator.
    """

    def __init__(self, net: nn.Module, spec: PolicySpec, seed: int | None = None) -> None:
        self.net = net
        self.spec = spec
        self.rng = np.random.default_rng(seed)
        tensors = [*net.parameters(), *net.buffers()]
        self.device = tensors[0].device if tensors else torch.device("cpu")
        self.bounds = None if self.discrete else ActionBounds.of(spec.action_space)

    @property
    def observation_space(self) -> gym.Space:
        return self.spec.observation_space

    @property
    def action_space(self) -> gym.Space:
        return self.spec.action_space

    @property
    def discrete(self) -> bool:
        return isinstance(self.spec.action_space, gym.spaces.Discrete)

    @property
    def greedy(self) -> bool:
        return self.spec.greedy

    def _batch(self, obs: Any) -> tuple[np.ndarray, bool]:
        array = np.asarray(obs)
        single = array.ndim == len(self.observation_space.shape)
        return (array[None] if single else array), single

    @torch.no_grad()
    def _logits(self, batch: np.ndarray) -> torch.Tensor:
        return self.net(obs_tensor(batch, self.observation_space, self.device))

    def _probs(self, batch: np.ndarray) -> np.ndarray:
        return torch.softmax(self._logits(batch).double(), dim=-1).cpu().numpy()

    def _actions(self, batch: np.ndarray, greedy: bool) -> np.ndarray:
        if not self.discrete:
            mean, log_std = (t.double().cpu().numpy() for t in self._logits(batch))
            u = mean if greedy else mean + np.exp(log_std) * self.rng.standard_normal(mean.shape)
            return self.bounds.to_env(squash(u, self.net.squash))
        if greedy:
            # Ties go to the lowest action (torch's argmax returns the first maximum).
            return self._logits(batch).argmax(dim=-1).cpu().numpy() + self.action_space.start
        cdf = self._probs(batch).cumsum(axis=-1)
        draws = self.rng.random((len(cdf), 1)) * cdf[:, -1:]
        return np.minimum((cdf < draws).sum(axis=-1), cdf.shape[-1] - 1) + self.action_space.start

    def act(self, obs: Any) -> np.ndarray:
        """The action for one observation, or (B,) actions for a batch (B, *obs_shape)."""
        batch, single = self._batch(obs)
        actions = self._actions(batch, self.greedy)
        return actions[0] if single else actions

    def probs(self, obs: Any) -> np.ndarray:
        """(A,) or (B, A): the distribution act() draws from (one-hot rows when greedy)."""
        if not self.discrete:
            raise ValueError("probs() is for Discrete action spaces; a Gaussian policy's density has no table")
        batch, single = self._batch(obs)
        if self.greedy:
            probs = np.eye(self.action_space.n)[self._actions(batch, True) - self.action_space.start]
        else:
            probs = self._probs(batch)
        return probs[0] if single else probs

    def predict(self, obs: Any, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[np.ndarray, None]:
        """stable-baselines3's predict: (actions, None); `deterministic` picks argmax or sampling.

        state and episode_start exist for the signature: these policies have no recurrent state.
        """
        batch, single = self._batch(obs)
        actions = self._actions(batch, deterministic)
        return (actions[0] if single else actions), None

    def save(self, directory: str | os.PathLike) -> Path:
        """Writes policy.json and policy.pt into `directory` atomically; returns the directory."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {name: tensor.detach().cpu().clone() for name, tensor in self.net.state_dict().items()}
        save_torch(directory / WEIGHTS_FILE, state)
        text = json.dumps(self.spec.to_dict(), indent=2, sort_keys=True)
        atomic_write(directory / SPEC_FILE, lambda tmp: Path(tmp).write_text(text))
        return directory


def build_gaussian(observation_space: gym.Space, action_space: gym.Space, hidden: list[int], squash: str = "clip",
                   state_dependent_std: bool = False, activation: str = "tanh",
                   standardize: bool = True) -> GaussianActor:
    return GaussianActor(observation_space, ActionBounds.of(action_space).dim, hidden, squash,
                         state_dependent_std, activation, standardize=standardize)


register_architecture("gaussian", build_gaussian)


class WorkerPolicy:
    """A `Policy` as rollout workers use it (lfo_ray.rollout.ActingPolicy): `set_weights` takes the
    numpy state a learner publishes; until the first weights it acts uniformly at random (an
    off-policy learner's warm-up). One torch thread: workers share the machine with learners."""

    def __init__(self, spec: PolicySpec, rng: np.random.Generator | None = None) -> None:
        torch.set_num_threads(1)
        self.spec = spec
        self.policy: Policy | None = None
        self.rng = np.random.default_rng(0) if rng is None else rng

    def set_weights(self, weights: Mapping[str, Any]) -> None:
        if self.policy is None:
            self.policy = policy_from_state(self.spec, weights)
            self.policy.rng = self.rng
        else:
            self.policy.net.load_state_dict({k: to_tensor(v, None) for k, v in weights.items()})

    def act(self, obs: np.ndarray) -> np.ndarray:
        if self.policy is not None:
            return self.policy.act(obs)
        space = self.spec.action_space
        if isinstance(space, gym.spaces.Discrete):
            return space.start + self.rng.integers(space.n, size=len(obs))
        return self.rng.uniform(space.low, space.high, (len(obs), *space.shape)).astype(np.float32)


def policy_from_state(spec: PolicySpec, state: Mapping[str, Any], seed: int | None = None) -> Policy:
    """The policy of `spec` with the network weights `state` (tensors or numpy arrays, e.g. the
    weights a learner publishes to rollout workers), on the CPU."""
    net = spec.build()
    net.load_state_dict({name: to_tensor(value, None) for name, value in state.items()})
    net.eval()
    return Policy(net, spec, seed)


def read_policy(directory: str | os.PathLike, seed: int | None = None) -> Policy:
    """The policy saved in `directory` by Policy.save, on the CPU."""
    directory = Path(directory)
    spec_path, weights_path = directory / SPEC_FILE, directory / WEIGHTS_FILE
    for path in (spec_path, weights_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no saved policy")
    try:
        spec = PolicySpec.from_dict(json.loads(spec_path.read_text()))
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{spec_path}: not a policy spec ({error!r})") from None
    state = safe_torch_load(weights_path)
    if not isinstance(state, dict):
        raise ValueError(f"{weights_path}: expected a state_dict, got {type(state).__name__}")
    try:
        return policy_from_state(spec, state, seed)
    except (TypeError, RuntimeError) as error:  # kwargs the builder refuses; tensors that do not fit
        raise ValueError(f"{directory}: the saved weights do not fit architecture {spec.architecture!r} "
                         f"with kwargs {dict(spec.kwargs)} ({error})") from None


def load_policy(run_dir: str | os.PathLike, seed: int | None = None) -> Policy:
    """The policy of a run directory (`lfo train --out DIR`), or of a directory holding policy.json."""
    from lfo_ray.experiment import CHECKPOINT_DIR

    run_dir = Path(run_dir)
    checkpoint = run_dir / CHECKPOINT_DIR
    return read_policy(checkpoint if (checkpoint / SPEC_FILE).exists() else run_dir, seed)
