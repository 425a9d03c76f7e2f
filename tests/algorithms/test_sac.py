"""SAC, the imitation family's off-policy generator: losses on hand inputs, the batched twin critics,
rewards relabelled by the current reward model at sample time, and the update-to-data ratio."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from lfo_ray.algorithms.learned_reward.config import GAIfOConfig
from lfo_ray.algorithms.learned_reward.losses import (
    entropy_temperature_loss,
    sac_actor_loss,
    soft_q_targets,
    twin_q_loss,
)
from lfo_ray.algorithms.learned_reward.sac import SACLearner, TwinQ, check_spaces
from lfo_ray.batch import SampleBatch
from lfo_ray.data import ObsDataset
from lfo_ray.data.parquet import write_dataset
from lfo_ray.envs import make_vector_env
from lfo_ray.placement import LocalHandle
from lfo_ray.replay import ReplayBuffer
from lfo_ray.rollout import VectorDriver

OBS = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
ACT = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)


def test_soft_q_targets_bootstrap_through_truncation_but_not_termination():
    rewards = torch.tensor([1.0, 2.0, -1.0])
    terminated = torch.tensor([False, True, False])
    next_q = torch.tensor([[5.0, 3.0, 0.0], [4.0, 9.0, 2.0]])      # min: 4, 3, 0
    next_log_probs = torch.tensor([-1.0, 0.5, 2.0])
    targets = soft_q_targets(rewards, terminated, next_q, next_log_probs, torch.tensor(0.5), 0.9)
    torch.testing.assert_close(targets, torch.tensor([1.0 + 0.9 * (4.0 + 0.5), 2.0, -1.0 + 0.9 * (0.0 - 1.0)]))


def test_twin_q_actor_and_temperature_losses_on_hand_inputs():
    q = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    targets = torch.tensor([2.0, 2.0])
    assert twin_q_loss(q, targets).item() == pytest.approx((1 + 0) / 2 + (1 + 4) / 2)
    log_probs = torch.tensor([-1.0, 0.0])
    # min over critics: [1, 0]; alpha 0.5 -> mean(0.5 * [-1, 0] - [1, 0]) = mean([-1.5, 0]) = -0.75
    assert sac_actor_loss(q, log_probs, torch.tensor(0.5)).item() == pytest.approx(-0.75)
    log_alpha = torch.tensor(0.3, requires_grad=True)
    loss = entropy_temperature_loss(log_alpha, log_probs, target_entropy=-1.0)
    loss.backward()
    # d/dlog_alpha of -(log_alpha * mean(log_pi + H*)) = -mean([-2, -1]) = 1.5: entropy above target lowers alpha
    assert log_alpha.grad.item() == pytest.approx(1.5)


def test_twin_q_is_two_independent_critics():
    twin = TwinQ(3, 1, (8, 8))
    obs, actions = torch.randn(5, 3), torch.randn(5, 1)
    out = twin(obs, actions)
    assert out.shape == (2, 5)
    for k in range(2):
        x = torch.cat([obs, actions], dim=1)
        for i, (w, b) in enumerate(zip(twin.weights, twin.biases)):
            x = x @ w[k] + b[k]
            if i < len(twin.weights) - 1:
                x = torch.relu(x)
        torch.testing.assert_close(out[k], x.squeeze(-1))
    actions.requires_grad_(True)
    twin(obs, actions, detach_weights=True).sum().backward()     # the actor's loss: gradients to the action only
    assert actions.grad is not None and all(p.grad is None for p in twin.parameters())


def test_rl_sac_needs_box_actions_and_vector_observations():
    with pytest.raises(ValueError, match="rl=sac needs a Box action space"):
        check_spaces(OBS, gym.spaces.Discrete(2))
    with pytest.raises(ValueError, match="vector"):
        check_spaces(gym.spaces.Discrete(4), ACT)
    with pytest.raises(ValueError, match="rl must be one of"):
        GAIfOConfig(rl="ddpg")


def _pendulum_replay(rows: int, num_envs: int = 4) -> ReplayBuffer:
    driver = VectorDriver(make_vector_env("Pendulum-v1", num_envs), seed=0)
    replay, rng = ReplayBuffer(10_000), np.random.default_rng(0)
    while len(replay) < rows:
        batch, _, _ = driver.step(rng.uniform(-2, 2, (num_envs, 1)).astype(np.float32))
        replay.add(SampleBatch(batch.obs, batch.actions, batch.rewards, batch.next_obs, batch.terminated,
                               batch.truncated))
    return replay


@pytest.fixture(scope="module")
def pendulum_demos(tmp_path_factory):
    data = _pendulum_replay(400, num_envs=1).all()       # two whole 200-step episodes, in order
    dataset = ObsDataset.from_arrays(data.obs, data.next_obs, episode_ids=np.repeat(np.arange(2), 200),
                                     actions=data.actions, env_id="Pendulum-v1", observation_space=OBS,
                                     action_space=ACT)
    return write_dataset(dataset, tmp_path_factory.mktemp("demos") / "pendulum.parquet")


def test_rewards_are_relabelled_with_the_current_reward_model_at_sample_time(pendulum_demos):
    config = GAIfOConfig(rl="sac", reward_steps=0, sac_batch_size=16)
    learner = SACLearner(config, OBS, ACT, 0, "Pendulum-v1", str(pendulum_demos))
    batch = _pendulum_replay(16).all()
    before = learner.relabel(batch.obs, batch.actions, batch.next_obs, batch.rewards, batch.terminated)
    model = learner.reward.model
    expected = model.reward(*(lambda t: (t.obs, t.actions, t.next_obs))(
        learner.reward.transitions(batch.obs, batch.next_obs, batch.actions)))
    torch.testing.assert_close(before, expected.float())
    with torch.no_grad():                               # the reward model moves on...
        for p in model.module.parameters():
            p.add_(0.5)
    after = learner.relabel(batch.obs, batch.actions, batch.next_obs, batch.rewards, batch.terminated)
    assert not torch.allclose(before, after)           # ...and the same transitions are scored anew
    assert not torch.allclose(after, torch.as_tensor(batch.rewards))   # never the env's reward


def test_update_to_data_ratio_is_kept_across_calls_and_env_rewards_without_demos():
    replay = LocalHandle(_pendulum_replay(512))
    learner = SACLearner(GAIfOConfig(rl="sac", utd_ratio=0.5, sac_batch_size=32, sac_hidden=(16,)), OBS, ACT, 0)
    assert learner.reward is None
    metrics = learner.train(replay, 3)                  # 1.5 updates owed: 1 now, 0.5 carried
    assert learner.updates == 1 and "env_reward" in metrics and np.isfinite(metrics["q_loss"])
    learner.train(replay, 3)
    assert learner.updates == 3
    weights = learner.acting_weights()
    assert all(isinstance(v, np.ndarray) for v in weights.values())


TINY_SAC = {"rl": "sac", "learning_starts": 128, "sac_hidden": [16], "sac_batch_size": 32, "rollout_steps": 16,
            "checkpoint_every": 2, "reward_steps": 1}


@pytest.mark.parametrize("sampling", ["sync", "async"])
def test_gaifo_with_sac_spends_the_budget_exactly_and_resumes(tmp_path, sampling):
    from lfo_ray.experiment import train_run
    from lfo_ray.policy import load_policy

    config = dict(TINY_SAC, sampling=sampling, total_env_steps=300)
    first = train_run("gaifo", "InvertedPendulum-v5", "InvertedPendulum-v5", 0, tmp_path, config, eval_episodes=2,
                      placement="local", progress=False)
    assert first["env_steps"] == 300 and first["metrics"]["generator"] == "sac"
    assert first["metrics"]["max_policy_lag"] <= 1
    longer = train_run("gaifo", "InvertedPendulum-v5", "InvertedPendulum-v5", 0, tmp_path,
                       dict(config, total_env_steps=500), eval_episodes=2, placement="local", progress=False,
                       resume=True)
    assert longer["env_steps"] == 500
    policy = load_policy(tmp_path)
    actions = policy.act(np.zeros((3, 4), np.float32))
    assert actions.shape == (3, 1) and (np.abs(actions) <= 3.0).all()
    # The learned reward is saved beside the policy, as the PPO generator's is, and it is the resumed
    # learner's: the checkpoint's reward learner state (weights + Adam + sampler) round-trips.
    from lfo_ray.algorithms.learned_reward.algorithm import REWARD_FILE
    from lfo_ray.checkpoint import load_checkpoint, safe_torch_load

    saved = safe_torch_load(tmp_path / "checkpoint" / REWARD_FILE)
    reward_state = load_checkpoint(tmp_path / "checkpoint")["learner"]["reward_learner"]
    assert reward_state["updates"] > 0 and reward_state["optimizers"]
    for name, module in reward_state["modules"].items():
        for key, value in module.items():
            assert torch.equal(saved[name][key], value)
