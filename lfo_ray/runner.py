"""A group of rollout workers, placed in-process or on Ray, driven by an algorithm's loop."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lfo_ray.batch import SampleBatch
from lfo_ray.placement import Handle, Placement, kill_all, resolve
from lfo_ray.replay import shard_for
from lfo_ray.rollout import RolloutStats, RolloutWorker
from lfo_ray.seeding import ROLLOUT_WORKER, derive_seed


def even_shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` integers differing by at most one, larger ones first."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class RolloutGroup:
    """`num_workers` RolloutWorkers sharing one published copy of the acting weights.

    On Ray the workers are restartable actors: one that dies is restarted and its pending call
    retried, and the (version, ref) weights passed with every call bring it up to date.
    """

    worker_cls: type = RolloutWorker
    """What each worker is; a subclass of RolloutWorker adds sampling methods."""

    def __init__(self, placement: Placement, env_id: str, env_kwargs: dict[str, Any],
                 num_workers: int, envs_per_worker: int, seed: int,
                 policy_factory: Callable, num_cpus: float = 0.5) -> None:
        if num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")
        self.placement = placement
        self.workers: list[Handle] = [
            placement.place(self.worker_cls, env_id, env_kwargs, envs_per_worker, derive_seed(seed, ROLLOUT_WORKER, k),
                            policy_factory, num_cpus=num_cpus, restartable=True, spread=True)
            for k in range(num_workers)
        ]
        self.version = 0
        self.weights: tuple[int, list] | None = None
        self.env_steps = 0

    def publish(self, weights: Any) -> None:
        """Puts the weights in the object store once; workers fetch them on their next call."""
        self.version += 1
        self.weights = (self.version, [self.placement.put(weights)])

    def sample_into(self, replay: Handle, num_steps: int) -> RolloutStats:
        """All workers in parallel push >= num_steps transitions (in total) to the replay."""
        futures = [w.call("sample_into", shard_for(replay, k), n, self.weights)
                   for k, (w, n) in enumerate(zip(self.workers, even_shares(num_steps, len(self.workers))))
                   if n > 0]
        return self._merge(resolve(futures))

    def sample(self, num_steps: int) -> tuple[SampleBatch, RolloutStats]:
        """All workers in parallel return >= num_steps transitions to the caller (on-policy use)."""
        futures = [w.call("sample", n, self.weights)
                   for w, n in zip(self.workers, even_shares(num_steps, len(self.workers))) if n > 0]
        results = resolve(futures)
        return SampleBatch.concat([b for b, _ in results]), self._merge([s for _, s in results])

    def _merge(self, stats: list[RolloutStats]) -> RolloutStats:
        steps = sum(s.env_steps for s in stats)
        self.env_steps += steps
        return RolloutStats(steps, tuple(r for s in stats for r in s.episode_returns))

    def state_dict(self) -> list[dict[str, Any]]:
        """Each worker's env and generator state (RolloutWorker.state_dict), for checkpoints."""
        return resolve([w.call("state_dict") for w in self.workers])

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        if len(states) != len(self.workers):
            raise ValueError(f"checkpoint holds {len(states)} rollout workers, this run has {len(self.workers)}")
        resolve([w.call("load_state_dict", state) for w, state in zip(self.workers, states)])

    def close(self) -> None:
        kill_all(self.workers)


class Evaluator:
    """Evaluation episodes on a worker of their own (an actor on Ray): they neither cut the
    sampling workers' episodes short nor run in the driver's process.

    `evaluate` takes the (version, [ref]) weights a RolloutGroup published, so the policy is
    fetched from the object store, not sent again.
    """

    def __init__(self, placement: Placement, env_id: str, env_kwargs: dict[str, Any], num_envs: int,
                 seed: int, policy_factory: Callable, num_cpus: float = 0.25) -> None:
        self.worker = placement.place(RolloutWorker, env_id, env_kwargs, num_envs, seed, policy_factory,
                                      num_cpus=num_cpus, restartable=True)

    def evaluate(self, weights: tuple[int, list] | None, episodes: int, seed: int) -> float:
        """Mean return of `episodes` episodes started from `seed`."""
        return self.result(self.submit(weights, episodes, seed))

    def submit(self, weights: tuple[int, list] | None, episodes: int, seed: int) -> Any:
        """Starts an evaluation and returns its future at once (on Ray it runs beside training)."""
        return self.worker.call("evaluate", episodes, weights, seed)

    @staticmethod
    def result(future: Any) -> float:
        """The mean return of a submitted evaluation (waits for it)."""
        return float(np.mean(resolve(future)))

    def close(self) -> None:
        kill_all([self.worker])
