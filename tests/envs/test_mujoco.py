"""gymnasium's MuJoCo v5 tasks through lfo_ray.envs: made headless, batched, collected on Ray."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from lfo_ray.collect import CollectSpec, collect_dataset
from lfo_ray.data import read_dataset, write_dataset
from lfo_ray.envs import MUJOCO, make_vector_env
from lfo_ray.envs.anchors import METADATA_KEY, random_return


@pytest.mark.parametrize("env_id", MUJOCO)
def test_task_makes_resets_and_steps(env_id, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = make_vector_env(env_id, 2)
    try:
        obs_space, action_space = env.single_observation_space, env.single_action_space
        assert isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 1
        assert isinstance(action_space, gym.spaces.Box) and action_space.dtype == np.float32
        assert np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all()
        obs, _ = env.reset(seed=0)
        assert obs.shape == (2, *obs_space.shape) and np.isfinite(obs).all()
        action_space.seed(0)
        for _ in range(5):
            obs, rewards, terminated, truncated, _ = env.step(np.stack([action_space.sample() for _ in range(2)]))
            assert obs.shape == (2, *obs_space.shape) and np.isfinite(obs).all()
            assert rewards.shape == (2,) and np.isfinite(rewards).all()
    finally:
        env.close()
    # MuJoCo's warnings (HalfCheetah's model raises one) go to Python's warnings, not to a file here.
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()
    assert random_return(env_id) is not None  # its normalisation anchor ships in envs/anchors.json


@pytest.mark.ray
def test_random_collection_on_ray_round_trips_box_actions(ray_session, tmp_path):
    spec = CollectSpec("Hopper-v5", episodes=4, seed=1, envs_per_worker=2, policy="random")
    dataset, _ = collect_dataset(spec, workers=2, use_ray=True)
    path = write_dataset(dataset, tmp_path / "hopper.parquet")
    back = read_dataset(path)
    assert len(back) == 4
    for written, read in zip(dataset.episodes, back.episodes):
        assert read.actions.dtype == np.float32 and read.actions.shape == (len(read), 3)
        assert np.array_equal(read.actions, written.actions)
        assert np.array_equal(read.observations, written.observations)
        assert np.abs(read.actions).max() <= 1.0
    assert back.metadata.action_space["type"] == "Box"
    assert back.metadata.extra[METADATA_KEY]["random"] == random_return("Hopper-v5")
