"""Typed, immutable observation-only demonstrations.

An episode holds T+1 observations and, only when they are known, T actions and T rewards.
Nothing here requires actions: observation-only data is the normal case for ILfO.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import gymnasium as gym
import numpy as np

FORMAT_VERSION = 1


class DataError(ValueError):
    """Raised for demonstration data that is malformed; the message names what and where."""


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class ObsEpisode:
    """One episode of observations, with optional actions and rewards.

    observations: (T+1, *obs_shape), any numeric dtype; T >= 1.
    actions: (T, *act_shape) or None when the demonstrator's actions are unknown.
    rewards: (T,) float32 or None.
    terminated: the last observation is terminal (the MDP ended there).
    truncated: the episode was cut by a time limit or by the recorder.
    """

    observations: np.ndarray
    actions: np.ndarray | None = None
    rewards: np.ndarray | None = None
    terminated: bool = False
    truncated: bool = False

    def __post_init__(self) -> None:
        obs = np.asarray(self.observations)
        if obs.ndim < 1 or obs.shape[0] < 2:
            raise DataError(
                f"observations must have shape (T+1, *obs_shape) with T >= 1, got {obs.shape}"
            )
        _check_finite("observations", obs)
        object.__setattr__(self, "observations", _readonly(obs))
        length = obs.shape[0] - 1
        if self.actions is not None:
            actions = np.asarray(self.actions)
            if actions.ndim < 1 or actions.shape[0] != length:
                raise DataError(
                    f"actions must have shape (T={length}, ...) to match observations "
                    f"{obs.shape}, got {actions.shape}"
                )
            _check_finite("actions", actions)
            object.__setattr__(self, "actions", _readonly(actions))
        if self.rewards is not None:
            rewards = np.asarray(self.rewards, dtype=np.float32)
            if rewards.shape != (length,):
                raise DataError(
                    f"rewards must have shape ({length},) to match observations {obs.shape}, "
                    f"got {rewards.shape}"
                )
            _check_finite("rewards", rewards)
            object.__setattr__(self, "rewards", _readonly(rewards))
        if self.terminated and self.truncated:
            raise DataError("an episode cannot be both terminated and truncated")

    def __len__(self) -> int:
        """Number of transitions T."""
        return self.observations.shape[0] - 1

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return tuple(self.observations.shape[1:])

    @property
    def episode_return(self) -> float | None:
        return None if self.rewards is None else float(self.rewards.sum())


def _check_finite(name: str, array: np.ndarray) -> None:
    """Raises DataError naming the first NaN or inf: its step (first index) and element."""
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        step, *element = (int(i) for i in np.argwhere(~np.isfinite(array))[0])
        kind = "NaN" if np.isnan(array[(step, *element)]) else "inf"
        at = f"step {step}" + (f", element {tuple(element)}" if element else "")
        raise DataError(f"{name} contains {kind} at {at}")


def space_to_dict(space: gym.Space | None) -> dict[str, Any] | None:
    """A JSON-able description of a Box or Discrete space."""
    if space is None:
        return None
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        def bound(values: np.ndarray) -> Any:
            if np.all(values == values.flat[0]):
                return _json_float(values.flat[0])
            return [_json_float(v) for v in values.flat]
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": bound(space.low),
            "high": bound(space.high),
        }
    raise DataError(f"unsupported space {space!r}: expected Box or Discrete")


def space_from_dict(spec: Mapping[str, Any] | None) -> gym.Space | None:
    if spec is None:
        return None
    kind = spec.get("type")
    if kind == "Discrete":
        return gym.spaces.Discrete(int(spec["n"]), start=int(spec.get("start", 0)))
    if kind == "Box":
        shape = tuple(spec["shape"])
        dtype = np.dtype(spec["dtype"])

        # Float bounds are rebuilt in the space's own dtype (recorded exactly from it), which
        # avoids gymnasium's "precision lowered" warning on every read.
        bound_dtype = dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)

        def bound(value: Any) -> np.ndarray:
            return np.broadcast_to(np.asarray(value, dtype=bound_dtype), shape).reshape(shape)

        return gym.spaces.Box(bound(spec["low"]), bound(spec["high"]), shape=shape, dtype=dtype)
    raise DataError(f"unsupported space description {dict(spec)!r}: expected type Box or Discrete")


def _json_float(value: Any) -> float | str:
    value = float(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _row_flags(name: str, value: np.ndarray | None, n: int) -> np.ndarray | None:
    if value is None:
        return None
    value = np.asarray(value)
    if value.shape != (n,) or not (value.dtype == np.bool_ or np.isin(value, (0, 1)).all()):
        raise DataError(f"{name} must be booleans of shape ({n},), got {value.shape} {value.dtype}")
    return value.astype(bool)


def chain_starts(obs: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    """Rows that start an episode when boundaries are unknown: the first row, and every row whose
    obs differs from the previous row's next_obs (how ILPO's boundary-free formats are read)."""
    return np.flatnonzero(np.r_[True, rows_differ(obs[1:], next_obs[:-1])])


def rows_differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) bool: row i of `a` differs from row i of `b` anywhere (N may be 0)."""
    return np.any(a != b, axis=tuple(range(1, a.ndim)))


def _episode_starts(obs: np.ndarray, next_obs: np.ndarray, episode_ids: np.ndarray | None,
                    ends: np.ndarray | None, n: int) -> np.ndarray:
    if episode_ids is not None:
        ids = np.asarray(episode_ids)
        if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer):
            raise DataError(f"episode_ids must be integers of shape ({n},), got {ids.shape} {ids.dtype}")
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        if len(np.unique(ids[starts])) != len(starts):
            raise DataError("episode_ids: the rows of an episode must be contiguous")
        return starts
    starts = chain_starts(obs, next_obs)
    if ends is not None:
        starts = np.union1d(starts, np.flatnonzero(np.r_[True, ends[:-1]]))
    return starts


@dataclass(frozen=True)
class DatasetMetadata:
    """How a demonstration set was made; stored as Parquet schema metadata."""

    env_id: str
    """Gymnasium id of the environment the demonstrations come from ("" when unknown)."""
    observation_space: dict[str, Any] | None = None
    """space_to_dict() of the observation space."""
    action_space: dict[str, Any] | None = None
    """space_to_dict() of the action space (present even when actions are not stored)."""
    source: str = "unknown"
    """What produced the data: e.g. "expert:rllib-ppo", "expert:value-iteration", "import:ilpo-text"."""
    noise: float = 0.0
    """Probability that a recorded step used a uniformly random action instead of the expert's."""
    seed: int | None = None
    """Seed of the collection run, if any."""
    return_mean: float | None = None
    """Mean undiscounted episode return of the demonstrations (None when rewards are unknown)."""
    return_std: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form provenance (expert checkpoint, importer options, ...)."""
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "DatasetMetadata":
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise DataError(f"unknown metadata fields {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class Transitions:
    """A flat batch of transitions: the form learners consume.

    obs, next_obs: (N, *obs_shape); actions: (N, ...) or None;
    dones: (N,) bool, True where next_obs ends its episode by termination;
    episode_ids: (N,) int64.
    """

    obs: np.ndarray
    next_obs: np.ndarray
    actions: np.ndarray | None
    dones: np.ndarray
    episode_ids: np.ndarray

    def __post_init__(self) -> None:
        n = self.obs.shape[0]
        if self.next_obs.shape != self.obs.shape:
            raise DataError(f"next_obs shape {self.next_obs.shape} != obs shape {self.obs.shape}")
        for name in ("dones", "episode_ids"):
            if getattr(self, name).shape != (n,):
                raise DataError(f"{name} must have shape ({n},), got {getattr(self, name).shape}")
        if self.actions is not None and self.actions.shape[0] != n:
            raise DataError(f"actions must have {n} rows, got {self.actions.shape}")

    def __len__(self) -> int:
        return self.obs.shape[0]


@dataclass(frozen=True)
class ObsDataset:
    """A set of observation episodes that share one observation shape and dtype."""

    episodes: tuple[ObsEpisode, ...]
    metadata: DatasetMetadata

    def __post_init__(self) -> None:
        episodes = tuple(self.episodes)
        if not episodes:
            raise DataError("a dataset needs at least one episode")
        first = episodes[0]
        for index, episode in enumerate(episodes):
            if episode.obs_shape != first.obs_shape:
                raise DataError(
                    f"episode {index} has observation shape {episode.obs_shape}, "
                    f"expected {first.obs_shape} like episode 0"
                )
            if (episode.actions is None) != (first.actions is None):
                raise DataError(f"episode {index}: either every episode has actions or none has")
            if (episode.rewards is None) != (first.rewards is None):
                raise DataError(f"episode {index}: either every episode has rewards or none has")
        object.__setattr__(self, "episodes", episodes)

    @classmethod
    def from_episodes(
        cls, episodes: Iterable[ObsEpisode], metadata: DatasetMetadata, *, fill_returns: bool = True
    ) -> "ObsDataset":
        """Builds a dataset, filling the return statistics from the rewards when they exist."""
        episodes = tuple(episodes)
        if fill_returns and episodes and episodes[0].rewards is not None:
            returns = np.array([e.episode_return for e in episodes], dtype=np.float64)
            metadata = dataclasses.replace(
                metadata, return_mean=float(returns.mean()), return_std=float(returns.std())
            )
        return cls(episodes, metadata)

    @classmethod
    def from_arrays(
        cls,
        obs: np.ndarray,
        next_obs: np.ndarray,
        *,
        dones: np.ndarray | None = None,
        episode_ids: np.ndarray | None = None,
        actions: np.ndarray | None = None,
        rewards: np.ndarray | None = None,
        truncated: np.ndarray | None = None,
        env_id: str = "",
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
        source: str = "arrays",
    ) -> "ObsDataset":
        """A dataset from flat transition arrays (N rows), the shape other libraries hand over.

        obs, next_obs: (N, *obs_shape), one numeric dtype; row i is the transition obs[i] ->
        next_obs[i]. Episode boundaries, from the first of these that is given:
        - episode_ids (N,) integers, each episode's rows contiguous and in time order;
        - else a new episode after every row where dones or truncated (N,) bool is True, and
          wherever obs[i] != next_obs[i-1] (chaining, as for ILPO text).
        dones (N,) bool mark which episode ends are terminal (the MDP ended in next_obs); an
        episode that ends without one is truncated. truncated (N,) bool, optional, marks episode
        ends cut by a time limit (must not coincide with dones). actions (N, *action_shape) and
        rewards (N,) are optional. Within an episode next_obs[i] must equal obs[i+1].
        Raises DataError naming the array, its shape or dtype, and what was expected.
        """
        obs, next_obs = np.asarray(obs), np.asarray(next_obs)
        if obs.ndim < 1 or obs.shape[0] < 1:
            raise DataError(f"obs must have shape (N, *obs_shape) with N >= 1, got {obs.shape}")
        if not (np.issubdtype(obs.dtype, np.number) or obs.dtype == np.bool_):
            raise DataError(f"obs must be numeric, got dtype {obs.dtype}")
        if next_obs.shape != obs.shape or next_obs.dtype != obs.dtype:
            raise DataError(f"next_obs must match obs {obs.shape} {obs.dtype}, got "
                            f"{next_obs.shape} {next_obs.dtype}")
        _check_finite("obs", obs)
        _check_finite("next_obs", next_obs)
        n = obs.shape[0]
        flags = {name: _row_flags(name, value, n) for name, value in
                 (("dones", dones), ("truncated", truncated))}
        if actions is not None:
            actions = np.asarray(actions)
            if actions.ndim < 1 or actions.shape[0] != n:
                raise DataError(f"actions must have shape (N={n}, *action_shape), got {actions.shape}")
        if rewards is not None:
            rewards = np.asarray(rewards)
            if rewards.shape != (n,) or not np.issubdtype(rewards.dtype, np.number):
                raise DataError(f"rewards must be numbers of shape ({n},), got {rewards.shape} "
                                f"{rewards.dtype}")
        ends_given = [f for f in flags.values() if f is not None]
        starts = _episode_starts(obs, next_obs, episode_ids,
                                 np.logical_or.reduce(ends_given) if ends_given else None, n)
        ends = np.r_[starts[1:], n]
        episodes = []
        for index, (start, end) in enumerate(zip(starts, ends)):
            broken = np.flatnonzero(rows_differ(next_obs[start:end - 1], obs[start + 1:end]))
            if broken.size:
                row = int(start + broken[0])
                raise DataError(f"row {row}: next_obs differs from obs of row {row + 1} inside "
                                f"episode {index}; expected consecutive transitions within an "
                                "episode id")
            for name, value in flags.items():
                if value is not None and value[start:end - 1].any():
                    raise DataError(f"{name} is set at row {start + int(np.argmax(value[start:end - 1]))}, "
                                    f"before the last row of episode {index} (row {end - 1})")
            terminal = flags["dones"] is not None and bool(flags["dones"][end - 1])
            try:
                episodes.append(ObsEpisode(
                    observations=np.concatenate([obs[start:end], next_obs[end - 1:end]]),
                    actions=None if actions is None else actions[start:end],
                    rewards=None if rewards is None else rewards[start:end],
                    terminated=terminal,
                    truncated=not terminal,
                ))
            except DataError as error:
                raise DataError(f"episode {index} (rows {start}..{end - 1}): {error}") from None
        if observation_space is None and np.issubdtype(obs.dtype, np.floating):
            observation_space = gym.spaces.Box(-np.inf, np.inf, obs.shape[1:], obs.dtype)
        metadata = DatasetMetadata(
            env_id=env_id,
            observation_space=space_to_dict(observation_space),
            action_space=space_to_dict(action_space),
            source=source,
        )
        return cls.from_episodes(episodes, metadata)

    def __len__(self) -> int:
        return len(self.episodes)

    @property
    def num_transitions(self) -> int:
        return sum(len(e) for e in self.episodes)

    @property
    def has_actions(self) -> bool:
        return self.episodes[0].actions is not None

    @property
    def has_rewards(self) -> bool:
        return self.episodes[0].rewards is not None

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return self.episodes[0].obs_shape

    def returns(self) -> np.ndarray | None:
        if not self.has_rewards:
            return None
        return np.array([e.episode_return for e in self.episodes], dtype=np.float64)

    def transitions(self) -> Transitions:
        obs = np.concatenate([e.observations[:-1] for e in self.episodes])
        next_obs = np.concatenate([e.observations[1:] for e in self.episodes])
        dones = np.concatenate(
            [np.arange(len(e)) == len(e) - 1 if e.terminated else np.zeros(len(e), bool)
             for e in self.episodes]
        )
        ids = np.concatenate([np.full(len(e), i, np.int64) for i, e in enumerate(self.episodes)])
        actions = (
            np.concatenate([e.actions for e in self.episodes]) if self.has_actions else None
        )
        return Transitions(obs, next_obs, actions, dones, ids)

    def without_actions(self) -> "ObsDataset":
        """The observation-only view that ILfO algorithms are given."""
        return ObsDataset(
            tuple(dataclasses.replace(e, actions=None) for e in self.episodes), self.metadata
        )

    def select(self, indices: Sequence[int]) -> "ObsDataset":
        return ObsDataset(tuple(self.episodes[i] for i in indices), self.metadata)
