import numpy as np
import pytest

from lfo_ray.batch import SampleBatch
from lfo_ray.replay import ReplayBuffer


def _batch(start: int, n: int) -> SampleBatch:
    ids = np.arange(start, start + n)
    return SampleBatch(
        obs=ids[:, None].astype(np.float32).repeat(2, axis=1),
        actions=ids % 3,
        rewards=ids.astype(np.float32),
        next_obs=(ids[:, None] + 1).astype(np.float32).repeat(2, axis=1),
        terminated=ids % 7 == 0,
        truncated=np.zeros(n, bool),
    )


def test_fifo_keeps_the_newest_transitions():
    replay = ReplayBuffer(capacity=10)
    replay.add(_batch(0, 6))
    replay.add(_batch(6, 7))
    assert len(replay) == 10 and replay.added == 13
    assert replay.all().rewards.tolist() == list(range(3, 13))
    replay.add(_batch(100, 25))  # larger than capacity: the last 10 win
    assert replay.all().rewards.tolist() == list(range(115, 125))


def test_sampling_is_uniform_and_rows_stay_aligned():
    replay = ReplayBuffer(capacity=50, seed=0)
    replay.add(_batch(0, 50))
    sample = replay.sample(50_000)
    counts = np.bincount(sample.rewards.astype(int), minlength=50)
    assert counts.min() > 850 and counts.max() < 1150
    assert np.array_equal(sample.obs[:, 0], sample.rewards)
    assert np.array_equal(sample.actions, sample.rewards.astype(int) % 3)


def test_state_dict_round_trip_continues_identically():
    replay = ReplayBuffer(capacity=8, seed=1)
    replay.add(_batch(0, 11))
    restored = ReplayBuffer(capacity=1)
    restored.load_state_dict(replay.state_dict())
    assert restored.added == 11 and np.array_equal(restored.all().rewards, replay.all().rewards)
    assert np.array_equal(restored.sample(5).rewards, replay.sample(5).rewards)


def test_errors():
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(4).sample(1)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0)
    with pytest.raises(ValueError, match="rows"):
        SampleBatch(np.zeros((3, 2)), np.zeros(2), np.zeros(3), np.zeros((3, 2)), np.zeros(3, bool), np.zeros(3, bool))


def test_replay_buffer_is_the_core_replay_interface():
    from lfo_ray.core import Replay

    assert isinstance(ReplayBuffer(4), Replay)
