"""A bounded FIFO replay of online transitions with uniform sampling, and its sharded form.

Storage is one preallocated ring of numpy arrays per field, allocated from the first batch, so
adding and sampling cost one vectorised copy each, whatever the batch size.

`ShardedReplay` is N such buffers (N Ray actors): rollout worker k adds to shard k mod N and a
learner's pull is one call per shard, issued together, so ingest and sampling scale with N.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Hashable

import numpy as np

from lfo_ray.batch import SampleBatch
from lfo_ray.placement import Done, Handle, Placement, resolve
from lfo_ray.seeding import REPLAY_SHARD, derive_seed

_FIELDS = [f.name for f in dataclasses.fields(SampleBatch)]


class ReplayBuffer:
    """Holds at most `capacity` transitions; the oldest are overwritten first."""

    def __init__(self, capacity: int, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.rng = np.random.default_rng(seed)
        self._data: dict[str, np.ndarray] | None = None
        self._next = 0
        self.size = 0
        self.added = 0
        """Transitions added since creation (the replay position, kept across checkpoints)."""
        self._keys: set[Hashable] = set()
        """Keys of the keyed adds seen: a rollout call that Ray retries adds its chunk once."""

    def __len__(self) -> int:
        return self.size

    def add(self, batch: SampleBatch, key: Hashable | None = None) -> int:
        """Appends a batch; returns the replay's size afterwards.

        key: a batch with a key already added is ignored (a retried rollout call delivers its
        chunk again after its worker was restarted; keyed adds keep the count exact).
        """
        n = len(batch)
        if key is not None:
            if key in self._keys:
                return self.size
            self._keys.add(key)
        if n == 0:
            return self.size
        if self._data is None:
            self._data = {
                name: np.empty((self.capacity, *getattr(batch, name).shape[1:]), getattr(batch, name).dtype)
                for name in _FIELDS
            }
        self.added += n
        if n > self.capacity:
            batch = batch.take(slice(n - self.capacity, n))
            n = self.capacity
        # At most two contiguous slices of the ring: plain copies, no index arrays.
        first = min(n, self.capacity - self._next)
        for name in _FIELDS:
            values = getattr(batch, name)
            self._data[name][self._next:self._next + first] = values[:first]
            self._data[name][:n - first] = values[first:]
        self._next = (self._next + n) % self.capacity
        self.size = min(self.size + n, self.capacity)
        return self.size

    def sample(self, batch_size: int) -> SampleBatch:
        """`batch_size` transitions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay")
        index = self.rng.integers(self.size, size=batch_size)
        return SampleBatch(*(self._data[name][index] for name in _FIELDS))

    def sample_sized(self, batch_size: int) -> tuple[SampleBatch | None, int]:
        """`batch_size` uniform draws (None when empty or batch_size is 0) and the current size:
        one round trip gives a sharded pull both its rows and the weight of this shard."""
        if self.size == 0 or batch_size == 0:
            return None, self.size
        return self.sample(batch_size), self.size

    def all(self) -> SampleBatch:
        """Every stored transition, oldest first."""
        if self.size == 0:
            raise ValueError("the replay is empty")
        start = self._next if self.size == self.capacity else 0
        index = (start + np.arange(self.size)) % self.capacity
        return SampleBatch(*(self._data[name][index] for name in _FIELDS))

    def state_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "added": self.added,
            "rng": self.rng.bit_generator.state,
            "keys": sorted(self._keys, key=repr),
            "data": None if self.size == 0 else self.all().to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__init__(state["capacity"])
        self.rng.bit_generator.state = state["rng"]
        if state["data"] is not None:
            self.add(SampleBatch(**state["data"]))
        self.added = state["added"]
        self._keys = set(state.get("keys", []))


class ShardedReplay(Handle):
    """`num_shards` ReplayBuffers behind the Handle calls the algorithms make on one replay.

    Rollout worker k adds to `shard(k)`; `call("sample", n)` is one `sample_sized` call per
    shard, issued together, with the n rows split by a multinomial draw over the shard sizes
    seen at the previous pull (equal shares at the first): uniform over the union while the
    shards fill alike, as they do when every shard has the same number of workers. Sampling
    calls resolve before returning (a `Done`), so learners use it exactly like one replay handle.
    Picklable: learner actors pull from the shards directly.
    """

    def __init__(self, placement: Placement, num_shards: int, capacity: int, seed: int = 0,
                 num_cpus: float = 0.1) -> None:
        if num_shards < 1:
            raise ValueError(f"replay_shards must be >= 1, got {num_shards}")
        self.shards = [placement.place(ReplayBuffer, capacity, derive_seed(seed, REPLAY_SHARD, k), num_cpus=num_cpus)
                       for k in range(num_shards)]
        self.rng = np.random.default_rng(seed)
        self.sizes = np.ones(num_shards)
        self._next_add = 0

    def shard(self, worker_index: int) -> Handle:
        return self.shards[worker_index % len(self.shards)]

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "sample":
            return Done(self.sample(*args, **kwargs))
        if method == "add":
            self._next_add += 1
            return self.shard(self._next_add - 1).call("add", *args, **kwargs)
        if method == "__len__":
            return Done(sum(resolve([s.call("__len__") for s in self.shards])))
        if method == "all":
            full = [s for s, n in zip(self.shards, resolve([s.call("__len__") for s in self.shards])) if n]
            if not full:
                raise ValueError("the replay is empty")
            return Done(SampleBatch.concat(resolve([s.call("all") for s in full])))
        if method == "state_dict":
            return Done(resolve([s.call("state_dict") for s in self.shards]))
        if method == "load_state_dict":
            states = args[0]
            if len(states) != len(self.shards):
                raise ValueError(f"checkpoint holds {len(states)} replay shards, this run has {len(self.shards)}")
            return Done(resolve([s.call("load_state_dict", st) for s, st in zip(self.shards, states)]))
        raise AttributeError(f"ShardedReplay has no call {method!r}")

    def sample(self, batch_size: int) -> SampleBatch:
        counts = self.rng.multinomial(batch_size, self.sizes / self.sizes.sum())
        results = resolve([s.call("sample_sized", int(c)) for s, c in zip(self.shards, counts)])
        self.sizes = np.array([size for _, size in results], dtype=float)
        batches = [b for b, _ in results if b is not None]
        short = batch_size - sum(len(b) for b in batches)
        if short > 0:
            # A shard that was empty at the last pull was given rows: redraw them by the sizes now.
            if self.sizes.sum() == 0:
                raise ValueError("cannot sample from an empty replay")
            batches.append(self.sample(short))
        return SampleBatch.concat(batches)


def make_replay(placement: Placement, capacity: int, seed: int, shards: int = 1,
                num_cpus: float = 0.1) -> Handle:
    """One replay (`shards` = 1) or a ShardedReplay, each shard holding up to `capacity`."""
    if shards == 1:
        return placement.place(ReplayBuffer, capacity, seed, num_cpus=num_cpus)
    return ShardedReplay(placement, shards, capacity, seed, num_cpus=num_cpus)


def shard_for(replay: Handle, worker_index: int) -> Handle:
    """The replay (shard) that rollout worker `worker_index` adds to."""
    return replay.shard(worker_index) if isinstance(replay, ShardedReplay) else replay
