"""Asynchronous sampling for off-policy learners: rollout actors keep stepping while learners update.

    sampler = AsyncSampler(group, replay, budget, max_lag=1)
    sampler.start(weights)              # every worker gets `in_flight` step quotas (chunks) at once
    while training:
        learner updates from the replay (the workers keep pushing chunks into it meanwhile)
        sampler.publish(new_weights)    # version + 1; waits while an older chunk would exceed max_lag
        stats = sampler.poll()          # env steps delivered, finished episodes, lags seen
    stats = sampler.stop()              # the budget is spent exactly: every chunk is a leased quota

The budget is leased in chunks (`chunk_steps` transitions each, the last ones smaller) and a
worker delivers exactly its chunk (RolloutWorker.sample_chunk), so the actors stop at exactly
`budget` transitions. `allow(n)` lowers the leasing limit below the budget: a loop that must not
run ahead of its learner (BCO's phases) raises it step by step.

Policy lag: a chunk is sampled with the weights current when it was leased; its lag is the number
of versions published between that and its delivery. `publish` first waits for every chunk whose
lag would exceed `max_lag`, so no chunk enters the replay more than `max_lag` versions stale
(`stats.max_lag` records the largest seen).

Placement: on Ray a driver thread keeps `in_flight` chunks queued on every worker (an actor starts
its next chunk the moment it finishes one: no round trip to the driver in between) and the
caller's thread is free for the learners. In-process, chunks are sampled in the caller's thread
inside `wait_for` (lag 0), which keeps the local path deterministic for tests and debugging.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lfo_ray.placement import Handle, LocalHandle, resolve
from lfo_ray.replay import shard_for
from lfo_ray.rollout import RolloutStats
from lfo_ray.runner import RolloutGroup


@dataclass
class SamplerStats:
    """What the sampler has delivered so far.

    env_steps: transitions in the replay (delivered chunks); episode_returns: returns of the episodes
    that ended since the previous poll/wait_for; version: the newest published weights; max_lag: the
    largest policy lag of a delivered chunk; lags: the lag of each chunk delivered since the
    previous poll/wait_for.
    """

    env_steps: int = 0
    episode_returns: list[float] = field(default_factory=list)
    version: int = 0
    max_lag: int = 0
    lags: list[int] = field(default_factory=list)


class AsyncSampler:
    """Leases the env-step budget to a RolloutGroup's workers in chunks pushed into `replay`."""

    def __init__(self, group: RolloutGroup, replay: Handle, budget: int, max_lag: int = 1,
                 chunk_steps: int = 1024, in_flight: int = 2, env_steps: int = 0) -> None:
        if budget < 1 or max_lag < 0 or chunk_steps < 1 or in_flight < 1:
            raise ValueError(f"need budget >= 1, max_lag >= 0, chunk_steps >= 1, in_flight >= 1; got "
                             f"budget={budget}, max_lag={max_lag}, chunk_steps={chunk_steps}, in_flight={in_flight}")
        if not 0 <= env_steps <= budget:
            raise ValueError(f"env_steps={env_steps} already spent is outside the budget 0..{budget}")
        self.group = group
        # Each worker's replay (shard) handle goes to the object store once, not into every call.
        self.replays = [[group.placement.put(shard_for(replay, k))] for k in range(len(group.workers))]
        self.budget, self.max_lag, self.chunk_steps, self.in_flight = budget, max_lag, chunk_steps, in_flight
        self.local = isinstance(group.workers[0], LocalHandle)
        self.limit = budget
        self.leased = env_steps
        self.stats = SamplerStats(env_steps=env_steps)
        self._leases = 0
        self._pending: dict[Any, tuple[int, int, int]] = {}
        """In-flight chunks on Ray: future -> (worker index, steps, weights version)."""
        self._paused = False
        self._holding = False
        """publish with max_lag 0 holds new leases until the current version's chunks are in."""
        self._stopping = False
        self._closed = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    # --- the interface ---------------------------------------------------------------------------

    def start(self, weights: Any = None) -> None:
        """Publishes `weights` (None: the workers' initial policy) and starts leasing chunks."""
        if weights is not None:
            self.group.publish(weights)
        self.stats.version = self.group.version
        if not self.local:
            self._thread = threading.Thread(target=self._run, name="lfo-async-sampler", daemon=True)
            self._thread.start()

    def publish(self, weights: Any) -> int:
        """New weights for every chunk leased from now on; returns their version.

        Waits until no in-flight chunk is more than max_lag - 1 versions old, so that after this
        publish none is more than max_lag behind when it is delivered.
        """
        with self._cond:
            oldest_allowed = self.group.version + 1 - self.max_lag
            self._holding = self.max_lag == 0
            self._cond.wait_for(lambda: self._error is not None or all(
                version >= oldest_allowed for _, _, version in self._pending.values()))
            self._holding = False
            self._raise()
            self.group.publish(weights)
            self.stats.version = self.group.version
            self._cond.notify_all()
        return self.group.version

    def allow(self, env_steps: int) -> None:
        """Lets the workers lease up to `env_steps` in total (capped at the budget)."""
        with self._cond:
            self.limit = min(max(env_steps, self.leased), self.budget)
            self._cond.notify_all()

    def poll(self) -> SamplerStats:
        """Stats so far without waiting; episode returns and lags are handed out once."""
        with self._cond:
            self._raise()
            return self._take()

    def wait_for(self, env_steps: int) -> SamplerStats:
        """Waits until at least `env_steps` (capped at the budget) are in the replay.

        Raises the leasing limit to `env_steps` if it was lower; in-process, samples them here.
        """
        target = min(env_steps, self.budget)
        if target > self.limit:
            self.allow(target)
        if self.local:
            while self.stats.env_steps < target:
                self._run_local_chunk(target)
            return self.poll()
        with self._cond:
            self._cond.wait_for(lambda: self._error is not None or self.stats.env_steps >= target
                                or (self._thread is not None and not self._thread.is_alive()))
            self._raise()
            return self._take()

    def pause(self) -> SamplerStats:
        """Stops leasing and waits for the in-flight chunks: the workers and the replay are then
        quiet (a consistent checkpoint). `resume` continues."""
        with self._cond:
            self._paused = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._error is not None or not self._pending)
            self._raise()
            return SamplerStats(self.stats.env_steps, [], self.stats.version, self.stats.max_lag, [])

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def stop(self) -> SamplerStats:
        """Waits for the in-flight chunks, then ends the leasing thread; returns the last stats."""
        self.pause()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        return self.poll()

    def close(self) -> None:
        """Abandons the in-flight chunks and ends the leasing thread (after an error elsewhere)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()

    @property
    def done(self) -> bool:
        """The whole budget is in the replay."""
        return self.stats.env_steps >= self.budget

    # --- internals ----------------------------------------------------------------------------

    def _take(self) -> SamplerStats:
        out = SamplerStats(self.stats.env_steps, self.stats.episode_returns, self.stats.version,
                           self.stats.max_lag, self.stats.lags)
        self.stats.episode_returns, self.stats.lags = [], []
        return out

    def _raise(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"asynchronous sampling failed: {self._error}") from self._error

    def _lease(self, worker: int) -> tuple[Any, int, int] | None:
        """The next chunk for `worker` as (future, steps, version), or None when nothing is left."""
        steps = min(self.chunk_steps, self.limit - self.leased)
        if steps <= 0:
            return None
        self.leased += steps
        self._leases += 1
        key = (worker, self._leases, self.leased)
        future = self.group.workers[worker].call("sample_chunk", self.replays[worker], steps,
                                                 self.group.weights, key)
        return future, steps, self.group.version

    def _deliver(self, stats: RolloutStats, version: int) -> None:
        lag = self.group.version - version
        self.stats.env_steps += stats.env_steps
        self.stats.episode_returns.extend(stats.episode_returns)
        self.stats.lags.append(lag)
        self.stats.max_lag = max(self.stats.max_lag, lag)
        self.group.env_steps += stats.env_steps

    def _run_local_chunk(self, target: int) -> None:
        worker = self._leases % len(self.group.workers)
        lease = self._lease(worker)
        if lease is None:
            raise RuntimeError(f"cannot reach {target} env steps: {self.leased} of the budget "
                               f"{self.budget} are leased")
        future, _, version = lease
        self._deliver(resolve(future), version)

    def _run(self) -> None:
        import ray

        try:
            while True:
                with self._cond:
                    if self._closed:
                        return
                    if not (self._paused or self._holding):
                        busy = [w for _, (w, _, _) in self._pending.items()]
                        for worker in range(len(self.group.workers)):
                            while busy.count(worker) < self.in_flight:
                                lease = self._lease(worker)
                                if lease is None:
                                    break
                                future, steps, version = lease
                                self._pending[future] = (worker, steps, version)
                                busy.append(worker)
                    if not self._pending:
                        if self._stopping:
                            return
                        # Nothing to wait for: sleep until publish/allow/resume/stop changes that.
                        self._cond.wait(timeout=0.5)
                        continue
                    futures = list(self._pending)
                ready, _ = ray.wait(futures, num_returns=1, timeout=0.5)
                results = ray.get(ready)
                with self._cond:
                    for future, stats in zip(ready, results):
                        _, _, version = self._pending.pop(future)
                        self._deliver(stats, version)
                    self._cond.notify_all()
        except BaseException as error:  # surfaces in the caller's next call
            with self._cond:
                self._error = error
                self._cond.notify_all()


@contextmanager
def quiet(sampler: AsyncSampler | None, env_steps: int) -> Iterator[int]:
    """Workers and replay quiet for the body (a checkpoint): yields the env steps in the replay, the
    chunks run ahead included (`env_steps` as given when sampling is synchronous: no sampler). The
    sampler resumes after a body that returned; a body that raised leaves it to the caller's close."""
    if sampler is None:
        yield env_steps
        return
    yield sampler.pause().env_steps
    sampler.resume()
