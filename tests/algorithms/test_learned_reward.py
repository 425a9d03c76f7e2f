"""Learned-reward imitation: each reward's math on hand-checked inputs, the discriminator switches,
one PPO loop for all four rewards, short learning runs on CartPole, and one run on Ray."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from lfo_ray.algorithms.adversarial.losses import discriminator_loss
from lfo_ray.algorithms.learned_reward import specs
from lfo_ray.algorithms.learned_reward.config import GAIfOConfig, LearnedRewardConfig
from lfo_ray.algorithms.learned_reward.losses import (
    discounted_returns,
    dot_reward,
    gaussian_nll,
    gradient_penalty,
    in_batch_scores,
    infonce_loss,
    prediction_error_reward,
    ranking_accuracy,
    smoothed_discriminator_loss,
    softmax_reward,
)
from lfo_ray.algorithms.learned_reward.networks import ActorCritic, NumpyPolicy
from lfo_ray.algorithms.learned_reward.ranking import action_successors, true_candidate
from lfo_ray.algorithms.learned_reward.rewards import (
    AdversarialReward,
    InternalModelReward,
    PMIReward,
    TransitionTensors,
    make_reward_model,
)
from lfo_ray.algorithms.learned_reward.segments import Segment
from lfo_ray.experiment import CHECKPOINT_DIR, train_run

from tests.conftest import DEMOS

CARTPOLE_DEMOS = DEMOS / "CartPole-v1.parquet"
NAMES = {"gail_ppo": "gail", "gaifo_ppo": "gaifo", "imrl": "imrl", "pmi_il": "pmi_il"}
# CartPole's termination is failure: each reward is shifted to be positive (see reward_offset).
CARTPOLE = {"ent_coef": 0.01, "gamma": 0.99}
OFFSETS = {"gail_ppo": 0.0, "gaifo_ppo": 0.0, "imrl": 1.0, "pmi_il": math.log(256)}


# --- losses on hand-checked inputs ---------------------------------------------------------------

def test_label_smoothing_reduces_to_the_plain_loss():
    expert, agent = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    torch.testing.assert_close(smoothed_discriminator_loss(expert, agent, 0.0), discriminator_loss(expert, agent))
    # logits 0 on both sides: log 2 + log 2 whatever the targets
    zero = torch.zeros(3)
    assert smoothed_discriminator_loss(zero, zero, 0.2).item() == pytest.approx(2 * math.log(2))
    # one expert logit x with target 0.9, one agent logit y with target 0.1
    x, y, s = 2.0, -1.0, 0.1
    def bce(z, t): return -(t * math.log(1 / (1 + math.exp(-z))) + (1 - t) * math.log(1 - 1 / (1 + math.exp(-z))))
    assert smoothed_discriminator_loss(torch.tensor([x]), torch.tensor([y]), s).item() == pytest.approx(
        bce(x, 1 - s) + bce(y, s), rel=1e-5)


def test_gradient_penalty_of_a_linear_critic():
    weight = torch.tensor([0.0, 2.0])               # ||grad|| = 2 everywhere: penalty (2 - 1)^2
    penalty = gradient_penalty(lambda x: x @ weight, torch.randn(5, 2), torch.randn(5, 2))
    assert penalty.item() == pytest.approx(1.0)


def test_imrl_likelihood_and_error_reward():
    nll = gaussian_nll(torch.zeros(1, 2), torch.zeros(2), torch.tensor([[1.0, 0.0]]))
    assert nll.item() == pytest.approx(0.5 + math.log(2 * math.pi))
    reward = prediction_error_reward(torch.zeros(2, 2), torch.tensor([[3.0, 4.0], [0.0, 0.0]]), width=5.0)
    torch.testing.assert_close(reward, torch.tensor([-math.tanh(1.0), 0.0]))


def test_infonce_and_in_batch_scores():
    assert infonce_loss(torch.zeros(4, 3)).item() == pytest.approx(math.log(3))
    assert infonce_loss(torch.tensor([[50.0, 0.0]])).item() == pytest.approx(0.0, abs=1e-6)
    eye = torch.eye(2)
    scores = in_batch_scores(eye, eye, temperature=0.5)
    torch.testing.assert_close(scores, torch.tensor([[2.0, 0.0], [2.0, 0.0]]))
    extra = in_batch_scores(eye, eye, 0.5, extra_next_embed=torch.tensor([[1.0, 1.0]]))
    torch.testing.assert_close(extra[:, 2], torch.tensor([2.0, 2.0]))


def test_pmi_rewards_eq16_and_eq18():
    assert dot_reward(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]]), 0.5).item() == pytest.approx(22.0)
    embed = next_embed = torch.tensor([[1.0, 0.0]])
    negatives = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    expected = math.log(math.e / (math.e + 1 + math.exp(-1)))
    assert softmax_reward(next_embed, embed, negatives, 1.0).item() == pytest.approx(expected)
    # likelihood form: the expert-like s' (aligned with phi2(s)) earns more than an unlikely one
    unlikely = softmax_reward(torch.tensor([[-1.0, 0.0]]), embed, negatives, 1.0)
    assert unlikely.item() < expected <= 0.0


def test_ranking_accuracy_eq20():
    scores = torch.tensor([[3.0, 1.0], [0.0, 2.0], [1.0, 1.0]])
    assert ranking_accuracy(scores, 0).item() == pytest.approx(1 / 3)        # a tie is a miss
    assert ranking_accuracy(scores, torch.tensor([0, 1, 1])).item() == pytest.approx(2 / 3)


def test_discounted_returns_reset_after_episode_end():
    rewards = torch.ones(3, 1)
    ended = torch.tensor([[False], [True], [False]])
    out = discounted_returns(rewards, ended, 0.5, torch.tensor([2.0]))
    torch.testing.assert_close(out[:, 0], torch.tensor([2.0, 2.0, 1.0]))


def test_cartpole_successors_contain_the_true_next_state():
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=3)
    next_obs = env.step(1)[0]
    candidates = action_successors("CartPole-v1", obs[None])
    assert candidates.shape == (1, 2, 4)
    np.testing.assert_allclose(candidates[0, 1], next_obs, rtol=1e-5)
    assert true_candidate(candidates, next_obs[None])[0] == 1


# --- the discriminator switches and the model interface -------------------------------------------

def _pool(n=64, dim=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n, dim, generator=g)
    return TransitionTensors(obs, obs + 0.1 * torch.randn(n, dim, generator=g),
                             torch.randint(2, (n,), generator=g))


def test_discriminator_input_switch():
    pool = _pool()
    gail = make_reward_model(LearnedRewardConfig(reward_model="gail"), 4, 2, pool, 0)
    gaifo = make_reward_model(LearnedRewardConfig(reward_model="gaifo"), 4, 2, pool, 0)
    assert isinstance(gail, AdversarialReward) and type(gail) is type(gaifo)
    assert gail.uses_actions and not gaifo.uses_actions
    assert gail.module.net[0].in_features == 4 + 2 and gaifo.module.net[0].in_features == 4 + 4
    # GAIL's reward depends on the action, GAIfO's on the next state only
    a0, a1 = torch.zeros(64, dtype=torch.long), torch.ones(64, dtype=torch.long)
    assert not torch.allclose(gail.reward(pool.obs, a0, pool.next_obs), gail.reward(pool.obs, a1, pool.next_obs))
    torch.testing.assert_close(gaifo.reward(pool.obs, a0, pool.next_obs), gaifo.reward(pool.obs, a1, pool.next_obs))
    assert gail.score(pool.obs, pool.next_obs) is None and gaifo.score(pool.obs, pool.next_obs) is not None
    with pytest.raises(ValueError, match="needs actions"):
        gail.reward(pool.obs, None, pool.next_obs)


def test_gaifo_delta_input_sees_the_step_not_only_the_state():
    """Expert and agent visit the same states and differ only in the direction of a small step:
    the default (s, s' - s) input separates them, raw (s, s') at the same budget hardly does."""
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(512, 4, generator=g)
    expert, agent = TransitionTensors(obs, obs + 0.01), TransitionTensors(obs, obs - 0.01)
    probs = {}
    for second in ("delta", "next_obs"):
        model = make_reward_model(LearnedRewardConfig(reward_model="gaifo", gaifo_input=second, disc_lr=3e-3),
                                  4, 2, expert, 0)
        for _ in range(50):
            metrics = model.update(expert, agent)
        probs[second] = metrics["expert_prob"] - metrics["agent_prob"]
    assert probs["delta"] > 0.8 and probs["next_obs"] < 0.3, probs
    torch.testing.assert_close(model.module.features(obs, obs + 0.01)[:, :4], model.module.normalizer(obs))
    with pytest.raises(ValueError, match="gaifo_input"):
        LearnedRewardConfig(gaifo_input="diff")


@pytest.mark.parametrize("form, check", [("gail", lambda r: (r >= 0).all()), ("neg_log", lambda r: (r <= 0).all())])
def test_discriminator_reward_forms(form, check):
    model = make_reward_model(LearnedRewardConfig(reward_model="gaifo", disc_reward=form), 4, 2, _pool(), 0)
    agent = _pool(seed=1)
    assert check(model.reward(agent.obs, agent.actions, agent.next_obs))


@pytest.mark.parametrize("options", [{}, {"grad_penalty": 10.0, "label_smoothing": 0.1}])
def test_discriminator_learns_to_separate(options):
    config = LearnedRewardConfig(reward_model="gaifo", disc_lr=3e-3, **options)
    expert, agent = _pool(seed=0), _pool(seed=1)
    agent = TransitionTensors(agent.obs + 2.0, agent.next_obs + 2.0, agent.actions)
    model = make_reward_model(config, 4, 2, expert, 0)
    for _ in range(100):
        metrics = model.update(expert, agent)
    assert metrics["expert_prob"] > 0.8 > 0.2 > metrics["agent_prob"]
    assert ("grad_penalty" in metrics) == bool(options)


@pytest.mark.parametrize("model_cls, config", [
    (InternalModelReward, LearnedRewardConfig(reward_model="imrl")),
    (PMIReward, LearnedRewardConfig(reward_model="pmi_il", pmi_reward="softmax", num_negatives=16)),
    (PMIReward, LearnedRewardConfig(reward_model="pmi_il", pmi_reward="dot", negatives="expert", num_negatives=16)),
])
def test_expert_only_models_prefer_expert_transitions(model_cls, config):
    """Trained on a deterministic expert dynamics s' = s + 1, both rank the true s' above a wrong one."""
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(256, 2, generator=g)
    expert = TransitionTensors(obs, obs + 1.0)
    model = make_reward_model(config, 2, 2, expert, 0)
    assert isinstance(model, model_cls) and model.pretrains and not model.learns_from_agent
    for _ in range(300):
        model.pretrain_step(expert)
    with torch.no_grad():
        good = model.reward(obs, None, obs + 1.0).mean()
        bad = model.reward(obs, None, obs - 1.0).mean()
        scores = torch.stack([model.score(obs, obs + 1.0), model.score(obs, obs - 1.0)], 1)
    assert good > bad
    assert ranking_accuracy(scores, 0).item() > 0.9


def test_numpy_policy_matches_torch():
    net = ActorCritic(4, 2, (8, 8))
    net.normalizer.update(torch.randn(100, 4) * 3 + 1)
    policy = NumpyPolicy(greedy=True)
    policy.set_weights(net.acting_weights())
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    logits, _ = net(torch.as_tensor(obs))
    np.testing.assert_allclose(policy.logits(obs), logits.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_ppo_target_kl_stops_the_epochs_early():
    from lfo_ray.algorithms.learned_reward.learners import PolicyLearner

    rng = np.random.default_rng(0)
    t, b = 32, 4
    obs = rng.normal(size=(t, b, 4)).astype(np.float32)
    segment = Segment(obs, rng.integers(0, 2, (t, b)), obs + 0.1, np.ones((t, b), np.float32),
                      np.zeros((t, b), bool), np.zeros((t, b), bool), np.ones((t, b), bool), ())
    rewards = [rng.normal(size=(t, b)).astype(np.float32)]
    epochs = {}
    for target_kl in (None, 1e-6):
        config = LearnedRewardConfig(lr=1e-2, update_epochs=8, minibatch_size=32, target_kl=target_kl,
                                     total_env_steps=10_000, device="cpu")
        _, metrics = PolicyLearner(config, 4, 2, 0).update(rewards, segment)
        epochs[target_kl] = metrics["ppo_epochs"]
    assert epochs[None] == 8 and epochs[1e-6] < 2, epochs


def test_segment_validates_shapes():
    z = np.zeros((3, 2))
    with pytest.raises(ValueError, match="expected"):
        Segment(np.zeros((3, 2, 4)), z, np.zeros((3, 2, 4)), z, z.astype(bool), z.astype(bool),
                np.zeros((3, 1), bool), ())


def test_one_loop_for_four_rewards():
    for spec in (specs.GAIL, specs.GAIFO, specs.IMRL, specs.PMI_IL):
        assert spec.train is specs.GAIFO.train
    assert specs.GAIL.observation_only is False and specs.GAIFO.observation_only
    assert GAIfOConfig().reward_model == "gaifo" and not GAIfOConfig().uses_actions
    with pytest.raises(ValueError, match="reward_model"):
        LearnedRewardConfig(reward_model="airl")


# --- end to end -----------------------------------------------------------------------------------

class Crash(Exception):
    pass


def test_resume_continues_from_the_checkpoint(tmp_path, monkeypatch):
    from lfo_ray.algorithms.learned_reward import algorithm as loop

    overrides = {"total_env_steps": 1024, "envs_per_worker": 4, "rollout_steps": 32, "checkpoint_every": 2,
                 "reward_steps": 1, "reward_batch_size": 32}
    real_save = loop.save_checkpoint

    def crash_after_saving(directory, state):
        real_save(directory, state)
        raise Crash

    monkeypatch.setattr(loop, "save_checkpoint", crash_after_saving)
    with pytest.raises(Crash):
        train_run("gaifo_ppo", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path, overrides, placement="local",
                  progress=False)
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    first = torch.load(tmp_path / CHECKPOINT_DIR / "state.pt", weights_only=False)
    assert first["iteration"] == 2 and first["reward"]["updates"] == 2
    assert first["replay"]["added"] == first["policy"]["env_steps"] == first["env_steps"] > 0

    result = train_run("gaifo_ppo", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path, overrides, eval_episodes=2,
                       placement="local", progress=False, resume=True)
    final = torch.load(tmp_path / CHECKPOINT_DIR / "state.pt", weights_only=False)
    assert result["env_steps"] == final["env_steps"] >= 1024
    assert final["replay"]["added"] == final["policy"]["env_steps"] == final["env_steps"]
    assert final["reward"]["updates"] == final["iteration"] == result["metrics"]["iterations"] > 2
    assert [tuple(p) for p in result["curve"][:len(first["curve"])]] == first["curve"]
    with pytest.raises(ValueError, match="holds a gaifo_ppo run, not imrl"):
        train_run("imrl", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path, overrides, placement="local",
                  progress=False, resume=True)


@pytest.mark.learning
@pytest.mark.parametrize("algo", list(NAMES))
def test_learns_cartpole(tmp_path, algo):
    """Each reward, plugged into the same PPO loop, reaches a training return of 195 quickly."""
    overrides = dict(CARTPOLE, total_env_steps=60_000, stop_return=195.0, reward_offset=OFFSETS[algo],
                     pretrain_steps=300)
    result = train_run(algo, "CartPole-v1", CARTPOLE_DEMOS, 2, tmp_path, overrides, eval_episodes=5,
                       placement="local", progress=False)
    assert result["metrics"]["stopped_early"], result["curve"][-5:]
    assert result["metrics"]["recent_train_return"] >= 195.0
    assert (tmp_path / CHECKPOINT_DIR / "policy.npz").exists()
    if algo in ("imrl", "pmi_il"):         # trained on the expert's transitions: better than chance of 2
        assert result["metrics"]["ranking_eq20"] > 0.5
    elif algo == "gaifo_ppo":               # a discriminator ranks only what separates it from the agent
        assert 0.0 <= result["metrics"]["ranking_eq20"] <= 1.0


@pytest.mark.ray
def test_gaifo_on_ray(tmp_path, ray_session):
    result = train_run("gaifo_ppo", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path,
                       {"total_env_steps": 2048, "num_workers": 2, "envs_per_worker": 4, "rollout_steps": 32},
                       eval_episodes=2, placement="ray", progress=False)
    assert result["env_steps"] >= 2048 and result["metrics"]["iterations"] >= 4
    assert result["metrics"]["final_reward_loss"] > 0
