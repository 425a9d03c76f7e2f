"""A bounded FIFO replay of online transitions with uniform sampling.

Storage is one preallocated ring of numpy arrays per field, allocated from the first batch, so
adding and sampling cost one vectorised copy each, whatever the batch size.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from lfo_ray.batch import SampleBatch

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

    def __len__(self) -> int:
        return self.size

    def add(self, batch: SampleBatch) -> int:
        """Appends a batch; returns the replay's size afterwards."""
        n = len(batch)
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
        index = (self._next + np.arange(n)) % self.capacity
        for name in _FIELDS:
            self._data[name][index] = getattr(batch, name)
        self._next = (self._next + n) % self.capacity
        self.size = min(self.size + n, self.capacity)
        return self.size

    def sample(self, batch_size: int) -> SampleBatch:
        """`batch_size` transitions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay")
        index = self.rng.integers(self.size, size=batch_size)
        return SampleBatch(*(self._data[name][index] for name in _FIELDS))

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
            "data": None if self.size == 0 else self.all().to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__init__(state["capacity"])
        self.rng.bit_generator.state = state["rng"]
        if state["data"] is not None:
            self.add(SampleBatch(**state["data"]))
        self.added = state["added"]
