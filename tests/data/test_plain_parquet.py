"""Plain Parquet files (the documented columns, no lfo-ray metadata) import with the env's spaces."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lfo_ray.collect import CollectSpec, collect_dataset
from lfo_ray.data import DataError, read_dataset
from lfo_ray.data.formats import import_path
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def cartpole():
    return collect_dataset(CollectSpec("CartPole-v1", episodes=5, seed=1, policy="random"), use_ray=False)[0]


def plain_table(dataset, *, ids: bool, flags: bool = True) -> pa.Table:
    """The dataset as a pandas-style table: float64 list columns, int actions, no metadata."""
    t = dataset.transitions()
    columns = {"obs": t.obs.astype(np.float64).tolist(), "next_obs": t.next_obs.astype(np.float64).tolist(),
               "action": t.actions.tolist(), "reward": np.ones(len(t)).tolist()}
    if ids:
        columns["episode_id"] = t.episode_ids.tolist()
        columns["step"] = np.concatenate([np.arange(len(e)) for e in dataset.episodes]).tolist()
    if flags:
        columns["terminated"] = t.dones.tolist()
        columns["truncated"] = np.zeros(len(t), bool).tolist()
    return pa.table(columns)


@pytest.mark.parametrize("ids", [True, False])
def test_plain_parquet_imports_with_the_envs_spaces(tmp_path, cartpole, ids):
    path = tmp_path / "plain.parquet"
    table = plain_table(cartpole, ids=ids)
    if ids:  # rows in any order: (episode_id, step) puts them back
        table = table.take(pa.array(np.random.default_rng(0).permutation(table.num_rows)))
    pq.write_table(table, path)
    dataset = import_path(path, env_id="CartPole-v1")
    assert [len(e) for e in dataset.episodes] == [len(e) for e in cartpole.episodes]
    assert [e.terminated for e in dataset.episodes] == [e.terminated for e in cartpole.episodes]
    first = dataset.episodes[0]
    assert first.observations.dtype == np.float32 and first.actions.dtype == np.int64
    assert np.array_equal(first.observations, cartpole.episodes[0].observations)
    assert dataset.metadata.action_space == cartpole.metadata.action_space
    assert dataset.metadata.source == "import:plain-parquet"


def test_cli_imports_plain_parquet_and_images_get_the_envs_shape(tmp_path):
    from lfo_ray.demos import resolve_demos

    pixels = read_dataset(resolve_demos("PixelGridWorld-v0")).select(range(3))
    t = pixels.transitions()
    flat = {"obs": t.obs.reshape(len(t), -1).astype(np.int64).tolist(),
            "next_obs": t.next_obs.reshape(len(t), -1).astype(np.int64).tolist()}
    pq.write_table(pa.table(flat), tmp_path / "pixels.parquet")
    result = run_cli("data", "import", str(tmp_path / "pixels.parquet"), str(tmp_path / "out.parquet"),
                     "--env", "lfo_ray/PixelGridWorld-v0")
    assert result.returncode == 0, result.stderr
    back = read_dataset(tmp_path / "out.parquet")
    assert back.obs_shape == (40, 40, 3) and back.episodes[0].observations.dtype == np.uint8
    assert [len(e) for e in back.episodes] == [len(e) for e in pixels.episodes]
    assert "without actions" in result.stdout


def test_errors_name_the_file_the_column_and_what_was_expected(tmp_path, cartpole):
    path = tmp_path / "plain.parquet"
    pq.write_table(plain_table(cartpole, ids=False).rename_columns(
        ["observation", "next_obs", "action", "reward", "terminated", "truncated"]), path)
    with pytest.raises(DataError, match=rf"{path}: missing column\(s\) \['obs'\]; expected at least 'obs'"):
        import_path(path, env_id="CartPole-v1")
    pq.write_table(plain_table(cartpole, ids=False), path)
    with pytest.raises(DataError, match=rf"{path}: column 'obs' holds 4 value\(s\) per row; Acrobot-v1 expects 6"):
        import_path(path, env_id="Acrobot-v1")
    pq.write_table(pa.table({"obs": [[0.0, 1.0], [1.0]], "next_obs": [[1.0, 2.0], [2.0, 3.0]]}), path)
    with pytest.raises(DataError, match=r"column 'obs': row 1 holds 1 values, row 0 holds 2"):
        import_path(path)
    pq.write_table(pa.table({"obs": ["a"], "next_obs": ["b"]}), path)
    with pytest.raises(DataError, match=r"column 'obs': values of dtype object; expected numbers"):
        import_path(path)
    pq.write_table(pa.table({"obs": [0, 1], "next_obs": [1, 2], "action": [0.5, 1]}), path)
    with pytest.raises(DataError, match=r"column 'action' has values that are not exact int64"):
        import_path(path, env_id="lfo_ray/GridWorld-v0")
    result = run_cli("train", "bc", "--env", "CartPole-v1", "--demos", str(path), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "lacks lfo-ray key(s) ['lfo_ray.metadata', 'lfo_ray.obs']" in result.stderr
    assert not (tmp_path / "out.parquet").exists()
