"""Checks of user input, run before any work starts.

Each check raises ValueError whose message names the argument and what it expects, so the CLI
prints one `lfo: error:` line and nothing has been written yet (no run directory, no tb/).
The CLI, train_run, `lfo collect` and `lfo data import` call the same functions.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from pathlib import Path
from typing import Any, Mapping

import gymnasium as gym
import numpy as np

SEED_LIMIT = 2**31
"""Seeds are 0 <= seed < 2**31: Ray workers and numpy's legacy seeding take 32-bit seeds."""


def check_seed(seed: Any, name: str = "--seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{name}: expected an integer with 0 <= seed < 2**31, got {seed!r}")
    return int(seed)


def check_positive(value: Any, name: str) -> int:
    """An integer count that must be >= 1 (episodes, workers, threads)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
    return int(value)


def check_out_dir(out: str | Path) -> Path:
    """A run directory path: it may exist as a directory, never as a file."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {path}: expected a run directory, but it is an existing file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"--out {path}: {parent} is a file, not a directory")
            break
    return path


def nonfinite_floats(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `values` that are floats (or hold floats) other than finite numbers."""
    def bad(value: Any) -> bool:
        if isinstance(value, (float, np.floating)):
            return not math.isfinite(value)
        if isinstance(value, (tuple, list)):
            return any(bad(item) for item in value)
        return False

    return {name: value for name, value in values.items() if bad(value)}


def check_config(config: Any) -> None:
    """Every float field finite; a CUDA device only where CUDA is available."""
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    bad = nonfinite_floats(fields)
    if bad:
        name, value = next(iter(bad.items()))
        raise ValueError(f"--set {name}: expected a finite number, got {value!r}")
    device = fields.get("device")
    if isinstance(device, str) and device != "auto":
        import torch

        try:
            torch.device(device)
        except RuntimeError:
            raise ValueError(f"--set device={device}: expected a torch device such as cpu, cuda or cuda:0") from None
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"--set device={device}: CUDA is not available on this machine; "
                             "use device=cpu or leave device unset")


def env_keywords(env_id: str) -> dict[str, Any] | None:
    """Keyword arguments `env_id` accepts (its constructor's) with their defaults; None when it
    takes any keyword."""
    from lfo_ray.envs import env_spec

    spec = env_spec(env_id)
    entry = spec.vector_entry_point or spec.entry_point
    creator = gym.envs.registration.load_env_creator(entry) if isinstance(entry, str) else entry
    try:
        parameters = inspect.signature(creator).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    keywords = {p.name: p.default for p in parameters
                if p.kind is not inspect.Parameter.VAR_POSITIONAL and p.name not in ("self", "num_envs")}
    return {"max_episode_steps": None, **keywords}


def _fits_default(value: Any, default: Any) -> bool:
    """Whether `value` has the type of a keyword's default (ints pass for floats, bools only for bools)."""
    if default is None or default is inspect.Parameter.empty:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def check_env(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> gym.Space:
    """A known env id and keywords it accepts; returns its single observation space."""
    from lfo_ray.envs import make_vector_env

    try:
        valid = env_keywords(env_id)
    except ValueError as error:
        raise ValueError(f"--env: {error}") from None
    kwargs = dict(env_kwargs or {})
    unknown = sorted(set(kwargs) - set(valid)) if valid is not None else []
    if unknown:
        raise ValueError(f"--env-kw {unknown[0]}: {env_id} takes no such keyword; "
                         f"valid: {', '.join(sorted(valid)) or 'none'}")
    for name, value in kwargs.items():
        default = (valid or {}).get(name)
        if not _fits_default(value, default):
            raise ValueError(f"--env-kw {name}: expected a {type(default).__name__} like its default "
                             f"{default!r}, got {value!r}")
    limit = kwargs.get("max_episode_steps")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"--env-kw max_episode_steps: expected an integer >= 1, got {limit!r}")
    env = None
    try:
        # One reset and one step: a value of the wrong type often fails only there.
        env = make_vector_env(env_id, 1, **kwargs)
        env.reset(seed=0)
        env.step(env.action_space.sample())
        return env.single_observation_space
    except Exception as error:  # the env's own checks raise any type
        raise ValueError(f"--env-kw: {env_id} refused {kwargs}: {type(error).__name__}: {error}") from None
    finally:
        if env is not None:
            env.close()


def check_observations(obs_shape: tuple[int, ...], obs_dtype: np.dtype, space: gym.Space, env_id: str,
                       source: str) -> None:
    """Demonstrations whose observations fit the env's observation space (shape, and a dtype
    that converts without losing its kind: integers into floats, never floats into integers)."""
    if tuple(obs_shape) != tuple(space.shape or ()):
        raise ValueError(f"{source}: observations have shape {tuple(obs_shape)}, but {env_id} "
                         f"observes shape {tuple(space.shape or ())} ({space})")
    if space.dtype is not None and not np.can_cast(np.dtype(obs_dtype), space.dtype, casting="same_kind"):
        raise ValueError(f"{source}: observations are {np.dtype(obs_dtype)}, but {env_id} observes "
                         f"{space.dtype} ({space})")
