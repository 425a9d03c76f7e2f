"""The learner-connector piece and the learner: the learned reward, not the environment's, reaches
advantage estimation, and the reward model trains after each PPO update."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

pytest.importorskip("ray.rllib")

from ray.rllib.core import DEFAULT_MODULE_ID, Columns  # noqa: E402
from ray.rllib.env.single_agent_episode import SingleAgentEpisode  # noqa: E402

from lfo_ray.data import ObsDataset  # noqa: E402
from lfo_ray.data.parquet import write_dataset  # noqa: E402
from lfo_ray.rllib import GAIfOConfig, GAILConfig, IMRLConfig, PMIILConfig  # noqa: E402
from lfo_ray.rllib.module import REWARD_MODULE_ID  # noqa: E402

TRUE_REWARD = 7.0


def _episode(steps: int, terminated: bool, start: float = 0.0) -> SingleAgentEpisode:
    obs = start + np.arange((steps + 1) * 4, dtype=np.float32).reshape(steps + 1, 4) / 100
    return SingleAgentEpisode(
        observations=list(obs), actions=[t % 2 for t in range(steps)], rewards=[TRUE_REWARD] * steps,
        terminated=terminated, truncated=not terminated, len_lookback_buffer=0,
        extra_model_outputs={Columns.ACTION_LOGP: [np.float32(-0.69)] * steps,
                             Columns.ACTION_DIST_INPUTS: [np.zeros(2, np.float32)] * steps})


def _learner(config):
    config.validate()
    return config.build_learner(env=gym.make("CartPole-v1"))


def _fixed_reward(obs, actions, next_obs):
    """A hand-made reward model: 10 x the cart position of s'."""
    return next_obs[:, 0] * 10


def test_learned_reward_reaches_gae_and_the_true_reward_does_not():
    # gamma = lambda = 1 on a terminated episode: value targets are the sums of the rewards to go.
    config = GAIfOConfig().environment("CartPole-v1").training(gamma=1.0, lambda_=1.0)
    config.imitation(reward_norm="none", reward_offset=1.0)
    learner = _learner(config)
    learner.module[REWARD_MODULE_ID].unwrapped().reward_model.reward = _fixed_reward
    episode = _episode(5, terminated=True)
    next_obs = np.asarray(episode.get_observations()[1:])    # before PPO's pipeline extends the episode
    batch = learner._learner_connector(rl_module=learner.module, batch={}, episodes=[episode],
                                       metrics=learner.metrics)[DEFAULT_MODULE_ID]
    expected = np.append(next_obs[:, 0] * 10 + 1.0, 0.0)       # + offset; 0 on PPO's bootstrap row
    np.testing.assert_allclose(batch[Columns.REWARDS].numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(batch[Columns.VALUE_TARGETS].numpy(), np.cumsum(expected[::-1])[::-1], rtol=1e-5)
    assert batch[Columns.LOSS_MASK].tolist() == [True] * 5 + [False]
    # the connector handed the batch's real transitions to the reward model's training
    agent = learner.learned_reward.last_agent
    np.testing.assert_allclose(agent.next_obs.numpy(), next_obs)


def test_scale_normalisation_and_several_episodes():
    config = GAIfOConfig().environment("CartPole-v1").imitation(reward_norm="scale")
    learner = _learner(config)
    learner.module[REWARD_MODULE_ID].unwrapped().reward_model.reward = _fixed_reward
    episodes = [_episode(4, terminated=True), _episode(3, terminated=False, start=1.0)]
    raw = np.concatenate([np.append(np.asarray(e.get_observations()[1:])[:, 0] * 10, 0.0) for e in episodes])
    batch = learner._learner_connector(rl_module=learner.module, batch={}, episodes=episodes,
                                       metrics=learner.metrics)[DEFAULT_MODULE_ID]
    rewards = batch[Columns.REWARDS].numpy()
    assert rewards.shape == raw.shape == (9,)
    assert rewards[4] == rewards[8] == 0.0
    # one positive factor (1 / std of the discounted return) for every row: the sign survives
    ratio = rewards[raw != 0] / raw[raw != 0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)
    assert ratio[0] > 0 and learner.learned_reward.return_var > 0


@pytest.fixture(scope="module")
def pendulum_demos(tmp_path_factory):
    """Two 50-step episodes of uniformly random Pendulum actions (env units, [-2, 2])."""
    env = gym.make("Pendulum-v1")
    obs, next_obs, actions = [], [], []
    for episode in range(2):
        o, _ = env.reset(seed=episode)
        for _ in range(50):
            a = env.action_space.sample()
            n, *_ = env.step(a)
            obs.append(o), next_obs.append(n), actions.append(a)
            o = n
    dataset = ObsDataset.from_arrays(np.array(obs), np.array(next_obs), episode_ids=np.repeat(np.arange(2), 50),
                                     actions=np.array(actions), env_id="Pendulum-v1",
                                     observation_space=env.observation_space, action_space=env.action_space)
    return write_dataset(dataset, tmp_path_factory.mktemp("demos") / "pendulum.parquet"), np.array(actions)


def _box_episode(actions: list[float]) -> SingleAgentEpisode:
    """A terminated Pendulum episode (zero observations) with these policy-module actions."""
    steps = len(actions)
    return SingleAgentEpisode(
        observations=list(np.zeros((steps + 1, 3), np.float32)), actions=[np.array([a], np.float32) for a in actions],
        rewards=[TRUE_REWARD] * steps, terminated=True, len_lookback_buffer=0,
        extra_model_outputs={Columns.ACTION_LOGP: [np.float32(-1.0)] * steps,
                             Columns.ACTION_DIST_INPUTS: [np.zeros(2, np.float32)] * steps})


def test_box_actions_reach_the_reward_model_in_normalised_units(pendulum_demos):
    path, demo_actions = pendulum_demos
    config = GAILConfig().environment("Pendulum-v1").imitation(demos=str(path), reward_norm="none", reward_steps=2)
    config.validate()
    learner = config.build_learner(env=gym.make("Pendulum-v1"))
    module = learner.module[REWARD_MODULE_ID].unwrapped()
    # the expert's env-unit actions, halved into [-1, 1] (Pendulum's bounds are +-2)
    expert = module.expert_batch().actions.numpy()[:, 0]
    assert np.isin(np.round(expert * 2, 4), np.round(demo_actions[:, 0], 4)).all()
    # the policy's actions (RLlib's normalised units), clipped as the env executes them
    module.reward_model.reward = lambda obs, actions, next_obs: actions[:, 0]
    policy_actions = [-3.0, -0.5, 0.5, 3.0]
    batch = learner._learner_connector(rl_module=learner.module, batch={}, episodes=[_box_episode(policy_actions)],
                                       metrics=learner.metrics)[DEFAULT_MODULE_ID]
    np.testing.assert_allclose(batch[Columns.REWARDS].numpy(), [-1.0, -0.5, 0.5, 1.0, 0.0])
    # and GAIL's discriminator trains on (s, a) with Box actions after a PPO update
    before = [p.detach().clone() for p in module.net.parameters()]
    learner.update(episodes=[_box_episode(policy_actions)])
    assert any(not torch.equal(a, b) for a, b in zip(module.net.parameters(), before))


def test_unbounded_box_actions_are_refused_with_a_clear_error(pendulum_demos):
    config = GAIfOConfig().environment("Pendulum-v1").imitation(demos=str(pendulum_demos[0]))
    config.validate()
    env = gym.make("Pendulum-v1")
    env.action_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    with pytest.raises(ValueError, match="finite bounds"):
        config.build_learner(env=env)


@pytest.mark.parametrize("config_cls", [GAILConfig, GAIfOConfig, IMRLConfig, PMIILConfig])
def test_reward_model_trains_after_the_ppo_update(config_cls):
    config = config_cls().environment("CartPole-v1").imitation(reward_steps=3)
    if config.reward_model in ("imrl", "pmi_il"):
        config.imitation(pretrain_steps=5)
    learner = _learner(config)
    module = learner.module[REWARD_MODULE_ID].unwrapped()
    before = [p.detach().clone() for p in module.net.parameters()]
    learner.update(episodes=[_episode(20, terminated=True), _episode(30, terminated=False)])
    assert any(not torch.equal(a, b) for a, b in zip(module.net.parameters(), before))
    assert learner.learned_reward.last_agent is None      # consumed by the reward steps


def test_discrete_observations_are_refused_with_a_clear_error():
    config = GAIfOConfig().environment("lfo_ray/GridWorld-v0")
    config.validate()
    with pytest.raises(ValueError, match="1-D Box"):
        config.build_learner(env=gym.make("lfo_ray/GridWorld-v0"))


def _replayed(obs: np.ndarray, action: float, next_obs: np.ndarray) -> SingleAgentEpisode:
    """A transition as SAC's replay buffer hands it to the learner: a 1-step episode with its
    importance weight and n_step."""
    return SingleAgentEpisode(
        observations=[obs.astype(np.float32), next_obs.astype(np.float32)], actions=[np.array([action], np.float32)],
        rewards=[TRUE_REWARD], terminated=False, len_lookback_buffer=0,
        extra_model_outputs={"weights": [np.float32(1.0)], "n_step": [np.int64(1)]})


def _sac_learner(config):
    config.validate()
    return config.build_learner(env=gym.make("InvertedPendulum-v5"))


def test_sac_critic_reads_the_relabelled_reward_of_each_replayed_transition():
    from lfo_ray.rllib import GAIfOSACConfig

    learner = _sac_learner(GAIfOSACConfig().environment("InvertedPendulum-v5").imitation(reward_offset=0.5))
    learner.module[REWARD_MODULE_ID].unwrapped().reward_model.reward = _fixed_reward
    rng = np.random.default_rng(0)
    obs, next_obs = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    episodes = [_replayed(o, 0.1, n) for o, n in zip(obs, next_obs)]
    batch = learner._learner_connector(rl_module=learner.module, batch={}, episodes=episodes,
                                       metrics=learner.metrics)[DEFAULT_MODULE_ID]
    # the reward model's reward of (s, s') + offset, unnormalised, in place of the env's 7.0
    np.testing.assert_allclose(batch[Columns.REWARDS].numpy(), next_obs[:, 0] * 10 + 0.5, rtol=1e-5)
    np.testing.assert_allclose(batch[Columns.NEXT_OBS].numpy(), next_obs, rtol=1e-6)
    # the critic's loss is computed from that batch: hook it to see the rewards it reads
    seen = []
    compute = learner.compute_loss_for_module

    def spy(*, module_id, config, batch, fwd_out):
        if module_id == DEFAULT_MODULE_ID:
            seen.append(batch[Columns.REWARDS].detach().clone())
        return compute(module_id=module_id, config=config, batch=batch, fwd_out=fwd_out)

    learner.compute_loss_for_module = spy
    learner.update(episodes=episodes, timesteps={"num_env_steps_sampled_lifetime": 6})
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0].numpy(), next_obs[:, 0] * 10 + 0.5, rtol=1e-5)


def test_sac_reward_model_trains_every_reward_every_env_steps():
    from lfo_ray.rllib import GAILSACConfig

    config = GAILSACConfig().environment("InvertedPendulum-v5").imitation(reward_every=100, reward_steps=2)
    learner = _sac_learner(config)
    module = learner.module[REWARD_MODULE_ID].unwrapped()
    rng = np.random.default_rng(1)
    episodes = [_replayed(rng.normal(size=4), a, rng.normal(size=4)) for a in np.linspace(-1, 1, 8)]

    def trained_after(env_steps: int) -> bool:
        before = [p.detach().clone() for p in module.net.parameters()]
        learner.update(episodes=episodes, timesteps={"num_env_steps_sampled_lifetime": env_steps})
        assert learner.learned_reward.last_agent is None       # used or dropped, never carried over
        return any(not torch.equal(a, b) for a, b in zip(module.net.parameters(), before))

    assert [trained_after(s) for s in (10, 60, 109, 110, 150, 300)] == [True, False, False, True, False, True]


def test_discrete_actions_with_sac_are_refused_with_a_clear_error():
    from lfo_ray.rllib import GAIfOSACConfig

    config = GAIfOSACConfig().environment("CartPole-v1")
    config.validate()
    with pytest.raises(ValueError, match="with SAC as the generator need a Box action space"):
        config.build_learner(env=gym.make("CartPole-v1"))
