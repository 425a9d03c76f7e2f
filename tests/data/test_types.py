"""The in-memory demonstration types: validation, derived views, space and metadata encoding."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

from lfo_ray.data.types import (
    DataError,
    DatasetMetadata,
    ObsDataset,
    ObsEpisode,
    space_from_dict,
    space_to_dict,
)

META = DatasetMetadata(env_id="CartPole-v1")


def episode(length: int = 3, *, actions: bool = True, rewards: bool = True, **flags) -> ObsEpisode:
    return ObsEpisode(
        observations=np.arange((length + 1) * 2, dtype=np.float32).reshape(length + 1, 2),
        actions=np.arange(length) % 2 if actions else None,
        rewards=np.ones(length) if rewards else None,
        **flags,
    )


def test_episode_is_read_only_and_sized():
    ep = episode(3, terminated=True)
    assert len(ep) == 3 and ep.obs_shape == (2,) and ep.episode_return == 3.0
    assert ep.rewards.dtype == np.float32
    with pytest.raises(ValueError):
        ep.observations[0, 0] = 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"observations": np.zeros((1, 2))}, "T >= 1, got (1, 2)"),
        ({"observations": np.zeros(())}, "got ()"),
        ({"observations": np.zeros((3, 2)), "actions": np.zeros(3)}, "actions must have shape (T=2"),
        ({"observations": np.zeros((3, 2)), "rewards": np.zeros(3)}, "rewards must have shape (2,)"),
        ({"observations": np.array([[0.0], [np.nan]])}, "observations contains NaN at step 1, element (0,)"),
        ({"observations": np.zeros((3, 1)), "actions": np.array([0.0, np.inf])}, "actions contains inf at step 1"),
        ({"observations": np.zeros((3, 1)), "rewards": np.array([0.0, -np.inf])}, "rewards contains inf at step 1"),
        ({"observations": np.zeros((3, 1)), "terminated": True, "truncated": True}, "both terminated and truncated"),
    ],
)
def test_episode_rejects_bad_arrays(kwargs, message):
    with pytest.raises(DataError) as error:
        ObsEpisode(**kwargs)
    assert message in str(error.value)


def test_dataset_requires_consistent_episodes():
    with pytest.raises(DataError, match="at least one episode"):
        ObsDataset((), META)
    other_shape = ObsEpisode(np.zeros((3, 5), np.float32))
    with pytest.raises(DataError, match=r"episode 1 has observation shape \(5,\), expected \(2,\)"):
        ObsDataset((episode(), other_shape), META)
    with pytest.raises(DataError, match="episode 1: either every episode has actions or none"):
        ObsDataset((episode(), episode(actions=False)), META)
    with pytest.raises(DataError, match="episode 1: either every episode has rewards or none"):
        ObsDataset((episode(), episode(rewards=False)), META)


def test_from_episodes_fills_return_statistics():
    dataset = ObsDataset.from_episodes([episode(2), episode(4)], META)
    assert dataset.metadata.return_mean == pytest.approx(3.0)
    assert dataset.metadata.return_std == pytest.approx(1.0)
    assert list(dataset.returns()) == [2.0, 4.0]
    no_rewards = ObsDataset.from_episodes([episode(2, rewards=False)], META)
    assert no_rewards.metadata.return_mean is None and no_rewards.returns() is None


def test_transitions_flatten_episodes_and_mark_terminal_steps():
    dataset = ObsDataset((episode(2, terminated=True), episode(3, truncated=True)), META)
    batch = dataset.transitions()
    assert len(batch) == dataset.num_transitions == 5
    np.testing.assert_array_equal(batch.dones, [False, True, False, False, False])
    np.testing.assert_array_equal(batch.episode_ids, [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(batch.next_obs[0], batch.obs[1])
    np.testing.assert_array_equal(batch.actions, [0, 1, 0, 1, 0])


def test_without_actions_and_select():
    dataset = ObsDataset((episode(2), episode(3)), META)
    bare = dataset.without_actions()
    assert not bare.has_actions and bare.has_rewards and dataset.has_actions
    assert bare.transitions().actions is None
    assert [len(e) for e in dataset.select([1]).episodes] == [3]


@pytest.mark.parametrize(
    "space",
    [
        gym.spaces.Discrete(2500),
        gym.spaces.Discrete(3, start=-1),
        gym.spaces.Box(-np.inf, np.inf, (4,), np.float32),
        gym.spaces.Box(0, 255, (8, 8, 3), np.uint8),
        gym.spaces.Box(np.array([-1.0, -np.inf]), np.array([2.0, np.inf]), dtype=np.float64),
    ],
)
def test_space_dict_round_trip(space):
    assert space_from_dict(space_to_dict(space)) == space


def test_unsupported_spaces_are_refused():
    with pytest.raises(DataError, match="expected Box or Discrete"):
        space_to_dict(gym.spaces.MultiBinary(3))
    with pytest.raises(DataError, match="expected type Box or Discrete"):
        space_from_dict({"type": "Tuple"})


def test_metadata_json_round_trip_and_unknown_fields():
    meta = dataclasses.replace(
        META, observation_space=space_to_dict(gym.spaces.Box(-np.inf, np.inf, (4,))),
        extra={"checkpoint": "x"}, seed=3,
    )
    assert DatasetMetadata.from_json(meta.to_json()) == meta
    with pytest.raises(DataError, match=r"unknown metadata fields \['bogus'\]"):
        DatasetMetadata.from_json('{"env_id": "", "bogus": 1}')
