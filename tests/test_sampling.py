"""Asynchronous sampling (lfo_ray.sampling) and the sharded replay, in-process and on a local Ray."""

import numpy as np
import pytest

from lfo_ray.placement import Placement, resolve
from lfo_ray.replay import ReplayBuffer, ShardedReplay, make_replay
from lfo_ray.runner import RolloutGroup
from lfo_ray.sampling import AsyncSampler
from tests.test_replay import _batch

GRID = "lfo_ray/GridWorld-v0"


class VersionPolicy:
    """Acts with the version of the weights it holds (action = version mod 4; 0 before any)."""

    def __init__(self, obs_space, action_space) -> None:
        self.action = 0

    def act(self, obs):
        return np.full(len(obs), self.action, dtype=np.int64)

    def set_weights(self, weights) -> None:
        self.action = int(weights["version"]) % 4


def _group(placement: Placement, workers: int = 2, envs: int = 3) -> RolloutGroup:
    return RolloutGroup(placement, GRID, {}, workers, envs_per_worker=envs, seed=0, policy_factory=VersionPolicy)


def test_in_process_sampler_spends_the_budget_exactly_in_chunks():
    placement = Placement("local")
    replay = placement.place(ReplayBuffer, 10_000)
    group = _group(placement)
    # 3 envs per worker and chunks of 10: every vector step overshoots, the surplus opens the next chunk.
    sampler = AsyncSampler(group, replay, budget=1003, max_lag=0, chunk_steps=10)
    sampler.start({"version": 1})
    assert sampler.wait_for(95).env_steps == 100  # whole chunks
    sampler.publish({"version": 2})
    stats = sampler.wait_for(10_000)
    assert stats.env_steps == 1003 and sampler.done and stats.max_lag == 0
    assert sampler.stop().env_steps == 1003
    assert resolve(replay.call("__len__")) == 1003 and group.env_steps == 1003
    actions = resolve(replay.call("all")).actions
    assert set(actions[:100].tolist()) == {1} and actions[-1] == 2


def test_allow_keeps_the_workers_from_running_ahead():
    placement = Placement("local")
    replay = placement.place(ReplayBuffer, 1000)
    sampler = AsyncSampler(_group(placement), replay, budget=500, chunk_steps=64)
    sampler.start()
    sampler.allow(100)
    assert sampler.wait_for(100).env_steps == 100
    with pytest.raises(ValueError, match="budget"):
        AsyncSampler(_group(placement), replay, budget=0)


def test_sharded_replay_samples_across_its_shards():
    replay = ShardedReplay(Placement("local"), 2, capacity=100, seed=0)
    resolve(replay.shard(0).call("add", _batch(0, 50)))
    resolve(replay.shard(1).call("add", _batch(1000, 50)))
    first = resolve(replay.call("sample", 10))  # equal shares before any size is known
    rows = resolve(replay.call("sample", 4000)).rewards
    assert len(first) == 10 and len(rows) == 4000
    assert 0.45 < np.mean(rows >= 1000) < 0.55
    assert resolve(replay.call("__len__")) == 100 and len(resolve(replay.call("all"))) == 100
    state = resolve(replay.call("state_dict"))
    restored = ShardedReplay(Placement("local"), 2, capacity=100, seed=1)
    resolve(restored.call("load_state_dict", state))
    assert sorted(resolve(restored.call("all")).rewards) == sorted(resolve(replay.call("all")).rewards)


def test_sharded_replay_redraws_rows_given_to_an_empty_shard():
    replay = ShardedReplay(Placement("local"), 3, capacity=100, seed=0)
    resolve(replay.shard(2).call("add", _batch(0, 5)))
    assert len(resolve(replay.call("sample", 30))) == 30
    with pytest.raises(ValueError, match="empty"):
        resolve(ShardedReplay(Placement("local"), 2, capacity=10).call("sample", 4))


def test_a_keyed_add_is_applied_once():
    replay = ReplayBuffer(100)
    replay.add(_batch(0, 5), key=(0, 1))
    replay.add(_batch(0, 5), key=(0, 1))  # a retried rollout call delivering its chunk again
    assert len(replay) == 5 and replay.added == 5


@pytest.mark.ray
@pytest.mark.parametrize("max_lag", [0, 2])
def test_async_sampling_on_ray_bounds_the_policy_lag_and_spends_the_budget(ray_session, max_lag):
    placement = Placement("ray")
    replay = make_replay(placement, 20_000, seed=0, shards=2)
    group = _group(placement)
    sampler = AsyncSampler(group, replay, budget=6001, max_lag=max_lag, chunk_steps=150)
    sampler.start({"version": 0})
    lags, version = [], 0
    while not sampler.done:
        # A learner that publishes as fast as it can: the lag bound has to hold the workers back.
        version = sampler.publish({"version": version + 1})
        lags += sampler.poll().lags
    stats = sampler.stop()
    lags += stats.lags
    assert stats.env_steps == 6001 and group.env_steps == 6001
    assert resolve(replay.call("__len__")) == 6001
    assert max(lags) <= max_lag and stats.max_lag == max(lags) and len(lags) == 41
    assert stats.version == version
    group.close()
