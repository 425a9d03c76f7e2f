import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from lfo_ray.envs import make_vector_env
from lfo_ray.rollout import VectorDriver, evaluate_policy


class Constant:
    def __init__(self, action: int) -> None:
        self.action = action

    def act(self, obs):
        return np.full(len(obs), self.action, dtype=np.int64)


@pytest.mark.parametrize("env_id, mode", [
    ("CartPole-v1", AutoresetMode.NEXT_STEP),   # gymnasium's native batched CartPole
    ("Acrobot-v1", AutoresetMode.SAME_STEP),    # SyncVectorEnv
    ("lfo_ray/GridWorld-v0", AutoresetMode.SAME_STEP),
])
def test_driver_yields_true_transitions_under_both_autoreset_modes(env_id, mode):
    env = make_vector_env(env_id, 4)
    driver = VectorDriver(env, seed=0)
    assert driver.mode == mode
    previous = None
    steps_in_finished, finished_returns, running = 0, [], np.zeros(4)
    for _ in range(520):  # past Acrobot's 500-step limit
        batch, ended, returns = driver.step(np.asarray([env.single_action_space.sample() for _ in range(4)]))
        if previous is not None:
            # A valid row continues from the previous row's next_obs unless that row ended.
            continuing = batch.valid & previous.valid & ~(previous.terminated | previous.truncated)
            assert np.array_equal(batch.obs[continuing], previous.next_obs[continuing])
        running += np.where(batch.valid, batch.rewards, 0.0)
        for i, episode_return in zip(ended, returns):
            assert episode_return == pytest.approx(running[i])
            running[i] = 0.0
            finished_returns.append(episode_return)
        previous = batch
    assert finished_returns


def test_cartpole_returns_equal_valid_steps():
    # CartPole pays 1 per real step: autoreset steps must count neither in returns nor as valid.
    env = make_vector_env("CartPole-v1", 3)
    driver = VectorDriver(env, seed=1)
    valid_steps, total = 0, 0.0
    for _ in range(200):
        batch, ended, returns = driver.step(np.ones(3, dtype=np.int64))
        valid_steps += int(batch.valid.sum())
        total += float(returns.sum())
    open_steps = driver._returns.sum()      # the running returns of the unfinished episodes
    assert total == valid_steps - open_steps


def test_evaluate_policy_returns_exactly_the_requested_episodes():
    returns = evaluate_policy(Constant(1), make_vector_env("CartPole-v1", 4), 10, seed=0)
    assert returns.shape == (10,) and np.all((returns >= 8) & (returns <= 12))
    with pytest.raises(ValueError, match="episodes"):
        evaluate_policy(Constant(1), make_vector_env("CartPole-v1", 2), 0, seed=0)


def test_worker_refuses_a_policy_without_the_acting_interface():
    import pytest

    from lfo_ray.rollout import RolloutWorker

    class NoWeights:
        def act(self, obs):
            return obs

    with pytest.raises(TypeError, match="lacks act/set_weights"):
        RolloutWorker("CartPole-v1", {}, 2, 0, lambda obs_space, action_space: NoWeights())


def test_box_actions_are_clipped_into_the_env_and_kept_raw_in_the_transition():
    driver = VectorDriver(make_vector_env("Pendulum-v1", 2), seed=0)
    twin = VectorDriver(make_vector_env("Pendulum-v1", 2), seed=0)
    batch, _, _ = driver.step(np.array([[50.0], [-50.0]], np.float32))
    clipped, _, _ = twin.step(np.array([[2.0], [-2.0]], np.float32))
    np.testing.assert_array_equal(batch.actions, [[50.0], [-50.0]])
    np.testing.assert_array_equal(batch.next_obs, clipped.next_obs)
    np.testing.assert_array_equal(batch.rewards, clipped.rewards)


def test_action_log_stacks_blocks_and_returns_every_batch_in_order():
    from lfo_ray.rollout import ActionLog

    batches = [np.full(3, k, dtype=np.int64) for k in range(2500)]
    log = ActionLog(block=1024)
    assert log.array() is None
    for batch in batches:
        log.append(batch)
    assert len(log) == 2500 and len(log._blocks) == 2 and len(log._recent) == 452
    assert np.array_equal(log.array(), np.stack(batches))
    resumed = ActionLog(log.array(), block=1024)
    resumed.append(np.full(3, 2500, dtype=np.int64))
    assert np.array_equal(resumed.array()[:, 0], np.arange(2501))
