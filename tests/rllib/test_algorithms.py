"""The RLlib algorithms build, train and run under Tune by name; GAIfO learns CartPole (slow); GAIfO with
SAC as the generator trains on the learned reward of what it replays."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("ray.rllib")

from lfo_ray.rllib import GAIfOConfig, GAIfOSACConfig  # noqa: E402
from lfo_ray.rllib.module import REWARD_MODULE_ID  # noqa: E402

pytestmark = pytest.mark.ray


def _small(config):
    """Fractional CPUs: the session's Ray has 2, shared with other tests."""
    return (config.environment("CartPole-v1").debugging(seed=0)
            .env_runners(num_cpus_per_env_runner=0.5).resources(num_cpus_for_main_process=0.5))


def test_config_build_train_and_restore(ray_session, tmp_path):
    import torch
    from ray.rllib.algorithms.algorithm import Algorithm

    algo = _small(GAIfOConfig()).build()
    try:
        first, second = algo.train(), algo.train()
        weights = {k: v.clone() for k, v in algo.learner_group._learner.module[REWARD_MODULE_ID].state_dict().items()}
        algo.save(str(tmp_path))
    finally:
        algo.stop()
    assert second["env_runners"]["num_env_steps_sampled_lifetime"] >= 2 * 512
    reward = second["learners"][REWARD_MODULE_ID]
    assert math.isfinite(reward["reward_loss"]) and 0 < reward["agent_prob"] < 1
    assert reward["imitation_reward"] > 0          # -log(1 - D) of the learned reward, not CartPole's 1
    restored = Algorithm.from_checkpoint(str(tmp_path))
    try:
        state = restored.learner_group._learner.module[REWARD_MODULE_ID].state_dict()
        assert type(restored).__name__ == "GAIfO" and set(state) == set(weights)
        assert all(torch.equal(state[k], weights[k]) for k in weights)
    finally:
        restored.stop()


def test_sac_generator_trains_on_the_learned_reward_of_replayed_transitions(ray_session, tmp_path):
    """Two iterations of GAIfO with RLlib SAC on InvertedPendulum (the env pays 1.0 every step): each
    batch the critic reads carries the current discriminator's reward of its transitions; the
    checkpoint restores the reward model and the SAC settings."""
    import torch
    from ray.rllib.algorithms.algorithm import Algorithm
    from ray.rllib.core import DEFAULT_MODULE_ID, Columns

    config = (GAIfOSACConfig().environment("InvertedPendulum-v5").debugging(seed=0)
              .training(num_steps_sampled_before_learning_starts=32, train_batch_size_per_learner=32,
                        training_intensity=8)             # 2 updates per 8 env steps: few, as they are slow
              .reporting(min_sample_timesteps_per_iteration=40, min_time_s_per_iteration=0)
              .imitation(reward_every=16))
    algo = config.build_algo()
    try:
        learner = algo.learner_group._learner
        reward_module = learner.module[REWARD_MODULE_ID].unwrapped()
        seen = []
        compute = learner.compute_loss_for_module

        def spy(*, module_id, config, batch, fwd_out):
            if module_id == DEFAULT_MODULE_ID:
                expected = reward_module.reward(batch[Columns.OBS], batch[Columns.ACTIONS], batch[Columns.NEXT_OBS])
                seen.append((batch[Columns.REWARDS].detach().clone(), expected))
            return compute(module_id=module_id, config=config, batch=batch, fwd_out=fwd_out)

        learner.compute_loss_for_module = spy
        first, second = algo.train(), algo.train()
        weights = {k: v.clone() for k, v in reward_module.state_dict().items()}
        algo.save(str(tmp_path))
    finally:
        algo.stop()
    restored = Algorithm.from_checkpoint(str(tmp_path))
    try:
        state = restored.learner_group._learner.module[REWARD_MODULE_ID].state_dict()
        assert type(restored).__name__ == "GAIfOSAC" and restored.config.reward_every == 16
        assert set(state) == set(weights) and all(torch.equal(state[k], weights[k]) for k in weights)
    finally:
        restored.stop()
    assert second["env_runners"]["num_env_steps_sampled_lifetime"] >= 80
    assert len(seen) >= 10
    for rewards, expected in seen:
        assert rewards.shape == (32,)
        torch.testing.assert_close(rewards, expected.float())
    assert not any(torch.all(rewards == 1.0) for rewards, _ in seen)
    reward = second["learners"][REWARD_MODULE_ID]
    assert math.isfinite(reward["reward_loss"]) and 0 < reward["agent_prob"] < 1
    assert math.isfinite(second["learners"][DEFAULT_MODULE_ID]["qf_loss"])


def test_tuner_by_registered_name(ray_session, tmp_path):
    from ray import tune

    config = _small(GAIfOConfig()).imitation(disc_lr=1e-3)
    tuner = tune.Tuner("lfo_ray/rllib/GAIFO", param_space=config, run_config=tune.RunConfig(
        stop={"training_iteration": 1}, storage_path=str(tmp_path), name="rllib_by_name", verbose=0))
    (result,) = tuner.fit()
    assert result.error is None, result.error
    assert result.metrics["training_iteration"] == 1
    assert REWARD_MODULE_ID in result.metrics["learners"]
    assert result.config["reward_settings"] == {"disc_lr": 1e-3}


@pytest.mark.slow
@pytest.mark.learning
def test_gaifo_learns_cartpole(ray_session):
    """GAIfO with RLlib PPO from the shipped observation-only demonstrations, defaults throughout:
    the true return (never learned from) of the training episodes, averaged over 3 iterations."""
    algo = _small(GAIfOConfig()).build_algo()
    returns, best = [], -math.inf
    try:
        for _ in range(200):                           # at most ~100k env steps
            value = algo.train()["env_runners"].get("episode_return_mean", math.nan)
            if math.isfinite(value):                   # nan: no episode ended in the iteration
                returns.append(value)
                best = max(best, sum(returns[-3:]) / len(returns[-3:]))
            if best >= 400:
                break
    finally:
        algo.stop()
    assert best >= 400, (best, returns)
