"""Minari datasets, made here with create_dataset_from_buffers under a temporary
MINARI_DATASETS_PATH (nothing is downloaded), import by id and by path and export back."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from lfo_ray.collect import CollectSpec, collect_dataset
from lfo_ray.data import DataError, read_dataset, write_dataset
from lfo_ray.data.formats import detect_format, import_path
from lfo_ray.data.minari_datasets import read_minari, write_minari
from tests.conftest import run_cli

minari = pytest.importorskip("minari")


@pytest.fixture
def minari_root(tmp_path, monkeypatch):
    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


def make_minari(dataset_id: str, episodes: int = 3, steps: int = 12):
    """A Pendulum dataset written with Minari's own writer: random actions, the last episode terminal."""
    from minari.data_collector import EpisodeBuffer

    env = gym.make("Pendulum-v1")
    buffers = []
    for index in range(episodes):
        obs = [env.reset(seed=index)[0]]
        actions, rewards = [], []
        for _ in range(steps):
            action = env.action_space.sample()
            o, r, *_ = env.step(action)
            obs.append(o)
            actions.append(action)
            rewards.append(r)
        last = np.arange(steps) == steps - 1
        terminal = index == episodes - 1
        buffers.append(EpisodeBuffer(id=index, observations=np.array(obs), actions=np.array(actions),
                                     rewards=np.array(rewards), terminations=last & terminal,
                                     truncations=last & (not terminal), infos={}))
    with pytest.warns():  # Minari warns about optional metadata (author, permalink)
        return minari.create_dataset_from_buffers(dataset_id, buffers, env="Pendulum-v1")


def test_minari_imports_by_id_and_by_path_with_actions(minari_root, tmp_path):
    source = make_minari("test/pendulum-v0")
    by_id = import_path("test/pendulum-v0")
    by_path = import_path(minari_root / "test" / "pendulum-v0", env_id="Pendulum-v1")
    for dataset in (by_id, by_path):
        assert len(dataset) == 3 and dataset.num_transitions == 36
        assert dataset.metadata.env_id == "Pendulum-v1" and dataset.metadata.source == "import:minari"
        assert dataset.episodes[0].actions.shape == (12, 1) and dataset.episodes[0].actions.dtype == np.float32
        assert [e.terminated for e in dataset.episodes] == [False, False, True]
    episode = next(iter(source.iterate_episodes()))
    assert np.allclose(by_id.episodes[0].observations, episode.observations)
    assert np.allclose(by_id.episodes[0].rewards, episode.rewards)
    assert detect_format("test/pendulum-v0") == "minari"
    assert detect_format(minari_root / "test" / "pendulum-v0" / "data") == "minari"
    result = run_cli("data", "import", "test/pendulum-v0", str(tmp_path / "p.parquet"))
    assert result.returncode == 0, result.stderr
    assert "with actions" in result.stdout and read_dataset(tmp_path / "p.parquet").has_actions


def test_export_round_trips_and_refuses_what_minari_cannot_hold(minari_root, tmp_path):
    dataset, _ = collect_dataset(CollectSpec("CartPole-v1", episodes=4, policy="random"), use_ray=False)
    write_dataset(dataset, tmp_path / "cartpole.parquet")
    result = run_cli("data", "export", str(tmp_path / "cartpole.parquet"), "lfo/cartpole-random-v0",
                     "--format", "minari")
    assert result.returncode == 0, result.stderr
    back = read_minari("lfo/cartpole-random-v0")
    assert [len(e) for e in back.episodes] == [len(e) for e in dataset.episodes]
    assert all(np.array_equal(a.actions, b.actions) for a, b in zip(back.episodes, dataset.episodes))
    assert all(np.array_equal(a.observations, b.observations) for a, b in zip(back.episodes, dataset.episodes))
    assert not list(minari_root.glob(".lfo-minari-*"))  # the staging directory is gone
    with pytest.raises(DataError, match="a Minari dataset 'lfo/cartpole-random-v0' exists already"):
        write_minari(dataset, "lfo/cartpole-random-v0")
    with pytest.raises(DataError, match="Minari datasets store actions and these demonstrations have none"):
        write_minari(dataset.without_actions(), "lfo/cartpole-obs-v0")
    result = run_cli("data", "import", "lfo/nothing-v0", str(tmp_path / "x.parquet"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "nor the id of a local Minari dataset" in result.stderr and "lfo/cartpole-random-v0" in result.stderr
    result = run_cli("data", "import", "lfo/cartpole-random-v0", str(tmp_path / "x.parquet"), "--env", "Acrobot-v1")
    assert result.returncode == 2 and "recorded for environment 'CartPole-v1', not 'Acrobot-v1'" in result.stderr
    assert not (tmp_path / "x.parquet").exists()
