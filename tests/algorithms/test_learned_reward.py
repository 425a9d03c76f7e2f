"""The imitation family (gail, gaifo, imrl, pmi_il): each reward's math on hand-checked inputs, the
discriminator switches on vector and Discrete observations, one PPO loop for all four rewards that
cannot train on NaN, short learning runs on CartPole and GridWorld, and one run on Ray."""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from lfo_ray.algorithms.learned_reward import absorbing, specs
from lfo_ray.algorithms.learned_reward.config import GAIfOConfig, GAILConfig, IMRLConfig, PMIILConfig
from lfo_ray.algorithms.learned_reward.learners import NonFiniteError, PolicyLearner, RewardLearner
from lfo_ray.algorithms.learned_reward.losses import (
    discounted_returns,
    discriminator_loss,
    dot_reward,
    gaussian_nll,
    generalized_advantages,
    gradient_penalty,
    imitation_reward,
    in_batch_scores,
    infonce_loss,
    normalize_advantages,
    ppo_loss,
    prediction_error_reward,
    ranking_accuracy,
    smoothed_discriminator_loss,
    softmax_reward,
)
from lfo_ray.algorithms.learned_reward.networks import ActorCritic, NumpyPolicy, one_hot_or_none
from lfo_ray.algorithms.learned_reward.ranking import action_successors, true_candidate
from lfo_ray.algorithms.learned_reward.rewards import (
    AdversarialReward,
    InternalModelReward,
    PMIReward,
    TransitionTensors,
    make_reward_model,
)
from lfo_ray.batch import SampleBatch
from lfo_ray.experiment import CHECKPOINT_DIR, train_run
from lfo_ray.placement import LocalHandle
from lfo_ray.replay import ReplayBuffer
from lfo_ray.segments import Segment

from tests.algorithms.gridworld_helpers import DETERMINISTIC_DEMOS, train_and_score
from tests.conftest import DEMOS

CARTPOLE_DEMOS = DEMOS / "CartPole-v1.parquet"
NAMES = ("gail", "gaifo", "imrl", "pmi_il")
BOX4 = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
BOX2 = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
CELLS = gym.spaces.Discrete(9)


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


def test_discriminator_loss_and_reward_forms_by_hand():
    zero = torch.zeros(3)
    assert discriminator_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    logits = torch.tensor([-2.0, 0.0, 2.0])
    d = torch.sigmoid(logits)
    torch.testing.assert_close(imitation_reward(logits, "logit"), torch.log(d) - torch.log(1 - d))
    torch.testing.assert_close(imitation_reward(logits, "gail"), -torch.log(1 - d))
    torch.testing.assert_close(imitation_reward(logits, "neg_log"), torch.log(d))


def test_gae_stops_at_termination_and_bootstraps_truncation():
    rewards = torch.ones(3, 1)
    values = torch.zeros(3, 1)
    next_values = torch.full((3, 1), 10.0)
    terminated = torch.tensor([[False], [True], [False]])
    ended = torch.tensor([[False], [True], [True]])
    advantages, _ = generalized_advantages(rewards, values, next_values, terminated, ended, 0.5, 1.0)
    # t=2 truncated: 1 + 0.5*10; t=1 terminated: 1; t=0: 1 + 0.5*10 - 0 + 0.5*(advantage at t=1).
    torch.testing.assert_close(advantages[:, 0], torch.tensor([6.5, 1.0, 6.0]))


def test_ppo_loss_clipping_and_approx_kl_by_hand():
    """Ratios 1.5 and 0.5 with (normalised) advantages +-1/sqrt 2 and clip 0.2: both terms take the
    clipped side; approx_kl is the mean of (r - 1) - log r."""
    old = torch.log(torch.tensor([0.4, 0.4]))
    new = torch.log(torch.tensor([0.6, 0.2]))
    advantages = normalize_advantages(torch.tensor([1.0, -1.0]))
    loss, stats = ppo_loss(new, old, advantages, torch.zeros(2), torch.zeros(2),
                           torch.zeros(2), clip_coef=0.2, vf_coef=0.5, ent_coef=0.0)
    a = 1 / math.sqrt(2)
    assert stats["policy_loss"].item() == pytest.approx((-1.2 * a + 0.8 * a) / 2, rel=1e-5)
    assert stats["approx_kl"].item() == pytest.approx(((0.5 - math.log(1.5)) + (-0.5 - math.log(0.5))) / 2, rel=1e-5)
    assert stats["clipfrac"].item() == 1.0 and loss.item() == pytest.approx(stats["policy_loss"].item(), rel=1e-5)


def test_advantages_of_one_row_are_finite():
    """A lone row has no std: normalising must not divide by NaN (what crashed the old stack)."""
    assert torch.isfinite(normalize_advantages(torch.tensor([3.0]))).all()


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
    gail = make_reward_model(GAILConfig(), BOX4, gym.spaces.Discrete(2), pool, 0)
    gaifo = make_reward_model(GAIfOConfig(), BOX4, gym.spaces.Discrete(2), pool, 0)
    assert isinstance(gail, AdversarialReward) and type(gail) is type(gaifo)
    assert gail.uses_actions and not gaifo.uses_actions
    assert gail.module.net.widths == (4, 2) and gaifo.module.net.widths == (4, 4)
    # GAIL's reward depends on the action, GAIfO's on the next state only
    a0, a1 = torch.zeros(64, dtype=torch.long), torch.ones(64, dtype=torch.long)
    assert not torch.allclose(gail.reward(pool.obs, a0, pool.next_obs), gail.reward(pool.obs, a1, pool.next_obs))
    torch.testing.assert_close(gaifo.reward(pool.obs, a0, pool.next_obs), gaifo.reward(pool.obs, a1, pool.next_obs))
    assert gail.score(pool.obs, pool.next_obs) is None and gaifo.score(pool.obs, pool.next_obs) is not None
    with pytest.raises(ValueError, match="needs actions"):
        gail.reward(pool.obs, None, pool.next_obs)


def test_discrete_steps_are_one_id_per_move_in_every_cell():
    """On Discrete states the step input is s' - s shifted to 0..2n-2: one learned row per kind of
    move, whatever the cell; the first layer's lookup equals a Linear layer on one-hot inputs."""
    obs, next_obs = torch.tensor([0, 4, 8, 3]), torch.tensor([1, 7, 8, 0])
    model = make_reward_model(GAIfOConfig(disc_hidden=(8,)), CELLS, gym.spaces.Discrete(4), TransitionTensors(obs, next_obs), 0)
    disc = model.module
    obs_ids, step_ids = disc.features(obs, None, next_obs)
    assert obs_ids.tolist() == [0, 4, 8, 3] and step_ids.tolist() == [9, 11, 8, 5]
    assert disc.net.widths == (9, 17)
    dense_weight, bias = disc.net.first_layer()
    one_hot = torch.cat([torch.nn.functional.one_hot(obs_ids, 9), torch.nn.functional.one_hot(step_ids, 17)], 1)
    expected = disc.net.rest(one_hot.float() @ dense_weight.T + bias).squeeze(-1)
    torch.testing.assert_close(disc(obs, None, next_obs), expected)
    both = make_reward_model(GAIfOConfig(gaifo_input="both"), CELLS, gym.spaces.Discrete(4), TransitionTensors(obs, next_obs), 0)
    assert both.module.net.widths == (9, 9, 17)
    with pytest.raises(ValueError, match="grad_penalty"):
        make_reward_model(GAIfOConfig(grad_penalty=1.0), CELLS, gym.spaces.Discrete(4), TransitionTensors(obs, next_obs), 0)


def test_gaifo_delta_input_sees_the_step_not_only_the_state():
    """Expert and agent visit the same states and differ only in the direction of a small step:
    the default (s, s' - s) input separates them, raw (s, s') at the same budget hardly does."""
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(512, 4, generator=g)
    expert, agent = TransitionTensors(obs, obs + 0.01), TransitionTensors(obs, obs - 0.01)
    probs = {}
    for second in ("delta", "next_obs"):
        model = make_reward_model(GAIfOConfig(gaifo_input=second, disc_lr=3e-3), BOX4, gym.spaces.Discrete(2), expert, 0)
        for _ in range(50):
            metrics = model.update(expert, agent)
        probs[second] = float(metrics["expert_prob"] - metrics["agent_prob"])
    assert probs["delta"] > 0.8 and probs["next_obs"] < 0.3, probs
    torch.testing.assert_close(model.module.features(obs, None, obs + 0.01)[0], model.module.obs(obs))
    with pytest.raises(ValueError, match="gaifo_input"):
        GAIfOConfig(gaifo_input="diff")


@pytest.mark.parametrize("form, check", [("gail", lambda r: (r >= 0).all()), ("neg_log", lambda r: (r <= 0).all())])
def test_discriminator_reward_forms(form, check):
    model = make_reward_model(GAIfOConfig(disc_reward=form), BOX4, gym.spaces.Discrete(2), _pool(), 0)
    agent = _pool(seed=1)
    assert check(model.reward(agent.obs, agent.actions, agent.next_obs))


@pytest.mark.parametrize("options", [{}, {"grad_penalty": 10.0, "label_smoothing": 0.1}])
@pytest.mark.parametrize("config_cls", [GAILConfig, GAIfOConfig])
def test_discriminator_learns_to_separate(options, config_cls):
    config = config_cls(disc_lr=3e-3, **options)
    expert, agent = _pool(seed=0), _pool(seed=1)
    agent = TransitionTensors(agent.obs + 2.0, agent.next_obs + 2.0, agent.actions)
    model = make_reward_model(config, BOX4, gym.spaces.Discrete(2), expert, 0)
    for _ in range(100):
        metrics = model.update(expert, agent)
    assert metrics["expert_prob"] > 0.8 > 0.2 > metrics["agent_prob"]
    assert ("grad_penalty" in metrics) == bool(options)


@pytest.mark.parametrize("model_cls, config", [
    (InternalModelReward, IMRLConfig()),
    (PMIReward, PMIILConfig(pmi_reward="softmax", num_negatives=16)),
    (PMIReward, PMIILConfig(pmi_reward="dot", negatives="expert", num_negatives=16)),
])
def test_expert_only_models_prefer_expert_transitions(model_cls, config):
    """Trained on a deterministic expert dynamics s' = s + 1, both rank the true s' above a wrong one."""
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(256, 2, generator=g)
    expert = TransitionTensors(obs, obs + 1.0)
    model = make_reward_model(config, BOX2, gym.spaces.Discrete(2), expert, 0)
    assert isinstance(model, model_cls) and model.pretrains and not model.learns_from_agent
    for _ in range(300):
        model.pretrain_step(expert)
    with torch.no_grad():
        good = model.reward(obs, None, obs + 1.0).mean()
        bad = model.reward(obs, None, obs - 1.0).mean()
        scores = torch.stack([model.score(obs, obs + 1.0), model.score(obs, obs - 1.0)], 1)
    assert good > bad
    assert ranking_accuracy(scores, 0).item() > 0.9


@pytest.mark.parametrize("space, obs", [(BOX4, np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)),
                                        (CELLS, np.array([0, 3, 8, 8, 1]))])
@pytest.mark.parametrize("hidden", [(8, 8), ()])
def test_numpy_policy_matches_torch(space, obs, hidden):
    net = ActorCritic(space, gym.spaces.Discrete(3), hidden)
    with torch.no_grad():
        for p in net.pi.parameters():
            p.normal_()
    if space is BOX4:
        net.features.update(torch.randn(100, 4) * 3 + 1)
    policy = NumpyPolicy(greedy=True)
    policy.set_weights(net.acting_weights())
    logits, _ = net(torch.as_tensor(obs))
    np.testing.assert_allclose(policy.logits(obs), logits.detach().numpy(), rtol=1e-4, atol=1e-5)


def _segment(t=32, b=4, seed=0):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(t, b, 4)).astype(np.float32)
    segment = Segment(obs, rng.integers(0, 2, (t, b)), obs + 0.1, np.ones((t, b), np.float32),
                      np.zeros((t, b), bool), np.zeros((t, b), bool), np.ones((t, b), bool), ())
    return segment, [rng.normal(size=(t, b)).astype(np.float32)]


def test_ppo_target_kl_stops_the_epochs_early():
    segment, rewards = _segment()
    epochs = {}
    for target_kl in (None, 1e-6):
        config = GAIfOConfig(lr=1e-2, update_epochs=8, minibatch_size=32, target_kl=target_kl,
                             total_env_steps=10_000, device="cpu")
        _, metrics = PolicyLearner(config, BOX4, gym.spaces.Discrete(2), 0).update(rewards, segment)
        epochs[target_kl] = metrics["ppo_epochs"]
    assert epochs[None] == 8 and epochs[1e-6] < 2, epochs


def test_ppo_minibatches_have_a_fixed_size():
    learner = PolicyLearner(GAIfOConfig(minibatch_size=32), BOX4, gym.spaces.Discrete(2), 0)
    batches = learner.minibatches(100)
    assert [len(b) for b in batches] == [32, 32, 32, 32]
    assert set(torch.cat(batches).tolist()) == set(range(100))          # every row, every epoch
    assert all(len(set(b.tolist())) == 32 for b in batches)             # none twice in a minibatch
    assert [len(b) for b in learner.minibatches(20)] == [20] and learner.minibatches(1) == []


def test_ppo_survives_a_rollout_with_one_valid_row():
    """All but one row masked (autoreset rows): no NaN, the weights stay finite."""
    segment, rewards = _segment(t=2, b=2)
    valid = np.zeros((2, 2), bool)
    valid[0, 0] = True
    segment = Segment(segment.obs, segment.actions, segment.next_obs, segment.env_rewards, segment.terminated,
                      segment.truncated, valid, ())
    learner = PolicyLearner(GAIfOConfig(minibatch_size=2), BOX4, gym.spaces.Discrete(2), 0)
    _, metrics = learner.update(rewards, segment)
    assert metrics["env_steps"] == 1
    assert all(torch.isfinite(p).all() for p in learner.net.parameters())


def test_ppo_stops_on_a_non_finite_reward_or_loss():
    segment, rewards = _segment()
    learner = PolicyLearner(GAIfOConfig(minibatch_size=32), BOX4, gym.spaces.Discrete(2), 0)
    with pytest.raises(NonFiniteError, match="iteration 1: PPO: the learned reward .* NaN"):
        learner.update([np.full_like(rewards[0], np.nan)], segment)
    learner = PolicyLearner(GAIfOConfig(minibatch_size=32, lr=1e30, max_grad_norm=1e30), BOX4, gym.spaces.Discrete(2), 0)
    with pytest.raises(NonFiniteError, match="iteration [12]: PPO: .*NaN or infinite"):
        for _ in range(2):
            learner.update([rewards[0] * 1e30], segment)


def test_non_finite_config_values_are_refused():
    with pytest.raises(ValueError, match="^lr must be finite, got inf"):
        GAIfOConfig(lr=float("inf"))
    with pytest.raises(ValueError, match="disc_lr must be finite, got nan"):
        GAIfOConfig(disc_lr=float("nan"))
    with pytest.raises(ValueError, match="value_lr must be > 0"):
        GAIfOConfig(value_lr=-1.0)


def test_segment_validates_shapes():
    z = np.zeros((3, 2))
    with pytest.raises(ValueError, match="expected"):
        Segment(np.zeros((3, 2, 4)), z, np.zeros((3, 2, 4)), z, z.astype(bool), z.astype(bool),
                np.zeros((3, 1), bool), ())


def test_one_loop_for_four_rewards_and_one_config_each():
    for spec in (specs.GAIL, specs.GAIFO, specs.IMRL, specs.PMI_IL):
        assert spec.train is specs.GAIFO.train
    assert specs.GAIL.observation_only is False and specs.GAIFO.observation_only
    assert GAIfOConfig().reward_model == "gaifo" and not GAIfOConfig().uses_actions
    fields = {cls: {f.name for f in dataclasses.fields(cls)} for cls in (GAIfOConfig, IMRLConfig, PMIILConfig)}
    assert "gaifo_input" in fields[GAIfOConfig] and "temperature" not in fields[GAIfOConfig]
    assert "disc_lr" not in fields[PMIILConfig] and "imrl_width" not in fields[PMIILConfig]
    with pytest.raises(TypeError):
        GAIfOConfig(temperature=0.5)


def test_presets_are_applied_recorded_and_overridable(tmp_path):
    from lfo_ray.algorithms.learned_reward.presets import preset

    assert preset("gaifo", "Acrobot-v1") == {"gae_lambda": 0.95, "disc_reward": "neg_log", "gaifo_input": "next_obs"}
    assert preset("gaifo", "SomethingElse-v0") == {}
    result = train_run("gaifo", "Acrobot-v1", DEMOS / "Acrobot-v1.parquet", 0, tmp_path,
                       {"total_env_steps": 512, "gaifo_input": "delta"}, eval_episodes=1, placement="local",
                       progress=False)
    assert result["preset"]["disc_reward"] == "neg_log" and result["config"]["disc_reward"] == "neg_log"
    assert result["config"]["gaifo_input"] == "delta"          # --set wins over the preset
    plain = train_run("gaifo", "Acrobot-v1", DEMOS / "Acrobot-v1.parquet", 0, tmp_path / "plain",
                      {"total_env_steps": 512}, eval_episodes=1, placement="local", progress=False,
                      use_preset=False)
    assert plain["preset"] == {} and plain["config"]["disc_reward"] == "gail"


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
        train_run("gaifo", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path, overrides, placement="local",
                  progress=False)
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    first = loop.load_checkpoint(tmp_path / CHECKPOINT_DIR)
    assert first["iteration"] == 2 and first["reward"]["updates"] == 2
    assert first["replay"]["added"] == first["policy"]["env_steps"] == first["env_steps"] > 0

    result = train_run("gaifo", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path, overrides, eval_episodes=2,
                       placement="local", progress=False, resume=True)
    final = loop.load_checkpoint(tmp_path / CHECKPOINT_DIR)
    assert result["env_steps"] == final["env_steps"] >= 1024
    assert final["replay"]["added"] == final["policy"]["env_steps"] == final["env_steps"]
    assert final["reward"]["updates"] == final["iteration"] == result["metrics"]["iterations"] > 2
    assert [tuple(p) for p in result["curve"][:len(first["curve"])]] == first["curve"]
    with pytest.raises(ValueError, match="holds a gaifo run, not imrl"):
        train_run("imrl", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path, overrides, placement="local",
                  progress=False, resume=True)


@pytest.mark.parametrize("algo", ["gail", "gaifo", "pmi_il"])
def test_gridworld_smoke(tmp_path, algo):
    """The same loop on Discrete cells: one-hot inputs, a linear policy from the GridWorld preset."""
    result, _ = train_and_score(algo, tmp_path, {"total_env_steps": 8192})
    assert result["env_steps"] >= 8192
    assert list(result["config"]["policy_hidden"]) == ([] if algo != "pmi_il" else [64, 64])


@pytest.mark.learning
@pytest.mark.parametrize("algo", ["gail", "gaifo"])
def test_adversarial_learns_gridworld(tmp_path, algo):
    """A tenth of the preset's budget takes both from uniform random actions (exact return -67.6)
    to above 3.0 out of the expert's 10.0; the full budget is in experiments/tabular_gridworld.py."""
    _, exact = train_and_score(algo, tmp_path, {"total_env_steps": 300_000})
    assert exact > 3.0, exact


@pytest.mark.learning
@pytest.mark.parametrize("algo", NAMES)
def test_learns_cartpole(tmp_path, algo):
    """Each reward, plugged into the same PPO loop with its CartPole preset, reaches a training return
    of 195 quickly."""
    overrides = dict(total_env_steps=60_000, stop_return=195.0, pretrain_steps=300) if algo in ("imrl", "pmi_il") \
        else dict(total_env_steps=60_000, stop_return=195.0)
    result = train_run(algo, "CartPole-v1", CARTPOLE_DEMOS, 2, tmp_path, overrides, eval_episodes=5,
                       placement="local", progress=False)
    assert result["metrics"]["stopped_early"], result["curve"][-5:]
    assert result["metrics"]["recent_train_return"] >= 195.0
    assert (tmp_path / CHECKPOINT_DIR / "policy.json").exists()
    if algo in ("imrl", "pmi_il"):         # trained on the expert's transitions: better than chance of 2
        assert result["metrics"]["ranking_eq20"] > 0.5


@pytest.mark.ray
def test_gaifo_on_ray(tmp_path, ray_session):
    result = train_run("gaifo", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path,
                       {"total_env_steps": 2048, "num_workers": 2, "envs_per_worker": 4, "rollout_steps": 32},
                       eval_episodes=2, placement="ray", progress=False)
    assert result["env_steps"] >= 2048 and result["metrics"]["iterations"] >= 4
    assert result["metrics"]["final_reward_loss"] > 0


def test_intermediate_greedy_evaluations_make_the_curve_and_can_stop(tmp_path):
    reports = []
    result = train_run("gaifo", "CartPole-v1", CARTPOLE_DEMOS, 0, tmp_path,
                       {"total_env_steps": 4096, "eval_every": 2, "eval_episodes": 2, "stop_eval_return": 1.0},
                       eval_episodes=2, placement="local", progress=False, reporter=reports.append)
    # every CartPole episode returns >= 8, so the first evaluation (after iteration 2) stops the run
    assert result["metrics"]["stopped_early"] and result["env_steps"] < 4096
    assert len(result["curve"]) == 1 and result["curve"][0][1] >= 8.0
    assert [r["return_mean"] for r in reports] == [result["curve"][0][1]]
    with pytest.raises(ValueError, match="eval_every > 0"):
        GAIfOConfig(stop_eval_return=400.0)


BOX_ACTIONS = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))


def test_gaussian_numpy_policy_matches_the_deployed_actor_and_samples_around_its_mean():
    net = ActorCritic(BOX4, BOX_ACTIONS, (8,))
    with torch.no_grad():
        for p in net.pi.parameters():
            p.normal_()
        net.log_std.fill_(-1.0)
    obs = np.random.default_rng(0).normal(size=(4000, 4)).astype(np.float32)
    greedy = NumpyPolicy(BOX4, BOX_ACTIONS, greedy=True)
    greedy.set_weights(net.acting_weights())
    mean, log_std = net.policy(torch.as_tensor(obs))
    expected = net.bounds.to_env(mean.clamp(-1, 1).detach().numpy())
    np.testing.assert_allclose(greedy.act(obs), expected, rtol=1e-4, atol=1e-5)
    sampling = NumpyPolicy(BOX4, BOX_ACTIONS, seed=0)
    sampling.set_weights(net.acting_weights())
    u = net.bounds.from_env(sampling.act(obs)) - mean.detach().numpy()   # raw samples: never clipped here
    np.testing.assert_allclose(u.std(axis=0), np.exp(-1.0), rtol=0.05)
    assert abs(u.mean()) < 0.02
    unset = NumpyPolicy(BOX4, BOX_ACTIONS).act(obs[:50])
    assert unset.shape == (50, 2) and (unset >= BOX_ACTIONS.low).all() and (unset <= BOX_ACTIONS.high).all()


def test_gaussian_ppo_moves_the_mean_towards_rewarded_actions():
    """Box actions through PPO: the reward is higher the closer the first action is to +1.5, so one
    update must move the policy's mean towards it (log-probs of the stored env-unit actions)."""
    rng = np.random.default_rng(0)
    t, b = 64, 8
    obs = rng.normal(size=(t, b, 4)).astype(np.float32)
    actions = np.stack([rng.uniform(-2, 2, (t, b)), rng.uniform(0, 1, (t, b))], axis=-1).astype(np.float32)
    reward = -np.abs(actions[..., 0] - 1.5).astype(np.float32)
    segment = Segment(obs, actions, obs + 0.1, np.ones((t, b), np.float32), np.zeros((t, b), bool),
                      np.zeros((t, b), bool), np.ones((t, b), bool), ())
    learner = PolicyLearner(GAIfOConfig(lr=3e-3, gamma=0.01, gae_lambda=0.0, minibatch_size=128, ent_coef=0.0),
                            BOX4, BOX_ACTIONS, 0)
    before = learner.net.policy(torch.as_tensor(obs[0]))[0][:, 0].mean().item()
    _, metrics = learner.update([reward], segment)
    after = learner.net.policy(torch.as_tensor(obs[0]))[0][:, 0].mean().item()
    assert np.isfinite(metrics["policy_loss"]) and after > before + 0.05, (before, after)


# --- absorbing states (DAC) ------------------------------------------------------------------------

def test_absorbing_rows_follow_each_terminated_transition():
    obs, next_obs = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[5.0, 6.0], [7.0, 8.0]])
    x, y, a = absorbing.expand(obs, next_obs, torch.tensor([False, True]), torch.tensor([1, 0]))
    sink = [0.0, 0.0, 1.0]
    assert x.tolist() == [[1, 2, 0], [3, 4, 0], [7, 8, 0], sink]
    assert y.tolist() == [[5, 6, 0], [7, 8, 0], sink, sink]
    assert a.tolist() == [1, 0, -1, -1]
    _, _, box = absorbing.expand(obs, next_obs, torch.tensor([True, True]), torch.ones(2, 3))
    assert box.tolist() == [[1.0] * 3] * 2 + [[0.0] * 3] * 4
    x, y, none = absorbing.expand(obs, next_obs, None)
    assert x.shape == y.shape == (2, 3) and not x[:, -1].any() and none is None
    # what a discriminator's one-hot makes of "no action"
    assert one_hot_or_none(torch.tensor([1, -1]), 3).tolist() == [[0, 1, 0], [0, 0, 0]]


def test_absorbed_return_is_the_geometric_sum():
    assert absorbing.absorbed_return(torch.tensor(1.0), torch.tensor(2.0), 0.9).item() == pytest.approx(1 + 0.9 * 20)
    with pytest.raises(ValueError, match="gamma < 1"):
        absorbing.absorbed_return(torch.tensor(1.0), torch.tensor(2.0), 1.0)
    with pytest.raises(ValueError, match="gamma < 1"):
        GAIfOConfig(absorbing=True, gamma=1.0)


def _replay(obs: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray, actions: np.ndarray) -> LocalHandle:
    replay = ReplayBuffer(len(obs), seed=0)
    replay.add(SampleBatch(obs=obs, actions=actions, rewards=np.zeros(len(obs), np.float32), next_obs=next_obs,
                           terminated=terminated, truncated=np.zeros(len(obs), bool)))
    return LocalHandle(replay)


@pytest.mark.parametrize("config_cls", [GAIfOConfig, GAILConfig])
def test_absorbing_reward_learns_whether_ending_pays(config_cls):
    """Acrobot's expert ends its episodes (termination is the goal) and an agent that never does is
    told apart: the absorbing state's reward exceeds that of going on, so ending pays. CartPole's
    expert never terminates (it is truncated at 500) and an agent that does is told apart: the
    absorbing state pays less than going on. One default reward (-log(1 - D) >= 0) for both."""
    for env_id, agent_ends, ending_pays in (("Acrobot-v1", False, True), ("CartPole-v1", True, False)):
        obs_space, action_space = _spaces(env_id)
        learner = RewardLearner(config_cls(absorbing=True, disc_lr=1e-3), env_id, obs_space, action_space,
                                DEMOS / f"{env_id}.parquet", seed=0)
        demos = learner.sampler.buffer
        acts = demos.actions if demos.actions is not None else np.zeros(len(demos), np.int64)   # GAIfO reads none
        rng = np.random.default_rng(0)
        rows = rng.integers(len(demos), size=2048)
        # the agent: the expert's own transitions, ending (or never) where the expert's do not
        terminated = rng.random(2048) < 0.05 if agent_ends else np.zeros(2048, bool)
        replay = _replay(demos.obs[rows], demos.next_obs[rows], terminated, acts[rows])
        for _ in range(100):
            learner.train(replay, 4)
        going_on = learner.rewards(demos.obs[:256], acts[:256], demos.next_obs[:256], np.zeros(256, bool))
        ending = learner.rewards(demos.obs[:256], acts[:256], demos.next_obs[:256], np.ones(256, bool))
        with torch.no_grad():
            sink = absorbing.absorbing_state(obs_space.shape[0], going_on)
            acted = torch.zeros(1, dtype=torch.long) if learner.model.uses_actions else None
            stay = learner.model.reward(sink, absorbing.no_action(acted, 1), sink).item()
        assert (stay > going_on.mean().item()) == ending_pays, (env_id, stay, going_on.mean().item())
        assert (ending >= going_on).all()       # -log(1 - D) >= 0: the absorbed return is never negative


def _spaces(env_id: str) -> tuple[gym.Space, gym.Space]:
    env = gym.make(env_id)
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


def test_absorbing_terminal_reward_by_hand():
    learner = RewardLearner(GAIfOConfig(absorbing=True, reward_offset=0.5, gamma=0.9), "CartPole-v1",
                            *_spaces("CartPole-v1"), CARTPOLE_DEMOS, seed=0)
    demos = learner.sampler.buffer
    obs, next_obs = demos.obs[:4], demos.next_obs[:4]
    terminated = np.array([False, True, False, True])
    got = learner.rewards(obs, None, next_obs, terminated)
    model = learner.model
    with torch.no_grad():
        x, y = absorbing.flagged(torch.as_tensor(obs)), absorbing.flagged(torch.as_tensor(next_obs))
        sink = absorbing.absorbing_state(4, x)
        plain = model.reward(x, None, y) + 0.5
        stay = model.reward(sink, None, sink) + 0.5
        for k in (1, 3):
            enter = model.reward(y[k:k + 1], None, sink) + 0.5
            plain[k] += 0.9 * (enter[0] + 0.9 * stay[0] / 0.1)
    torch.testing.assert_close(got, plain)


def test_absorbing_needs_vector_observations():
    with pytest.raises(ValueError, match="absorbing=true needs vector"):
        RewardLearner(GAIfOConfig(absorbing=True), "lfo_ray/GridWorld-v0", CELLS, gym.spaces.Discrete(4),
                      DETERMINISTIC_DEMOS, seed=0)


def test_absorbing_gaifo_trains_end_to_end(tmp_path):
    result = train_run("gaifo", "Acrobot-v1", DEMOS / "Acrobot-v1.parquet", 0, tmp_path / "run",
                       {"absorbing": "true", "total_env_steps": "2048", "rollout_steps": "32"}, eval_episodes=2,
                       placement="local", progress=False)
    assert result["config"]["absorbing"] is True and result["env_steps"] >= 2048
    assert np.isfinite(result["return_mean"])
