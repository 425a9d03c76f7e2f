"""Collecting demonstrations: vectorised envs in-process, or K seeded Ray actors in parallel.

Each worker steps its own vector env with the expert (CPU inference on the whole batch), keeps
whole episodes, and hands them back in chunks: one Ray call per chunk of episodes, never per step.
The result depends only on (env, expert, episodes, workers, seed, noise).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from lfo_ray.core import Policy
from lfo_ray.data import DatasetMetadata, ObsDataset, ObsEpisode, space_to_dict
from lfo_ray.envs import env_spec, make_vector_env
from lfo_ray.rollout import VectorDriver
from lfo_ray.runner import even_shares


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
    """Everything that determines a collection run."""

    env_id: str
    episodes: int
    seed: int = 0
    noise: float = 0.0
    envs_per_worker: int = 8
    env_kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {self.episodes}")
        if self.envs_per_worker < 1:
            raise ValueError(f"envs_per_worker must be >= 1, got {self.envs_per_worker}")
        if not 0.0 <= self.noise <= 1.0:
            raise ValueError(f"noise must be a probability in [0, 1], got {self.noise}")
        env_spec(self.env_id)


def _worker_collector(spec: CollectSpec, worker: int) -> EpisodeCollector:
    from lfo_ray.envs.experts import load_expert

    kwargs = dict(spec.env_kwargs)
    env = make_vector_env(spec.env_id, spec.envs_per_worker, **kwargs)
    return EpisodeCollector(env, load_expert(spec.env_id, **kwargs),
                            seed=spec.seed * 1000 + worker, noise=spec.noise)


class CollectWorker:
    """One worker's state; the Ray actor below is a thin wrapper around it."""

    def __init__(self, spec: CollectSpec, worker: int) -> None:
        self.collector = _worker_collector(spec, worker)

    def collect(self, episodes: int) -> tuple[list[ObsEpisode], int]:
        before = self.collector.env_steps
        return self.collector.collect(episodes), self.collector.env_steps - before


def collect_dataset(spec: CollectSpec, workers: int = 1, *, use_ray: bool = True,
                    progress: Callable[[int], None] | None = None) -> tuple[ObsDataset, dict[str, float]]:
    """Collects `spec.episodes` expert episodes with `workers` workers.

    Returns the dataset and throughput figures. Worker k is seeded from (seed, k) and owns a
    fixed share of the episodes; episodes are ordered by worker, then by completion, so the
    output does not depend on scheduling.
    """
    from lfo_ray.envs.experts import expert_source

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
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
            episodes, steps = ray.get(ready[0])
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
    probe = gym.make(spec.env_id, **dict(spec.env_kwargs))
    metadata = DatasetMetadata(
        env_id=spec.env_id,
        observation_space=space_to_dict(probe.observation_space),
        action_space=space_to_dict(probe.action_space),
        source=expert_source(spec.env_id),
        noise=spec.noise,
        seed=spec.seed,
        extra={"workers": workers, "envs_per_worker": spec.envs_per_worker,
               "env_kwargs": dict(spec.env_kwargs)},
    )
    probe.close()
    dataset = ObsDataset.from_episodes(episodes, metadata)
    transitions = dataset.num_transitions
    stats = {"wall_s": wall, "env_steps": env_steps, "transitions": transitions,
             "transitions_per_s": transitions / wall if wall > 0 else float("inf")}
    return dataset, stats
