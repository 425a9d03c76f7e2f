"""Expert trajectories pickled by tsmatz/imitation-learning-tutorials (GridWorld).

Each file (`expert_data/ckpt*.pkl`) is a dict of 1-D numpy arrays: `states` (cell id before each
step), `actions` (0..3 = up, down, left, right), `rewards` and `timestep_lens` (steps per
episode, the episodes laid end to end). The state after an episode's last step is not stored; it
is recomputed from the deterministic GridWorld moves, after checking that every stored step
follows them. An episode whose last reward is the goal reward ended at the goal (terminated);
any other was cut by the time limit (truncated).

Pickles can run arbitrary code when loaded, so they are read with an unpickler that resolves only
the few numpy globals that numeric arrays need and refuses every other global.
"""

from __future__ import annotations

import _codecs
import os
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from lfo_ray.data.formats import TUTORIAL_PICKLE, dataset_files
from lfo_ray.data.types import DataError, DatasetMetadata, ObsDataset, ObsEpisode
from lfo_ray.envs import GRIDWORLD
from lfo_ray.envs.gridworld import GOAL_REWARD, NUM_ACTIONS, GridWorldSpec

KEYS = ("states", "actions", "rewards", "timestep_lens")
ACTION_NAMES = ("up", "down", "left", "right")

try:
    from numpy._core import multiarray as _multiarray, numeric as _numeric
except ImportError:  # numpy < 2 without the numpy._core alias
    from numpy.core import multiarray as _multiarray, numeric as _numeric


def _allowed_globals() -> dict[tuple[str, str], Any]:
    """What pickled numeric arrays and scalars refer to, under numpy 1 and numpy 2 names."""
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _codecs.encode,
    }
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = _multiarray._reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = _multiarray.scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = _numeric._frombuffer
    return allowed


_ALLOWED = _allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only plain containers of numpy arrays and scalars; any other global is refused."""

    def __init__(self, file: BinaryIO, name: str) -> None:
        super().__init__(file)
        self.name = name

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise DataError(
                f"{self.name}: pickle refers to the forbidden global {module}.{name}; expected "
                "only numpy arrays of numbers (refusing to run code from a pickle)"
            ) from None


def load_restricted(path: Path) -> Any:
    """The unpickled object, built without running any code the pickle names."""
    try:
        with open(path, "rb") as handle:
            return RestrictedUnpickler(handle, str(path)).load()
    except DataError:
        raise
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    except Exception as error:  # only numpy constructors run, so any failure means bad bytes
        raise DataError(
            f"{path}: not a readable pickle ({type(error).__name__}: {error}); expected a pickled "
            f"dict with keys {list(KEYS)}"
        ) from None


def _array(path: Path, data: dict, key: str, kinds: str, expected: str) -> np.ndarray:
    if key not in data:
        raise DataError(f"{path}: missing key {key!r}; expected a dict with keys {list(KEYS)}")
    value = data[key]
    if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind not in kinds:
        found = (f"array of dtype {value.dtype} and shape {value.shape}"
                 if isinstance(value, np.ndarray) else type(value).__name__)
        raise DataError(
            f"{path}: key {key!r} holds {found}; expected a 1-D numpy array of {expected}"
        )
    return value


def _check_range(path: Path, key: str, values: np.ndarray, high: int) -> None:
    bad = np.flatnonzero((values < 0) | (values >= high))
    if bad.size:
        raise DataError(f"{path}: {key}[{bad[0]}] = {values[bad[0]]}; expected 0..{high - 1}")


def _episode_at(starts: np.ndarray, index: int) -> tuple[int, int]:
    episode = int(np.searchsorted(starts, index, side="right") - 1)
    return episode, index - int(starts[episode])


def _check_dynamics(path: Path, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                    starts: np.ndarray, next_state: np.ndarray, reward: np.ndarray) -> None:
    """Every stored step must follow the deterministic moves and the tutorial world's rewards."""
    last = np.zeros(len(states), bool)
    last[np.r_[starts[1:], len(states)] - 1] = True
    expected_next = next_state[states, actions]
    wrong = np.flatnonzero(~last & (np.r_[states[1:], 0] != expected_next))
    if wrong.size:
        i = int(wrong[0])
        episode, step = _episode_at(starts, i)
        raise DataError(
            f"{path}: episode {episode}, step {step} (index {i}): moving "
            f"{ACTION_NAMES[actions[i]]} from cell {states[i]} leads to cell {expected_next[i]}, "
            f"but the next stored state is {states[i + 1]}; expected deterministic GridWorld moves"
        )
    wrong = np.flatnonzero(rewards != reward[states, actions])
    if wrong.size:
        i = int(wrong[0])
        episode, step = _episode_at(starts, i)
        raise DataError(
            f"{path}: episode {episode}, step {step} (index {i}): reward {rewards[i]}, but the "
            f"tutorial GridWorld pays {reward[states[i], actions[i]]}; expected data from the "
            "tutorial's world (seed 1000)"
        )


def _read_file(path: Path, next_state: np.ndarray, reward: np.ndarray) -> list[ObsEpisode]:
    data = load_restricted(path)
    if not isinstance(data, dict):
        raise DataError(
            f"{path}: holds a {type(data).__name__}; expected a dict with keys {list(KEYS)}"
        )
    states = _array(path, data, "states", "iu", "integer cell ids").astype(np.int64)
    actions = _array(path, data, "actions", "iu", "integer actions").astype(np.int64)
    rewards = _array(path, data, "rewards", "iuf", "numbers").astype(np.float32)
    lengths = _array(path, data, "timestep_lens", "iu", "integer episode lengths").astype(np.int64)
    if lengths.size == 0 or lengths.min() < 1:
        raise DataError(
            f"{path}: timestep_lens {lengths[:8]}...; expected one or more positive lengths"
        )
    total = int(lengths.sum())
    for key, values in (("states", states), ("actions", actions), ("rewards", rewards)):
        if len(values) != total:
            raise DataError(
                f"{path}: {key} has {len(values)} entries; expected sum(timestep_lens) = {total}"
            )
    if not np.all(np.isfinite(rewards)):
        first = np.flatnonzero(~np.isfinite(rewards))[0]
        raise DataError(f"{path}: rewards[{first}] is not finite; expected finite numbers")
    _check_range(path, "states", states, next_state.shape[0])
    _check_range(path, "actions", actions, next_state.shape[1])
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    _check_dynamics(path, states, actions, rewards, starts, next_state, reward)
    episodes = []
    for start, end in zip(starts, starts + lengths):
        final = next_state[states[end - 1], actions[end - 1]]
        terminated = bool(rewards[end - 1] == GOAL_REWARD)
        episodes.append(ObsEpisode(
            observations=np.append(states[start:end], final),
            actions=actions[start:end],
            rewards=rewards[start:end],
            terminated=terminated,
            truncated=not terminated,
        ))
    return episodes


def read_tutorial_pickle(path: str | os.PathLike) -> ObsDataset:
    """Reads one tutorial pickle, or a directory of them, as GridWorld cell-id episodes."""
    path = Path(path)
    files = dataset_files(path, TUTORIAL_PICKLE)
    spec = GridWorldSpec.tutorial()
    next_state, reward = spec.move_table()
    episodes = [e for file in files for e in _read_file(file, next_state, reward)]
    metadata = DatasetMetadata(
        env_id=GRIDWORLD,
        observation_space={"type": "Discrete", "n": spec.num_states, "start": 0},
        action_space={"type": "Discrete", "n": NUM_ACTIONS, "start": 0},
        source=f"import:{TUTORIAL_PICKLE}",
        extra={"path": str(path), "files": len(files)},
    )
    return ObsDataset.from_episodes(episodes, metadata)
