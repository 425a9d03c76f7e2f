"""Finding demonstration files, and expert observations streamed from Parquet into learners.

`resolve_demos` is the one way every entry point (the CLI, sweeps, Ray Jobs, train_run) turns a
`--demos` argument into a file: a path that exists, else a shipped set by its short name
(`CartPole-v1`, `CartPole-v1-noise0.25`) or by the path the README writes
(`lfo_ray/demos/CartPole-v1.parquet`), which then resolves from any directory.

Small files are held in memory and sampled uniformly. Files larger than `max_rows` are read
row group by row group into a shuffle buffer of `max_rows` transitions, so a dataset never has
to fit in one process's memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow.parquet as pq

from lfo_ray.data import Transitions, iter_transitions

SHIPPED_PREFIX = ("lfo_ray", "demos")
"""The repository path of the shipped demonstrations, as the README writes it."""
SUFFIX = ".parquet"


def shipped_demos() -> dict[str, Path]:
    """Short name -> file of every demonstration set installed with lfo-ray."""
    from importlib import resources

    folder = Path(str(resources.files("lfo_ray") / "demos"))
    return {p.name[: -len(SUFFIX)]: p for p in sorted(folder.glob(f"*{SUFFIX}"))}


def resolve_demos(demos: str | os.PathLike) -> Path:
    """The demonstrations file named by `demos` (see the module docstring).

    A relative path is looked up from the current directory, then from the directory a Tune
    sweep was started in (TUNE_ORIG_WORKING_DIR: Tune moves trials into their own directory).
    Raises FileNotFoundError naming the argument and listing the shipped sets.
    """
    path = Path(demos)
    bases = [Path.cwd()]
    if "TUNE_ORIG_WORKING_DIR" in os.environ:
        bases.append(Path(os.environ["TUNE_ORIG_WORKING_DIR"]))
    for candidate in [path] if path.is_absolute() else [base / path for base in bases]:
        if candidate.exists():
            return candidate
    shipped = shipped_demos()
    name = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name
    parent = path.parent.parts
    if name in shipped and (not parent or parent[-2:] == SHIPPED_PREFIX):
        return shipped[name]
    raise FileNotFoundError(
        f"{demos}: no such demonstrations file, and not a shipped set; shipped: "
        f"{', '.join(shipped)} (as NAME or lfo_ray/demos/NAME.parquet)"
    )


class DemoSampler:
    """Uniform (in memory) or shuffle-buffered (streaming) minibatches of expert transitions."""

    def __init__(self, path: str | os.PathLike, seed: int = 0, max_rows: int = 1_000_000,
                 with_actions: bool = False) -> None:
        self.path = Path(path)
        self.rng = np.random.default_rng(seed)
        self.with_actions = with_actions
        self.num_rows = pq.ParquetFile(self.path).metadata.num_rows
        self.streaming = self.num_rows > max_rows
        self.max_rows = max_rows
        self._stream: Iterator[Transitions] | None = None
        self._chunks_read = 0
        """Chunks taken from the current pass over the file (where a resumed stream continues)."""
        self.buffer = self._fill() if not self.streaming else self._refill_stream(max_rows)
        if with_actions and self.buffer.actions is None:
            raise ValueError(f"{self.path}: the algorithm needs actions, the file has none")

    def _fill(self) -> Transitions:
        chunks = list(iter_transitions(self.path))
        return _concat(chunks, self.with_actions)

    def _next_chunk(self) -> Transitions:
        if self._stream is None:
            self._stream = iter_transitions(self.path, batch_rows=max(1024, self.max_rows // 16))
        try:
            chunk = next(self._stream)
        except StopIteration:
            self._stream, self._chunks_read = None, 0
            return self._next_chunk()
        self._chunks_read += 1
        return chunk

    def state_dict(self) -> dict[str, Any]:
        """The generator and, when streaming, the shuffle buffer and the position in the file."""
        state: dict[str, Any] = {"rng": self.rng.bit_generator.state}
        if self.streaming:
            state["chunks_read"] = self._chunks_read
            state["buffer"] = {name: getattr(self.buffer, name) for name in ("obs", "next_obs", "dones", "episode_ids")}
            if self.with_actions:
                state["buffer"]["actions"] = self.buffer.actions
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        if self.streaming:
            self.buffer = Transitions(**{"actions": None, **{k: np.array(v) for k, v in state["buffer"].items()}})
            self._stream = None
            for _ in range(state["chunks_read"]):
                self._next_chunk()

    def _refill_stream(self, rows: int) -> Transitions:
        chunks, have = [], 0
        while have < rows:
            chunk = self._next_chunk()
            chunks.append(chunk)
            have += len(chunk)
        return _concat(chunks, self.with_actions)

    def sample(self, batch_size: int) -> Transitions:
        if self.streaming:
            # Replace a sixteenth of the buffer with fresh rows per call: a rolling shuffle.
            fresh = self._refill_stream(max(1, self.max_rows // 16))
            slots = self.rng.integers(len(self.buffer), size=len(fresh))
            for name in ("obs", "next_obs", "dones", "episode_ids") + (("actions",) if self.with_actions else ()):
                getattr(self.buffer, name)[slots] = getattr(fresh, name)
        index = self.rng.integers(len(self.buffer), size=batch_size)
        return Transitions(
            obs=self.buffer.obs[index], next_obs=self.buffer.next_obs[index],
            actions=None if self.buffer.actions is None or not self.with_actions else self.buffer.actions[index],
            dones=self.buffer.dones[index], episode_ids=self.buffer.episode_ids[index],
        )


def _concat(chunks: list[Transitions], with_actions: bool) -> Transitions:
    return Transitions(
        obs=np.concatenate([c.obs for c in chunks]),
        next_obs=np.concatenate([c.next_obs for c in chunks]),
        actions=np.concatenate([c.actions for c in chunks]) if with_actions and chunks[0].actions is not None else None,
        dones=np.concatenate([c.dones for c in chunks]),
        episode_ids=np.concatenate([c.episode_ids for c in chunks]),
    )
