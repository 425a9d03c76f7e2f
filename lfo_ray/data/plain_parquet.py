"""Parquet files with lfo-ray's documented columns but none of its metadata (pandas, polars, ...).

Columns (names in lfo_ray.data.parquet.Col): `obs`, `next_obs` (required; numbers, or lists of
numbers of one length), optional `episode_id`, `step`, `action`, `reward`, `terminated`,
`truncated`. What the metadata would say comes from the env instead: observations are reshaped
to the env's observation shape and cast to its dtype, actions to its action space's. Without
`episode_id`, episodes are inferred as for ILPO text: a new episode wherever obs differs from
the previous row's next_obs (and after a row marked terminated or truncated). With `step`, rows
are put in (episode_id, step) order first.
"""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lfo_ray.data.parquet import Col, open_parquet
from lfo_ray.data.types import DataError, ObsDataset

PLAIN_COLUMNS = (Col.EPISODE_ID, Col.STEP, Col.OBS, Col.NEXT_OBS, Col.ACTION, Col.REWARD,
                 Col.TERMINATED, Col.TRUNCATED)
OPTIONAL_COLUMNS = tuple(c for c in PLAIN_COLUMNS if c not in (Col.OBS, Col.NEXT_OBS))


def _numbers(table: pa.Table, name: str, path: Path) -> np.ndarray:
    """(N,) for a scalar column, (N, k) for a list column whose lists all have k values."""
    column = table[name].combine_chunks()
    where = f"{path}: column {name!r}"
    if column.null_count:
        raise DataError(f"{where}: {column.null_count} null value(s); expected none")
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type) \
            or pa.types.is_fixed_size_list(column.type):
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths != lengths[0]).any():
            row = int(np.flatnonzero(lengths != lengths[0])[0])
            raise DataError(f"{where}: row {row} holds {lengths[row]} values, row 0 holds "
                            f"{lengths[0]}; expected lists of one length")
        values = column.flatten().to_numpy(zero_copy_only=False)
        array = values.reshape(len(column), int(lengths[0]) if len(lengths) else 0)
    elif pa.types.is_nested(column.type):
        raise DataError(f"{where}: type {column.type}; expected numbers or lists of numbers")
    else:
        array = column.to_numpy(zero_copy_only=False)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise DataError(f"{where}: values of dtype {array.dtype}; expected numbers")
    return array


def _fit(values: np.ndarray, space: gym.Space | None, name: str, path: Path,
         env_id: str) -> np.ndarray:
    """Reshapes (N, k) values to (N, *space.shape) and casts them to the space's dtype."""
    if space is None:
        return values
    shape = tuple(space.shape or ())
    size = int(np.prod(shape)) if shape else 1
    flat = values.reshape(len(values), -1)
    if flat.shape[1] != size:
        raise DataError(f"{path}: column {name!r} holds {flat.shape[1]} value(s) per row; "
                        f"{env_id} expects {size} (shape {shape})")
    dtype = np.dtype(np.int64) if isinstance(space, gym.spaces.Discrete) else space.dtype
    with np.errstate(invalid="ignore", over="ignore"):
        cast = flat.astype(dtype).reshape((len(values), *shape))
    if not np.issubdtype(dtype, np.floating) and not np.array_equal(cast.reshape(flat.shape), flat):
        raise DataError(f"{path}: column {name!r} has values that are not exact {dtype}; "
                        f"{env_id} expects {dtype}")
    return cast


def read_plain_parquet(path: str | os.PathLike, env_id: str = "",
                       spaces: tuple[gym.Space, gym.Space] | None = None) -> ObsDataset:
    """Reads a plain Parquet file of transitions; `spaces` are the env's (observation, action)."""
    path = Path(path)
    table = open_parquet(path).read()
    missing = [c for c in (Col.OBS, Col.NEXT_OBS) if c not in table.column_names]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; expected at least {Col.OBS!r} and "
                        f"{Col.NEXT_OBS!r} (optional: {', '.join(OPTIONAL_COLUMNS)})")
    if table.num_rows == 0:
        raise DataError(f"{path}: contains no transitions")
    if Col.EPISODE_ID in table.column_names and Col.STEP in table.column_names:
        order = np.lexsort((_numbers(table, Col.STEP, path), _numbers(table, Col.EPISODE_ID, path)))
        table = table.take(pa.array(order))
    obs_space, action_space = spaces if spaces is not None else (None, None)
    columns = {name: _numbers(table, name, path) for name in PLAIN_COLUMNS if name in table.column_names}
    obs = _fit(columns[Col.OBS], obs_space, Col.OBS, path, env_id)
    next_obs = _fit(columns[Col.NEXT_OBS], obs_space, Col.NEXT_OBS, path, env_id)
    actions = columns.get(Col.ACTION)
    if actions is not None:
        actions = _fit(actions, action_space, Col.ACTION, path, env_id)
    try:
        dataset = ObsDataset.from_arrays(
            obs, next_obs,
            episode_ids=columns.get(Col.EPISODE_ID),
            dones=columns.get(Col.TERMINATED),
            truncated=columns.get(Col.TRUNCATED),
            actions=actions,
            rewards=None if Col.REWARD not in columns else columns[Col.REWARD].astype(np.float32),
            env_id=env_id,
            observation_space=obs_space,
            action_space=action_space,
            source="import:plain-parquet",
        )
    except DataError as error:
        raise DataError(f"{path}: {error}") from None
    return dataset
