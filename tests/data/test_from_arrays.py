"""ObsDataset.from_arrays: flat transition arrays with episode boundaries from ids, flags or chaining."""

from __future__ import annotations

import numpy as np
import pytest

from lfo_ray.data import DataError, ObsDataset


def chain(lengths: list[int], dim: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """obs, next_obs of consecutive episodes of the given lengths, each from a fresh random start."""
    rng = np.random.default_rng(seed)
    obs, next_obs = [], []
    for length in lengths:
        states = rng.normal(size=(length + 1, dim)).astype(np.float32)
        obs.append(states[:-1])
        next_obs.append(states[1:])
    return np.concatenate(obs), np.concatenate(next_obs)


def test_episodes_are_inferred_by_chaining_when_no_boundaries_are_given():
    obs, next_obs = chain([4, 2, 5])
    dataset = ObsDataset.from_arrays(obs, next_obs, env_id="X-v0")
    assert [len(e) for e in dataset.episodes] == [4, 2, 5]
    assert all(e.truncated and not e.terminated for e in dataset.episodes)
    assert dataset.metadata.env_id == "X-v0" and dataset.metadata.observation_space["shape"] == [3]
    assert np.array_equal(dataset.transitions().obs, obs)


def test_dones_mark_terminal_ends_and_truncated_marks_cut_ones():
    obs, next_obs = chain([3, 3])
    dones = np.array([0, 0, 1, 0, 0, 0], bool)
    truncated = np.array([0, 0, 0, 0, 0, 1], bool)
    dataset = ObsDataset.from_arrays(obs, next_obs, dones=dones, truncated=truncated,
                                     actions=np.arange(6), rewards=np.ones(6))
    assert [(e.terminated, e.truncated) for e in dataset.episodes] == [(True, False), (False, True)]
    assert np.array_equal(dataset.episodes[1].actions, [3, 4, 5])
    assert dataset.metadata.return_mean == 3.0


def test_episode_ids_split_episodes_even_when_states_chain():
    states = np.arange(7, dtype=np.float32)[:, None]
    dataset = ObsDataset.from_arrays(states[:-1], states[1:], episode_ids=np.array([5, 5, 5, 9, 9, 9]))
    assert [len(e) for e in dataset.episodes] == [3, 3]


@pytest.mark.parametrize("kwargs, message", [
    (dict(next_obs=np.zeros((5, 3), np.float32)), r"next_obs must match obs \(6, 3\) float32, got \(5, 3\) float32"),
    (dict(next_obs=np.zeros((6, 3), np.float64)), r"next_obs must match obs \(6, 3\) float32, got \(6, 3\) float64"),
    (dict(dones=np.zeros(4, bool)), r"dones must be booleans of shape \(6,\), got \(4,\) bool"),
    (dict(truncated=np.full(6, 2)), r"truncated must be booleans of shape \(6,\), got \(6,\) int"),
    (dict(actions=np.zeros(5)), r"actions must have shape \(N=6, \*action_shape\), got \(5,\)"),
    (dict(rewards=np.zeros((6, 1))), r"rewards must be numbers of shape \(6,\), got \(6, 1\)"),
    (dict(episode_ids=np.zeros(6)), r"episode_ids must be integers of shape \(6,\), got \(6,\) float64"),
    (dict(episode_ids=np.array([0, 0, 1, 1, 0, 0])), "rows of an episode must be contiguous"),
    (dict(episode_ids=np.zeros(6, int)), r"row 2: next_obs differs from obs of row 3 inside episode 0"),
    (dict(dones=np.array([1, 0, 0, 0, 0, 0], bool), episode_ids=np.array([0, 0, 0, 1, 1, 1])),
     r"dones is set at row 0, before the last row of episode 0 \(row 2\)"),
])
def test_errors_name_the_array_and_what_was_expected(kwargs, message):
    obs, next_obs = chain([3, 3])
    arguments = {"obs": obs, "next_obs": next_obs, **kwargs}
    with pytest.raises(DataError, match=message):
        ObsDataset.from_arrays(**arguments)


def test_non_numeric_and_non_finite_observations_are_refused():
    with pytest.raises(DataError, match="obs must be numeric, got dtype <U1"):
        ObsDataset.from_arrays(np.array([["a"]]), np.array([["b"]]))
    obs, next_obs = chain([3])
    next_obs[1, 0] = obs[2, 0] = np.nan
    with pytest.raises(DataError, match=r"obs contains NaN at step 2, element \(0,\)"):
        ObsDataset.from_arrays(obs, next_obs, episode_ids=np.zeros(3, int))
