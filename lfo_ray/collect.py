"""Collecting demonstrations: vectorised envs in-process, or K seeded Ray actors in parallel.

Each worker steps its own vector env with the policy (CPU inference on the whole batch), keeps
whole episodes, and hands them back in chunks: one Ray call per chunk of episodes, never per step.
The result depends only on (env, policy, episodes, workers, seed, noise).

The env is any gymnasium id, a "module:Env-v0" id or an id registered by `env_modules`; it
travels to the workers as an `EnvId`, which imports the user's module there (lfo_ray.envs.user).
The policy is one of POLICY_KINDS: "random" (uniform over any action space), "expert" (the shipped
expert of the env), a run directory written by `lfo train`, a "module:callable" name, or (from
Python) a callable. A callable maps a batch of observations (B, *obs_shape) to a batch of actions
(B, *action_shape); an object with such an `act` method is used as it is.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from lfo_ray.core import Policy
from lfo_ray.data import DatasetMetadata, ObsDataset, ObsEpisode, space_to_dict
from lfo_ray.envs import make_vector_env
from lfo_ray.envs.user import portable_env
from lfo_ray.rollout import VectorDriver
from lfo_ray.runner import even_shares
from lfo_ray.seeding import COLLECT_WORKER, derive_seed

RANDOM = "random"
EXPERT = "expert"
POLICY_KINDS = f"{RANDOM!r}, {EXPERT!r}, a run directory of `lfo train`, or 'module:callable'"


@dataclass(frozen=True)
class RandomPolicy:
    """Uniform actions from any gymnasium action space (Discrete, Box, ...), seeded."""

    action_space: gym.Space

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.stack([np.asarray(self.action_space.sample()) for _ in range(len(obs))])


@dataclass(frozen=True)
class CallablePolicy:
    """A function from a batch of observations to a batch of actions, as a Policy."""

    function: Callable[[np.ndarray], Any]

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.asarray(self.function(obs))


def policy_from_run_dir(run_dir: str | Path) -> Policy:
    """The trained policy of an `lfo train` run directory, through the one policy API."""
    from lfo_ray.experiment import RESULT_FILE
    from lfo_ray.policy import load_policy

    result_path = Path(run_dir) / RESULT_FILE
    if not result_path.is_file():
        raise ValueError(f"{result_path}: not a readable run result; expected the --out directory "
                         "of a finished `lfo train`")
    return load_policy(run_dir)


def _import_callable(name: str) -> Policy:
    module_name, _, attribute = name.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except ModuleNotFoundError as error:
        raise ValueError(f"policy {name!r}: module {module_name!r} cannot be imported ({error}); "
                         f"expected {POLICY_KINDS}") from None
    except AttributeError:
        raise ValueError(f"policy {name!r}: module {module_name!r} has no attribute {attribute!r}; "
                         "expected a function obs batch -> action batch") from None
    return as_policy(target, name)


def as_policy(target: Any, name: str = "policy") -> Policy:
    """An object with `act` as it is; any other callable wrapped as CallablePolicy."""
    if hasattr(target, "act"):
        return target
    if callable(target):
        return CallablePolicy(target)
    raise ValueError(f"{name}: {type(target).__name__} is neither callable nor has act(obs); "
                     "expected a function obs batch -> action batch")


def make_policy(policy: str | Callable | Policy, env_id: str, action_space: gym.Space,
                env_kwargs: dict[str, Any], seed: int) -> Policy:
    """The Policy named by `policy` (one of POLICY_KINDS) for `env_id`."""
    from lfo_ray.envs.experts import load_expert

    if not isinstance(policy, str):
        return as_policy(policy)
    if policy == RANDOM:
        action_space.seed(seed)
        return RandomPolicy(action_space)
    if policy == EXPERT:
        try:
            return load_expert(str(env_id), **env_kwargs)
        except ValueError as error:
            raise ValueError(f"{error}; for other envs use --policy random, a run directory or "
                             "'module:callable'") from None
    if Path(policy).is_dir():
        return policy_from_run_dir(policy)
    if ":" in policy:
        return _import_callable(policy)
    raise ValueError(f"policy {policy!r}: not a directory or 'module:callable'; expected {POLICY_KINDS}")


def policy_source(policy: str | Callable | Policy, env_id: str) -> str:
    """What produced the data, as recorded in the dataset metadata."""
    from lfo_ray.envs.experts import expert_source

    if not isinstance(policy, str):
        return f"callable:{getattr(policy, '__qualname__', type(policy).__name__)}"
    if policy == EXPERT:
        return expert_source(str(env_id))
    if policy == RANDOM:
        return RANDOM
    return f"run:{Path(policy).resolve()}" if Path(policy).is_dir() else f"callable:{policy}"


class EpisodeCollector:
    """Steps a vector env with a policy and cuts the stream into whole episodes.

    Steps are kept as batch arrays; each finished episode is one slice of them, so the
    per-step cost is independent of the number of sub-envs. With probability `noise` a step
    uses a uniformly random action instead of the policy's (the ILPO paper's noisy
    demonstrations use noise=0.25); the action recorded is the one taken.
    """

    def __init__(self, env: gym.vector.VectorEnv, policy: Policy, seed: int, noise: float = 0.0) -> None:
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"noise must be a probability in [0, 1], got {noise}")
        self.policy = policy
        self.noise = noise
        self.driver = VectorDriver(env, seed)
        self.action_space = env.single_action_space
        self.action_space.seed(seed)
        self.rng = np.random.default_rng(seed)
        self.env_steps = 0
        # Step t of the stream is self._steps[t - self._base]; env i's open episode began at _start[i].
        self._steps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._base = 0
        self._start = np.zeros(env.num_envs, dtype=np.int64)
        self._surplus: list[ObsEpisode] = []

    def _actions_for(self, obs: np.ndarray) -> np.ndarray:
        actions = np.asarray(self.policy.act(obs))
        if isinstance(self.action_space, gym.spaces.Box):
            actions = actions.astype(self.action_space.dtype, copy=False)
        expected = (len(obs), *(self.action_space.shape or ()))
        if actions.shape != expected:
            raise ValueError(f"the policy returned actions of shape {actions.shape} for {len(obs)} "
                             f"observations; expected {expected} for action space {self.action_space}")
        if self.noise > 0:
            random = self.rng.random(len(actions)) < self.noise
            if random.any():
                actions = actions.copy()
                actions[random] = [self.action_space.sample() for _ in range(int(random.sum()))]
        return actions

    def collect(self, episodes: int) -> list[ObsEpisode]:
        """Steps until `episodes` more episodes have ended; returns them in completion order."""
        ready, self._surplus = self._surplus[:episodes], self._surplus[episodes:]
        if len(ready) == episodes:
            return ready
        ended_at: list[tuple[int, int, int, np.ndarray, bool, bool]] = []
        while len(ready) + len(ended_at) < episodes:
            batch, ended, _ = self.driver.step(self._actions_for(self.driver.obs))
            t = self._base + len(self._steps)
            self._steps.append((batch.obs, batch.actions, batch.rewards))
            self.env_steps += int(batch.valid.sum())
            self._start[~batch.valid] = t + 1  # autoreset rows are not part of any episode
            for i in ended:
                ended_at.append((int(i), int(self._start[i]), t, batch.next_obs[i],
                                 bool(batch.terminated[i]), bool(batch.truncated[i])))
                self._start[i] = t + 1
        obs, actions, rewards = (np.stack(column) for column in zip(*self._steps))
        done = []
        for i, start, end, final_obs, terminated, truncated in ended_at:
            a, b = start - self._base, end - self._base + 1
            done.append(ObsEpisode(
                observations=np.concatenate([obs[a:b, i], final_obs[None]]),
                actions=actions[a:b, i],
                rewards=rewards[a:b, i],
                terminated=terminated,
                truncated=truncated,
            ))
        keep_from = int(self._start.min())
        self._steps = self._steps[keep_from - self._base:]
        self._base = keep_from
        ready.extend(done)
        ready, self._surplus = ready[:episodes], ready[episodes:]
        return ready


@dataclass(frozen=True)
class CollectSpec:
    """Everything that determines a collection run.

    env_id: a gymnasium id (or "module:Env-v0"); stored as an EnvId that imports `env_modules`
    and the id's own module in every worker. policy: one of POLICY_KINDS or a callable; with
    noise=1.0 every action is random and the policy is never asked.
    """

    env_id: str
    episodes: int
    seed: int = 0
    noise: float = 0.0
    envs_per_worker: int = 8
    env_kwargs: tuple[tuple[str, Any], ...] = ()
    policy: str | Callable = EXPERT
    env_modules: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {self.episodes}")
        if self.envs_per_worker < 1:
            raise ValueError(f"envs_per_worker must be >= 1, got {self.envs_per_worker}")
        if not 0.0 <= self.noise <= 1.0:
            raise ValueError(f"noise must be a probability in [0, 1], got {self.noise}")
        env_id = portable_env(self.env_id, self.env_modules)
        if isinstance(self.policy, str) and ":" in self.policy and not Path(self.policy).is_dir():
            # The workers import the policy's module too: carry its directory with the env.
            env_id = env_id.with_module_root(self.policy.partition(":")[0])
        object.__setattr__(self, "env_id", env_id)

    @property
    def acting_policy(self) -> str | Callable:
        """The policy that actually acts: "random" when every action is random anyway."""
        return RANDOM if self.noise >= 1.0 else self.policy


def _worker_collector(spec: CollectSpec, worker: int) -> EpisodeCollector:
    kwargs = dict(spec.env_kwargs)
    env = make_vector_env(spec.env_id, spec.envs_per_worker, **kwargs)
    seed = derive_seed(spec.seed, COLLECT_WORKER, worker)
    policy = make_policy(spec.acting_policy, spec.env_id, env.single_action_space, kwargs, seed)
    return EpisodeCollector(env, policy, seed=seed, noise=spec.noise)


class CollectWorker:
    """One worker's state; the Ray actor below is a thin wrapper around it."""

    def __init__(self, spec: CollectSpec, worker: int) -> None:
        self.collector = _worker_collector(spec, worker)

    def collect(self, episodes: int) -> tuple[list[ObsEpisode], int]:
        before = self.collector.env_steps
        return self.collector.collect(episodes), self.collector.env_steps - before


def _probe_env(spec: CollectSpec) -> gym.Env:
    """One env made in the driver: the spaces for the metadata, and early, one-line errors."""
    kwargs = dict(spec.env_kwargs)
    try:
        return gym.make(spec.env_id, **kwargs)
    except TypeError as error:
        raise ValueError(f"{spec.env_id}: cannot be made with env kwargs {kwargs} ({error})") from None


def _check_policy(spec: CollectSpec, probe: gym.Env) -> None:
    """Builds the policy here and asks it for one action, so a bad --policy fails as one clear
    error before any worker starts, rather than as a dead actor."""
    policy = make_policy(spec.acting_policy, spec.env_id, probe.action_space, dict(spec.env_kwargs), spec.seed)
    obs = np.asarray(probe.reset(seed=spec.seed)[0])[None]
    try:
        actions = np.asarray(policy.act(obs))
    except Exception as error:  # the user's code: any failure becomes one line naming it
        raise ValueError(f"policy {spec.acting_policy!r} failed on a batch of observations of shape "
                         f"{obs.shape}: {type(error).__name__}: {error}") from None
    expected = (1, *(probe.action_space.shape or ()))
    if actions.shape != expected:
        raise ValueError(f"policy {spec.acting_policy!r} returned actions of shape {actions.shape} for "
                         f"observations of shape {obs.shape}; expected {expected} (batch in, batch out)")


def _anchors(spec: CollectSpec) -> dict[str, Any]:
    """The env's shipped normalisation anchors (random and expert returns) for the metadata; they
    were measured on the default parameters, so none when env kwargs are given."""
    from lfo_ray.envs.anchors import METADATA_KEY, known_anchors

    anchors = {} if spec.env_kwargs else known_anchors(str(spec.env_id))
    return {METADATA_KEY: anchors} if anchors else {}


def _last_line(error: Exception) -> str:
    """The worker's own exception line out of a Ray error's traceback text."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__


def collect_dataset(spec: CollectSpec, workers: int = 1, *, use_ray: bool = True,
                    progress: Callable[[int], None] | None = None) -> tuple[ObsDataset, dict[str, float]]:
    """Collects `spec.episodes` episodes of `spec.policy` with `workers` workers.

    Returns the dataset and throughput figures. Worker k is seeded from (seed, k) and owns a
    fixed share of the episodes; episodes are ordered by worker, then by completion, so the
    output does not depend on scheduling.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    probe = _probe_env(spec)
    _check_policy(spec, probe)
    shares = [s for s in even_shares(spec.episodes, workers) if s > 0]
    # About ten progress updates per worker.
    chunk_sizes = [max(1, -(-share // 10)) for share in shares]
    start = time.perf_counter()
    per_worker: list[list[ObsEpisode]] = [[] for _ in shares]
    env_steps = 0
    if use_ray:
        import ray

        from lfo_ray.runtime import ensure_ray

        ensure_ray()
        Remote = ray.remote(num_cpus=0.5)(CollectWorker)
        actors = [Remote.remote(spec, k) for k in range(len(shares))]
        remaining = list(shares)
        pending = {}
        for k, actor in enumerate(actors):
            n = min(remaining[k], chunk_sizes[k])
            remaining[k] -= n
            pending[actor.collect.remote(n)] = k
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            k = pending.pop(ready[0])
            try:
                episodes, steps = ray.get(ready[0])
            except ray.exceptions.RayError as error:
                for actor in actors:
                    ray.kill(actor)
                raise ValueError(f"collection worker {k} on {spec.env_id} failed: "
                                 f"{_last_line(error)}") from None
            per_worker[k].extend(episodes)
            env_steps += steps
            if progress:
                progress(len(episodes))
            if remaining[k] > 0:
                n = min(remaining[k], chunk_sizes[k])
                remaining[k] -= n
                pending[actors[k].collect.remote(n)] = k
        for actor in actors:
            ray.kill(actor)
    else:
        for k, share in enumerate(shares):
            worker = CollectWorker(spec, k)
            while len(per_worker[k]) < share:
                episodes, steps = worker.collect(min(chunk_sizes[k], share - len(per_worker[k])))
                per_worker[k].extend(episodes)
                env_steps += steps
                if progress:
                    progress(len(episodes))
    wall = time.perf_counter() - start
    episodes = [e for worker_episodes in per_worker for e in worker_episodes]
    metadata = DatasetMetadata(
        env_id=str(spec.env_id),
        observation_space=space_to_dict(probe.observation_space),
        action_space=space_to_dict(probe.action_space),
        source=policy_source(spec.acting_policy, spec.env_id),
        noise=spec.noise,
        seed=spec.seed,
        extra={"workers": workers, "envs_per_worker": spec.envs_per_worker,
               "env_kwargs": dict(spec.env_kwargs), "env_modules": list(spec.env_id.modules),
               **_anchors(spec)},
    )
    probe.close()
    dataset = ObsDataset.from_episodes(episodes, metadata)
    transitions = dataset.num_transitions
    stats = {"wall_s": wall, "env_steps": env_steps, "transitions": transitions,
             "transitions_per_s": transitions / wall if wall > 0 else float("inf")}
    return dataset, stats
