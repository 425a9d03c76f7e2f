"""Rollout workers, placement and checkpoints, in-process and on a real local Ray."""

import numpy as np
import pytest
import torch

from lfo_ray.checkpoint import load_checkpoint, save_checkpoint
from lfo_ray.demos import DemoSampler
from lfo_ray.placement import Placement, resolve
from lfo_ray.replay import ReplayBuffer
from lfo_ray.rollout import evaluate_policy
from lfo_ray.runner import Evaluator, RolloutGroup
from tests.conftest import DEMOS

GRID = "lfo_ray/GridWorld-v0"


class WeightedRandom:
    """Acting policy whose behaviour depends on published weights (action = weights['action'])."""

    def __init__(self, obs_space, action_space) -> None:
        self.action = 0

    def act(self, obs):
        return np.full(len(obs), self.action, dtype=np.int64)

    def set_weights(self, weights) -> None:
        self.action = int(weights["action"])


def _group(placement: Placement, workers: int = 2) -> RolloutGroup:
    # GridWorld resets in the same step, so every vector step is 4 valid transitions.
    return RolloutGroup(placement, GRID, {}, workers, envs_per_worker=4, seed=0, policy_factory=WeightedRandom)


def test_in_process_rollouts_reach_the_replay_with_published_weights():
    placement = Placement("local")
    replay = placement.place(ReplayBuffer, 1000)
    group = _group(placement)
    group.publish({"action": 3})
    stats = group.sample_into(replay, 64)
    assert stats.env_steps == 64 and group.env_steps == 64
    assert np.all(resolve(replay.call("all")).actions == 3)
    batch, stats = group.sample(16)
    assert len(batch) == 16 and np.all(batch.actions == 3)


@pytest.mark.ray
def test_rollout_actors_on_ray_push_batches_into_the_replay_actor(ray_session):
    placement = Placement("ray")
    replay = placement.place(ReplayBuffer, 10_000, num_cpus=0.1)
    group = _group(placement)
    group.publish({"action": 1})
    for _ in range(3):
        group.sample_into(replay, 64)
    assert resolve(replay.call("__len__")) == 192
    assert np.all(resolve(replay.call("sample", 50)).actions == 1)
    group.close()


@pytest.mark.ray
def test_a_killed_rollout_actor_is_restarted_and_the_run_completes(ray_session):
    placement = Placement("ray")
    replay = placement.place(ReplayBuffer, 10_000, num_cpus=0.1)
    group = _group(placement)
    group.publish({"action": 2})
    iterations, per_iteration = 6, 64
    for i in range(iterations):
        futures = [w.call("sample_into", replay, per_iteration // 2, group.weights) for w in group.workers]
        if i == 2:
            ray_session.kill(group.workers[0].actor, no_restart=False)  # dies mid-call
        group._merge(resolve(futures))
    assert group.env_steps == iterations * per_iteration
    # The restarted worker picked up the published weights again.
    assert np.all(resolve(replay.call("all")).actions == 2)
    group.close()


def test_evaluator_runs_the_published_policy_on_its_own_envs():
    from lfo_ray.envs import make_vector_env

    placement = Placement("local")
    group = _group(placement, workers=1)
    evaluator = Evaluator(placement, GRID, {}, 4, seed=7, policy_factory=WeightedRandom)
    returns = {}
    for action in (0, 3):
        group.publish({"action": action})
        returns[action] = evaluator.evaluate(group.weights, episodes=6, seed=7)
        reference = WeightedRandom(None, None)
        reference.set_weights({"action": action})
        assert returns[action] == evaluate_policy(reference, make_vector_env(GRID, 4), 6, seed=7).mean()
    # Both constant actions end differently on this world, so the published weights did arrive.
    assert returns[0] != returns[3]
    # Evaluation used none of the sampling workers' steps.
    assert group.env_steps == 0


def test_checkpoint_round_trip_restores_state_and_rng(tmp_path):
    torch.manual_seed(0)
    np.random.seed(0)
    save_checkpoint(tmp_path, {"step": 7, "weights": torch.arange(3)})
    expected = (np.random.rand(), torch.rand(1).item())
    np.random.seed(123)
    state = load_checkpoint(tmp_path)
    assert state["step"] == 7 and torch.equal(state["weights"], torch.arange(3))
    assert (np.random.rand(), torch.rand(1).item()) == expected
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing")


def test_demo_sampler_streams_files_larger_than_its_buffer():
    path = DEMOS / "GridWorld-v0.parquet"
    in_memory = DemoSampler(path, seed=0)
    streaming = DemoSampler(path, seed=0, max_rows=4096)
    assert not in_memory.streaming and streaming.streaming
    assert len(streaming.buffer) < in_memory.num_rows
    seen = set()
    for _ in range(40):
        batch = streaming.sample(256)
        assert batch.obs.shape == (256,) and batch.actions is None
        seen.update(batch.episode_ids.tolist())
    assert len(seen) > 200  # rows from across the file, not only the first row group
    assert DemoSampler(path, with_actions=True).sample(8).actions.shape == (8,)


@pytest.mark.parametrize("max_rows", [1_000_000, 4096], ids=["in-memory", "streaming"])
def test_demo_sampler_continues_exactly_from_its_state(tmp_path, max_rows):
    path = DEMOS / "GridWorld-v0.parquet"
    original = DemoSampler(path, seed=0, max_rows=max_rows)
    for _ in range(5):
        original.sample(64)
    save_checkpoint(tmp_path, {"demos": original.state_dict()})
    restored = DemoSampler(path, seed=99, max_rows=max_rows)
    restored.load_state_dict(load_checkpoint(tmp_path)["demos"])
    for _ in range(20):
        a, b = original.sample(64), restored.sample(64)
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.episode_ids, b.episode_ids)


class SampledRandom:
    """An acting policy with a generator of its own, like BCO's sampled clone."""

    def __init__(self, obs_space, action_space) -> None:
        self.rng = np.random.default_rng(int(action_space.np_random.integers(2**31)))
        self.num_actions = int(action_space.n)

    def act(self, obs):
        return self.rng.integers(self.num_actions, size=len(obs))

    def set_weights(self, weights) -> None:
        pass


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1"])   # both autoreset modes
def test_rollout_worker_resumes_its_episodes_step_for_step(tmp_path, env_id):
    from lfo_ray.rollout import RolloutWorker

    original = RolloutWorker(env_id, {}, 3, 7, SampledRandom)
    original.sample(150)
    save_checkpoint(tmp_path, {"worker": original.state_dict()})
    restored = RolloutWorker(env_id, {}, 3, 7, SampledRandom)
    restored.load_state_dict(load_checkpoint(tmp_path)["worker"])
    (a, stats_a), (b, stats_b) = original.sample(1500), restored.sample(1500)
    for name in ("obs", "actions", "rewards", "next_obs", "terminated", "truncated"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert stats_a == stats_b and stats_a.episode_returns    # episodes ended, with equal returns


def test_demo_sampler_refuses_actions_it_does_not_have(tmp_path):
    from lfo_ray.data import read_dataset, write_dataset

    obs_only = write_dataset(read_dataset(DEMOS / "GridWorld-v0.parquet").without_actions(),
                             tmp_path / "obs_only.parquet")
    with pytest.raises(ValueError, match="needs actions"):
        DemoSampler(obs_only, with_actions=True)


def test_placement_rejects_unknown_modes():
    with pytest.raises(ValueError, match="placement"):
        Placement("cluster")


def test_a_loopback_address_is_used_as_given(monkeypatch):
    """Ray would rewrite 127.0.0.1 to this machine's network address, where a head bound to
    loopback does not answer; ensure_ray keeps it (a listening socket stands in for the head)."""
    import socket

    import ray
    from ray._private import services

    from lfo_ray.runtime import ensure_ray

    calls = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kwargs: calls.append(kwargs))
    with socket.socket() as head:
        head.bind(("127.0.0.1", 0))
        head.listen()
        address = f"127.0.0.1:{head.getsockname()[1]}"
        ensure_ray(address)
    assert calls == [{"address": address, "log_to_driver": True}]
    assert services.canonicalize_bootstrap_address(address) == address


def test_an_address_where_nothing_answers_fails_at_once():
    import time

    from lfo_ray.runtime import ensure_ray

    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"--address 127.0.0.1:1: no Ray cluster answers there"):
        ensure_ray("127.0.0.1:1")
    assert time.perf_counter() - start < 15
