"""The one on-disk form of demonstrations: Parquet, one row per transition.

Observations are stored in their own dtype as fixed-size lists (images stay uint8, never float
lists), compressed with zstd. The dataset's provenance travels in the schema metadata, so any
Parquet reader, `ray.data.read_parquet` included, sees the same columns.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lfo_ray.data.types import DataError, DatasetMetadata, ObsDataset, ObsEpisode, Transitions, _check_finite


class Col:
    """Column names of the transition table."""

    EPISODE_ID = "episode_id"
    STEP = "step"
    OBS = "obs"
    NEXT_OBS = "next_obs"
    ACTION = "action"
    REWARD = "reward"
    TERMINATED = "terminated"
    TRUNCATED = "truncated"


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once at import, not per write.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()
META_KEY = b"lfo_ray.metadata"
OBS_KEY = b"lfo_ray.obs"
ACTION_KEY = b"lfo_ray.action"
REQUIRED = (Col.EPISODE_ID, Col.STEP, Col.OBS, Col.NEXT_OBS, Col.TERMINATED, Col.TRUNCATED)


def _array_column(values: np.ndarray) -> pa.Array:
    """(N, *shape) numpy -> scalar column for shape (), fixed-size list otherwise."""
    if values.ndim == 1:
        return pa.array(values)
    flat = pa.array(np.ascontiguousarray(values).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, int(np.prod(values.shape[1:])))


def _column_array(column: pa.ChunkedArray | pa.Array, shape: tuple[int, ...], dtype: np.dtype,
                  where: str) -> np.ndarray:
    """Inverse of _array_column, validating against the recorded shape and dtype."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    if column.null_count:
        raise DataError(f"{where}: column has {column.null_count} null values")
    if shape:
        if not pa.types.is_fixed_size_list(column.type) or column.type.list_size != int(np.prod(shape)):
            raise DataError(
                f"{where}: expected fixed-size lists of {int(np.prod(shape))} values "
                f"(shape {shape}), found type {column.type}"
            )
        values = column.flatten().to_numpy(zero_copy_only=False)
        array = values.reshape((n, *shape))
    else:
        if pa.types.is_nested(column.type):
            raise DataError(f"{where}: expected scalar values, found type {column.type}")
        array = column.to_numpy(zero_copy_only=False)
    if array.dtype != dtype:
        raise DataError(f"{where}: expected dtype {dtype}, found {array.dtype}")
    return array


def _layout(values: np.ndarray) -> bytes:
    return json.dumps({"shape": list(values.shape[1:]), "dtype": str(values.dtype)}).encode()


def dataset_to_table(dataset: ObsDataset) -> pa.Table:
    episodes = dataset.episodes
    lengths = np.array([len(e) for e in episodes])
    obs = np.concatenate([e.observations[:-1] for e in episodes])
    next_obs = np.concatenate([e.observations[1:] for e in episodes])
    last = np.zeros(lengths.sum(), bool)
    last[np.cumsum(lengths) - 1] = True
    terminated = np.repeat([e.terminated for e in episodes], lengths) & last
    truncated = np.repeat([e.truncated for e in episodes], lengths) & last
    columns = {
        Col.EPISODE_ID: pa.array(np.repeat(np.arange(len(episodes), dtype=np.int64), lengths)),
        Col.STEP: pa.array(np.concatenate([np.arange(n, dtype=np.int32) for n in lengths])),
        Col.OBS: _array_column(obs),
        Col.NEXT_OBS: _array_column(next_obs),
    }
    metadata = {META_KEY: dataset.metadata.to_json().encode(), OBS_KEY: _layout(obs)}
    if dataset.has_actions:
        actions = np.concatenate([e.actions for e in episodes])
        columns[Col.ACTION] = _array_column(actions)
        metadata[ACTION_KEY] = _layout(actions)
    if dataset.has_rewards:
        columns[Col.REWARD] = pa.array(np.concatenate([e.rewards for e in episodes]))
    columns[Col.TERMINATED] = pa.array(terminated)
    columns[Col.TRUNCATED] = pa.array(truncated)
    table = pa.table(columns)
    return table.replace_schema_metadata(metadata)


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Calls write(tmp_path) on a temporary file beside `path`, then renames it into place.

    A crash leaves either the old file or the complete new one, never a truncated file. An
    interrupt removes the temporary file; one left by a killed process is removed by the next
    write of the same path (one writer per path: a run directory has one run at a time).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_dataset(dataset: ObsDataset, path: str | os.PathLike, *, row_group_rows: int = 65536) -> Path:
    """Writes `dataset` to `path` atomically (temporary file, then rename)."""
    table = dataset_to_table(dataset)
    return atomic_write(
        path,
        lambda tmp: pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_rows),
    )


def open_parquet(path: Path) -> pq.ParquetFile:
    """The Parquet file at `path`; a DataError says what is there instead."""
    if not path.exists():
        raise DataError(f"{path}: no such demonstration file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a Parquet file (use `lfo data import` "
                        "for ILPO directories)")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"{path}: not a readable Parquet file ({error})") from None


class _Layout:
    """The schema facts needed to decode a file's columns."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        meta = schema.metadata or {}
        missing = [key.decode() for key in (META_KEY, OBS_KEY) if key not in meta]
        if missing:
            raise DataError(
                f"{path}: Parquet schema metadata lacks lfo-ray key(s) {missing} "
                f"(an lfo-ray file has {META_KEY.decode()!r}, {OBS_KEY.decode()!r} and, with "
                f"actions, {ACTION_KEY.decode()!r}); import a plain Parquet file of the documented "
                "columns with `lfo data import FILE OUT.parquet --env ENV`"
            )
        try:
            self.metadata = DatasetMetadata.from_json(meta[META_KEY])
            obs = json.loads(meta[OBS_KEY])
            action = json.loads(meta[ACTION_KEY]) if ACTION_KEY in meta else None
        except (ValueError, TypeError) as error:
            raise DataError(f"{path}: corrupt lfo-ray metadata ({error})") from None
        if self.metadata.format_version != 1:
            raise DataError(
                f"{path}: format version {self.metadata.format_version}, expected 1"
            )
        missing = [c for c in REQUIRED if c not in schema.names]
        if missing:
            raise DataError(f"{path}: missing columns {missing}; expected at least {list(REQUIRED)}")
        if (action is None) != (Col.ACTION not in schema.names):
            raise DataError(f"{path}: column {Col.ACTION!r} and its layout metadata disagree")
        self.path = path
        self.obs_shape = tuple(obs["shape"])
        self.obs_dtype = np.dtype(obs["dtype"])
        self.action_shape = None if action is None else tuple(action["shape"])
        self.action_dtype = None if action is None else np.dtype(action["dtype"])
        self.has_reward = Col.REWARD in schema.names

    def decode(self, table: pa.Table) -> dict[str, np.ndarray]:
        where = lambda col: f"{self.path}: column {col!r}"  # noqa: E731
        out = {
            Col.EPISODE_ID: _column_array(table[Col.EPISODE_ID], (), np.dtype(np.int64), where(Col.EPISODE_ID)),
            Col.STEP: _column_array(table[Col.STEP], (), np.dtype(np.int32), where(Col.STEP)),
            Col.OBS: _column_array(table[Col.OBS], self.obs_shape, self.obs_dtype, where(Col.OBS)),
            Col.NEXT_OBS: _column_array(table[Col.NEXT_OBS], self.obs_shape, self.obs_dtype, where(Col.NEXT_OBS)),
            Col.TERMINATED: _column_array(table[Col.TERMINATED], (), np.dtype(bool), where(Col.TERMINATED)),
            Col.TRUNCATED: _column_array(table[Col.TRUNCATED], (), np.dtype(bool), where(Col.TRUNCATED)),
        }
        if self.action_shape is not None:
            out[Col.ACTION] = _column_array(table[Col.ACTION], self.action_shape, self.action_dtype, where(Col.ACTION))
        if self.has_reward:
            out[Col.REWARD] = _column_array(table[Col.REWARD], (), np.dtype(np.float32), where(Col.REWARD))
        return out


def read_metadata(path: str | os.PathLike) -> DatasetMetadata:
    path = Path(path)
    return _Layout(path, open_parquet(path).schema_arrow).metadata


def read_dataset(path: str | os.PathLike) -> ObsDataset:
    """Reads a whole dataset, checking that every episode is contiguous and consistent."""
    path = Path(path)
    file = open_parquet(path)
    layout = _Layout(path, file.schema_arrow)
    if file.metadata.num_rows == 0:
        raise DataError(f"{path}: contains no transitions")
    cols = layout.decode(file.read())
    ids = cols[Col.EPISODE_ID]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    if len(np.unique(ids[starts])) != len(starts):
        raise DataError(f"{path}: rows of an episode are not contiguous (column {Col.EPISODE_ID!r})")
    episodes = []
    for start, end in zip(starts, ends):
        episode_id = int(ids[start])
        where = f"{path}: episode {episode_id}"
        if not np.array_equal(cols[Col.STEP][start:end], np.arange(end - start)):
            raise DataError(f"{where}: column {Col.STEP!r} must count 0..{end - start - 1} in order")
        obs, next_obs = cols[Col.OBS][start:end], cols[Col.NEXT_OBS][start:end]
        try:
            _check_finite(f"column {Col.OBS!r}", obs)
            _check_finite(f"column {Col.NEXT_OBS!r}", next_obs)
        except DataError as error:
            raise DataError(f"{where}: {error}") from None
        if not np.array_equal(obs[1:], next_obs[:-1]):
            raise DataError(f"{where}: next_obs of a step differs from obs of the following step")
        flags_before_end = cols[Col.TERMINATED][start:end - 1] | cols[Col.TRUNCATED][start:end - 1]
        if flags_before_end.any():
            raise DataError(f"{where}: terminated/truncated set before the last step")
        try:
            episodes.append(ObsEpisode(
                observations=np.concatenate([obs, next_obs[-1:]]),
                actions=cols[Col.ACTION][start:end] if Col.ACTION in cols else None,
                rewards=cols[Col.REWARD][start:end] if Col.REWARD in cols else None,
                terminated=bool(cols[Col.TERMINATED][end - 1]),
                truncated=bool(cols[Col.TRUNCATED][end - 1]),
            ))
        except DataError as error:
            raise DataError(f"{where}: {error}") from None
    return ObsDataset(tuple(episodes), layout.metadata)


def iter_transitions(path: str | os.PathLike, batch_rows: int = 65536) -> Iterator[Transitions]:
    """Streams a dataset as Transitions batches without loading the whole file."""
    path = Path(path)
    file = open_parquet(path)
    layout = _Layout(path, file.schema_arrow)
    for batch in file.iter_batches(batch_size=batch_rows):
        cols = layout.decode(pa.Table.from_batches([batch]))
        yield Transitions(
            obs=cols[Col.OBS],
            next_obs=cols[Col.NEXT_OBS],
            actions=cols.get(Col.ACTION),
            dones=cols[Col.TERMINATED],
            episode_ids=cols[Col.EPISODE_ID],
        )
