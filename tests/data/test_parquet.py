"""The Parquet transition table: round trips per observation kind, atomicity, refusing bad files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lfo_ray.data.parquet import (
    META_KEY,
    Col,
    atomic_write,
    dataset_to_table,
    iter_transitions,
    read_dataset,
    read_metadata,
    write_dataset,
)
from lfo_ray.data.types import DataError, DatasetMetadata, ObsDataset, ObsEpisode, space_to_dict

RNG = np.random.default_rng(0)


def vector_dataset(actions: bool = True, rewards: bool = True) -> ObsDataset:
    episodes = [
        ObsEpisode(
            observations=RNG.normal(size=(n + 1, 4)).astype(np.float32),
            actions=RNG.integers(2, size=n) if actions else None,
            rewards=np.ones(n) if rewards else None,
            terminated=n == 3,
            truncated=n != 3,
        )
        for n in (3, 5)
    ]
    meta = DatasetMetadata(
        env_id="CartPole-v1",
        observation_space=space_to_dict(gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)),
        action_space=space_to_dict(gym.spaces.Discrete(2)),
        source="test",
        seed=7,
    )
    return ObsDataset.from_episodes(episodes, meta)


def discrete_dataset() -> ObsDataset:
    episodes = [
        ObsEpisode(np.array([2497, 2447, 2448, 2449, 2499]), np.array([0, 3, 3, 1]),
                   np.array([0, 0, 0, 10.0]), terminated=True),
        ObsEpisode(np.array([13, 13]), np.array([0]), np.array([-1.0]), truncated=True),
    ]
    return ObsDataset.from_episodes(episodes, DatasetMetadata(
        env_id="lfo_ray/GridWorld-v0", observation_space=space_to_dict(gym.spaces.Discrete(2500))))


def image_dataset(actions: bool = False, rewards: bool = False) -> ObsDataset:
    episodes = [
        ObsEpisode(
            observations=RNG.integers(256, size=(n + 1, 6, 5, 3), dtype=np.uint8),
            actions=np.full((n, 2), 0.5, np.float32) if actions else None,
            rewards=np.zeros(n) if rewards else None,
        )
        for n in (2, 1)
    ]
    return ObsDataset.from_episodes(episodes, DatasetMetadata(env_id=""))


def assert_same(a: ObsDataset, b: ObsDataset) -> None:
    assert a.metadata == b.metadata
    assert len(a) == len(b)
    for x, y in zip(a.episodes, b.episodes):
        assert x.observations.dtype == y.observations.dtype
        np.testing.assert_array_equal(x.observations, y.observations)
        for name in ("actions", "rewards"):
            if getattr(x, name) is None:
                assert getattr(y, name) is None
            else:
                assert getattr(x, name).dtype == getattr(y, name).dtype
                np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
        assert (x.terminated, x.truncated) == (y.terminated, y.truncated)


@pytest.mark.parametrize(
    "make",
    [
        vector_dataset,
        lambda: vector_dataset(actions=False),
        lambda: vector_dataset(rewards=False),
        discrete_dataset,
        image_dataset,
        lambda: image_dataset(actions=True, rewards=True),
    ],
    ids=["vector", "vector-no-actions", "vector-no-rewards", "discrete", "image", "image-actions"],
)
def test_round_trip(tmp_path, make):
    dataset = make()
    path = write_dataset(dataset, tmp_path / "demo.parquet")
    assert_same(dataset, read_dataset(path))
    assert read_metadata(path) == dataset.metadata
    table = pq.read_table(path)
    assert table.num_rows == dataset.num_transitions
    assert (Col.ACTION in table.column_names) == dataset.has_actions
    assert (Col.REWARD in table.column_names) == dataset.has_rewards


def test_column_types_keep_observation_dtype(tmp_path):
    write_dataset(image_dataset(), tmp_path / "image.parquet")
    write_dataset(discrete_dataset(), tmp_path / "grid.parquet")
    write_dataset(vector_dataset(), tmp_path / "vector.parquet")
    image = pq.read_schema(tmp_path / "image.parquet")
    assert image.field(Col.OBS).type == pa.list_(pa.uint8(), 6 * 5 * 3)
    assert image.field(Col.NEXT_OBS).type == pa.list_(pa.uint8(), 6 * 5 * 3)
    assert pq.read_schema(tmp_path / "grid.parquet").field(Col.OBS).type == pa.int64()
    vector = pq.read_schema(tmp_path / "vector.parquet")
    assert vector.field(Col.OBS).type == pa.list_(pa.float32(), 4)
    assert vector.field(Col.REWARD).type == pa.float32()
    assert vector.field(Col.TERMINATED).type == pa.bool_()


def test_table_rows_follow_episodes(tmp_path):
    path = write_dataset(discrete_dataset(), tmp_path / "grid.parquet")
    table = pq.read_table(path).to_pydict()
    assert table[Col.EPISODE_ID] == [0, 0, 0, 0, 1]
    assert table[Col.STEP] == [0, 1, 2, 3, 0]
    assert table[Col.OBS] == [2497, 2447, 2448, 2449, 13]
    assert table[Col.NEXT_OBS] == [2447, 2448, 2449, 2499, 13]
    assert table[Col.TERMINATED] == [False, False, False, True, False]
    assert table[Col.TRUNCATED] == [False, False, False, False, True]


def test_iter_transitions_streams_the_same_rows(tmp_path):
    dataset = vector_dataset()
    path = write_dataset(dataset, tmp_path / "demo.parquet", row_group_rows=3)
    batches = list(iter_transitions(path, batch_rows=3))
    assert len(batches) == 3
    whole = dataset.transitions()
    np.testing.assert_array_equal(np.concatenate([b.obs for b in batches]), whole.obs)
    np.testing.assert_array_equal(np.concatenate([b.next_obs for b in batches]), whole.next_obs)
    np.testing.assert_array_equal(np.concatenate([b.actions for b in batches]), whole.actions)
    np.testing.assert_array_equal(np.concatenate([b.dones for b in batches]), whole.dones)


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    write_dataset(vector_dataset(), tmp_path / "demo.parquet")
    write_dataset(discrete_dataset(), tmp_path / "demo.parquet")
    assert [p.name for p in tmp_path.iterdir()] == ["demo.parquet"]
    assert read_dataset(tmp_path / "demo.parquet").metadata.env_id == "lfo_ray/GridWorld-v0"


def test_atomic_write_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_dataset(vector_dataset(), tmp_path / "demo.parquet")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_interrupted_write_keeps_previous_file(tmp_path):
    path = write_dataset(vector_dataset(), tmp_path / "demo.parquet")
    before = path.read_bytes()

    def crash_midway(tmp: str) -> None:
        Path(tmp).write_bytes(before[: len(before) // 2])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, crash_midway)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo.parquet"]
    assert len(read_dataset(path)) == 2


def test_interrupted_dataset_write_keeps_previous_file(tmp_path, monkeypatch):
    path = write_dataset(vector_dataset(), tmp_path / "demo.parquet")
    before = path.read_bytes()

    def failing_write_table(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", failing_write_table)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(discrete_dataset(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo.parquet"]


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}/absent.parquet: no such demonstration file"):
        read_dataset(tmp_path / "absent.parquet")


def test_directory_is_refused(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}: is a directory, expected a Parquet file"):
        read_dataset(tmp_path)


def test_not_a_parquet_file(tmp_path):
    path = tmp_path / "demo.parquet"
    path.write_text("[0.1,0.2] [0.2,0.3]\n")
    with pytest.raises(DataError, match=rf"{path}: not a readable Parquet file"):
        read_dataset(path)


def test_plain_parquet_without_lfo_ray_metadata(tmp_path):
    path = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"obs": [1.0, 2.0], "next_obs": [2.0, 3.0]}), path)
    with pytest.raises(DataError) as error:
        read_dataset(path)
    message = str(error.value)
    assert str(path) in message and "lacks lfo-ray key(s) ['lfo_ray.metadata', 'lfo_ray.obs']" in message
    assert "lfo data import FILE OUT.parquet --env ENV" in message
    with pytest.raises(DataError, match="lacks lfo-ray key"):
        read_metadata(path)


def test_wrong_column_type(tmp_path):
    table = dataset_to_table(image_dataset())
    values = table[Col.OBS].combine_chunks().flatten().cast(pa.float32())
    as_float = pa.FixedSizeListArray.from_arrays(values, 6 * 5 * 3)
    table = table.set_column(table.schema.get_field_index(Col.OBS), Col.OBS, as_float)
    path = tmp_path / "wrong.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError) as error:
        read_dataset(path)
    message = str(error.value)
    assert f"{path}: column 'obs'" in message and "expected dtype uint8, found float32" in message


def test_wrong_column_shape(tmp_path):
    table = dataset_to_table(vector_dataset())
    scalars = pa.array(np.zeros(table.num_rows, np.float32))
    table = table.set_column(table.schema.get_field_index(Col.NEXT_OBS), Col.NEXT_OBS, scalars)
    path = tmp_path / "wrong.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError, match=rf"{path}: column 'next_obs': expected fixed-size lists of 4 "
                                        r"values \(shape \(4,\)\), found type float"):
        read_dataset(path)


def test_missing_column(tmp_path):
    table = dataset_to_table(vector_dataset()).drop_columns([Col.TRUNCATED])
    path = tmp_path / "wrong.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError, match=rf"{path}: missing columns \['truncated'\]"):
        read_dataset(path)


def test_corrupt_metadata(tmp_path):
    table = dataset_to_table(vector_dataset())
    meta = dict(table.schema.metadata)
    meta[META_KEY] = b"{not json"
    path = tmp_path / "corrupt.parquet"
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.raises(DataError, match=rf"{path}: corrupt lfo-ray metadata"):
        read_dataset(path)


def test_future_format_version(tmp_path):
    table = dataset_to_table(vector_dataset())
    meta = dict(table.schema.metadata)
    meta[META_KEY] = json.dumps({**json.loads(meta[META_KEY]), "format_version": 2}).encode()
    path = tmp_path / "future.parquet"
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.raises(DataError, match=rf"{path}: format version 2, expected 1"):
        read_dataset(path)


def test_empty_table(tmp_path):
    table = dataset_to_table(vector_dataset()).slice(0, 0)
    path = tmp_path / "empty.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError, match=rf"{path}: contains no transitions"):
        read_dataset(path)


def test_broken_episode_chain(tmp_path):
    table = dataset_to_table(discrete_dataset())
    next_obs = table[Col.NEXT_OBS].to_numpy().copy()
    next_obs[1] = 0
    table = table.set_column(table.schema.get_field_index(Col.NEXT_OBS), Col.NEXT_OBS, pa.array(next_obs))
    path = tmp_path / "broken.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError, match=rf"{path}: episode 0: next_obs of a step differs"):
        read_dataset(path)


def test_interleaved_episodes(tmp_path):
    table = dataset_to_table(discrete_dataset())
    table = table.take(pa.array([0, 1, 4, 2, 3]))
    path = tmp_path / "interleaved.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError, match=rf"{path}: rows of an episode are not contiguous"):
        read_dataset(path)


def test_nan_mid_episode_is_reported_as_nan_with_its_place(tmp_path):
    table = dataset_to_table(vector_dataset())
    for column in (Col.OBS, Col.NEXT_OBS):   # one observation: obs of step 2 is next_obs of step 1
        rows = table[column].to_pylist()
        rows[2 if column == Col.OBS else 1][3] = float("nan")
        field = table.schema.get_field_index(column)
        table = table.set_column(field, column, pa.array(rows, type=table.schema.field(column).type))
    path = tmp_path / "nan.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError, match=rf"{path}: episode 0: column 'obs' contains NaN at step 2, element \(3,\)"):
        read_dataset(path)


def test_stale_temporary_file_is_removed_by_the_next_write(tmp_path):
    stale = tmp_path / ".demo.parquet.abc123.tmp"
    stale.write_bytes(b"left by a killed process")
    write_dataset(vector_dataset(), tmp_path / "demo.parquet")
    assert [p.name for p in tmp_path.iterdir()] == ["demo.parquet"]
