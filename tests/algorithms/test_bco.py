"""BCO / BCO(alpha): losses, budget accounting, Ray placement, checkpoint/resume, learning."""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from lfo_ray.algorithms.bco import algorithm as bco_algorithm
from lfo_ray.algorithms.bco import networks as bco_networks
from lfo_ray.algorithms.bco.config import BCOConfig, interaction_schedule
from lfo_ray.algorithms.bco.algorithm import BCOLearner
from lfo_ray.algorithms.bco.losses import (behavioural_cloning_loss, gaussian_cloning_loss,
                                           gaussian_inverse_dynamics_loss, infer_actions, infer_gaussian_actions,
                                           inverse_dynamics_loss)
from lfo_ray.algorithms.bco.networks import InverseDynamicsNet, VectorEncoder, acting_policy
from lfo_ray.batch import SampleBatch
from lfo_ray.checkpoint import safe_torch_load
from lfo_ray.collect import EpisodeCollector
from lfo_ray.data import DatasetMetadata, ObsDataset, space_to_dict, write_dataset
from lfo_ray.envs import make_vector_env
from lfo_ray.experiment import evaluate_run, train_run

from tests.algorithms.pendulum_helpers import EPISODE_STEPS, PENDULUM
from tests.conftest import DEMOS

CARTPOLE = "CartPole-v1"
FAST = {"inverse_updates": 20, "policy_updates": 20, "batch_size": 32, "eval_episodes": 1,
        "inverse_hidden": (16,), "policy_hidden": (16,)}


class BalancingPolicy:
    """A PD rule that holds CartPole up for all 500 steps: the demonstrator of these tests."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        return (obs[:, 2] + 0.5 * obs[:, 3] + 0.05 * obs[:, 0] + 0.1 * obs[:, 1] > 0).astype(np.int64)



@pytest.fixture(scope="module")
def cartpole_demos(tmp_path_factory) -> Path:
    env = make_vector_env(CARTPOLE, 4)
    episodes = EpisodeCollector(env, BalancingPolicy(), seed=0).collect(4)
    metadata = DatasetMetadata(env_id=CARTPOLE, observation_space=space_to_dict(env.single_observation_space),
                               action_space=space_to_dict(env.single_action_space), source="test:pd-rule")
    return write_dataset(ObsDataset.from_episodes(episodes, metadata),
                         tmp_path_factory.mktemp("bco") / "cartpole.parquet")


# --- losses and label inference ------------------------------------------------------------------

def test_inverse_dynamics_loss_is_the_cross_entropy_of_the_actions_taken():
    logits = torch.tensor([[0.0, math.log(3.0)], [math.log(4.0), 0.0]])
    actions = torch.tensor([1, 1])
    # p(1 | row 0) = 3/4, p(1 | row 1) = 1/5; only row 0's argmax is the action taken.
    loss, metrics = inverse_dynamics_loss(logits, actions)
    assert loss.item() == pytest.approx((-math.log(0.75) - math.log(0.2)) / 2, abs=1e-6)
    assert metrics["inverse_accuracy"] == pytest.approx(0.5)


def test_label_inference_picks_the_most_likely_action():
    logits = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert infer_actions(logits).tolist() == [1, 0, 2]


def test_behavioural_cloning_loss_on_uniform_logits_is_log_num_actions():
    loss, metrics = behavioural_cloning_loss(torch.zeros(3, 2), torch.tensor([0, 1, 1]))
    assert loss.item() == pytest.approx(math.log(2))
    assert metrics["policy_entropy"] == pytest.approx(math.log(2))


def test_gaussian_inverse_dynamics_loss_is_the_nll_of_the_normalised_actions_taken():
    mean = torch.tensor([[0.0, 0.0], [0.5, -0.5]])
    log_std = torch.log(torch.tensor([[1.0, 1.0], [0.5, 0.5]]))
    actions = torch.tensor([[1.0, -1.0], [0.5, 0.0]])
    loss, metrics = gaussian_inverse_dynamics_loss((mean, log_std), actions)
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    # Row 0: two unit-Gaussian dims at z = 1; row 1: std 0.5, z = 0 and z = 1.
    row0 = 2 * (0.5 + half_log_2pi)
    row1 = 2 * (math.log(0.5) + half_log_2pi) + 0.5
    assert loss.item() == pytest.approx((row0 + row1) / 2, abs=1e-6)
    assert metrics["inverse_mse"] == pytest.approx((1 + 1 + 0 + 0.25) / 4)


def test_gaussian_label_inference_takes_the_mean_inside_the_bounds():
    mean = torch.tensor([[0.5, -1.7], [2.0, 0.0]])
    assert infer_gaussian_actions((mean, torch.zeros(2, 2))).tolist() == [[0.5, -1.0], [1.0, 0.0]]
    loss, metrics = gaussian_cloning_loss((torch.zeros(1, 1), torch.zeros(1, 1)), torch.zeros(1, 1))
    assert loss.item() == pytest.approx(0.5 * math.log(2 * math.pi))
    assert metrics["policy_mse"] == 0.0


def test_box_inverse_dynamics_recovers_the_actions_of_known_dynamics():
    # s' = s + 0.1 * a with a in Box([-2, -1], [2, 3]): the inverse model must read a off s' - s.
    obs_space = gym.spaces.Box(-10, 10, (2,), np.float32)
    action_space = gym.spaces.Box(np.array([-2.0, -1.0], np.float32), np.array([2.0, 3.0], np.float32))
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(4000, 2)).astype(np.float32)
    actions = rng.uniform(action_space.low, action_space.high, (4000, 2)).astype(np.float32)
    next_obs = obs + 0.1 * actions
    expert_actions = np.array([[1.0, 0.0], [-2.0, 3.0], [0.5, -0.5]], np.float32)
    expert_obs = rng.normal(size=(3, 2)).astype(np.float32)
    config = BCOConfig(inverse_hidden=(32,), batch_size=256, inverse_lr=3e-3, device="cpu")
    learner = BCOLearner(config, obs_space, action_space, expert_obs, expert_obs + 0.1 * expert_actions, seed=0)
    batch = SampleBatch(obs, actions, np.zeros(4000, np.float32), next_obs, np.zeros(4000, bool), np.zeros(4000, bool))
    learner.modules["inverse"].encoder.fit(torch.as_tensor(obs), torch.as_tensor(next_obs))
    for step in range(1500):
        metrics = learner.update(batch.take(rng.integers(4000, size=256)))
    assert metrics["inverse_mse"] < 1e-3
    summary = learner.label_demos()
    # Labels are normalised: (a - center) / half_range, center (0, 1), half range (2, 2).
    expected = (expert_actions - [0.0, 1.0]) / [2.0, 2.0]
    np.testing.assert_allclose(learner.expert_labels.numpy(), expected, atol=0.05)
    assert summary["label_mean"] == pytest.approx(expected.mean(0).tolist(), abs=0.05)
    metrics = learner.fit_policy(10, 3)
    assert set(metrics) == {"policy_loss", "policy_mse", "policy_entropy"}


def test_box_acting_policy_is_uniform_in_the_bounds_then_samples_the_gaussian():
    space = gym.spaces.Box(-1, 1, (3,))
    actions = gym.spaces.Box(np.array([0.0, -3.0], np.float32), np.array([1.0, 3.0], np.float32), seed=2)
    policy = acting_policy(space, actions, (8,))
    obs = np.zeros((4000, 3), np.float32)
    random = policy.act(obs)
    assert random.shape == (4000, 2) and actions.contains(random.max(0)) and actions.contains(random.min(0))
    assert random.mean(0) == pytest.approx([0.5, 0.0], abs=0.1)
    state = {k: v.numpy().copy() for k, v in policy.spec.build().state_dict().items()}
    last = max(k for k in state if k.startswith("head.") and k.endswith(".bias"))
    state[last.replace("bias", "weight")][:] = 0.0
    state[last][:] = [0.0, 0.5]                   # mean (0.5, 1.5) in env units
    state["log_std"][:] = math.log(0.1)           # std (0.05, 0.3) in env units
    policy.set_weights(state)
    sampled = policy.act(obs)
    assert sampled.mean(0) == pytest.approx([0.5, 1.5], abs=0.02)
    assert sampled.std(0) == pytest.approx([0.05, 0.3], rel=0.1)


def test_policy_head_stays_bounded_far_from_the_expert_states():
    # Expert states in a tiny region (InvertedPendulum's pole angle spreads ~0.002): standardised,
    # an off-demo state lies many stds out, where the policy's tanh head must stay bounded.
    space = gym.spaces.Box(-10, 10, (2,), np.float32)
    actions = gym.spaces.Box(-3.0, 3.0, (1,), np.float32)
    obs = np.random.default_rng(0).normal(scale=0.002, size=(64, 2)).astype(np.float32)
    learner = BCOLearner(BCOConfig(policy_hidden=(16, 16), device="cpu"), space, actions, obs, obs, seed=0)
    policy = learner.modules["policy"]
    assert any(isinstance(layer, torch.nn.Tanh) for layer in policy.head)
    assert not any(isinstance(layer, torch.nn.ReLU) for layer in policy.head)
    assert any(isinstance(layer, torch.nn.ReLU) for layer in learner.modules["inverse"].head)
    # Policies saved before the spec recorded the activation keep their ReLU heads.
    old = bco_networks.build_policy_net(space, actions, (16,), (16, 32))
    assert any(isinstance(layer, torch.nn.ReLU) for layer in old.head)


def test_each_policy_fit_starts_from_a_fresh_policy():
    # Warm-started over every iteration the policy over-fits the labels (InvertedPendulum: 1000 -> ~150).
    space = gym.spaces.Box(-10, 10, (2,), np.float32)
    actions = gym.spaces.Box(-3.0, 3.0, (1,), np.float32)
    obs = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    learner = BCOLearner(BCOConfig(policy_hidden=(16,), device="cpu"), space, actions, obs, obs, seed=0)
    learner.expert_labels = torch.zeros(64, 1)
    learner.fit_policy(7, 16)
    first = learner.modules["policy"]
    learner.fit_policy(7, 16)
    assert learner.modules["policy"] is not first
    optimizer = learner.optimizers["policy"]
    assert {int(optimizer.state[p]["step"]) for p in learner.modules["policy"].parameters()} == {7}
    torch.testing.assert_close(learner.modules["policy"].encoder.obs_features.obs.mean, torch.as_tensor(obs).mean(0))


# --- budget split and networks -------------------------------------------------------------------

def test_interaction_schedule_spends_the_budget_exactly():
    assert interaction_schedule(1000, 0.0, 0) == (1000,)
    assert interaction_schedule(1000, 1.0, 9) == (100,) * 10
    assert interaction_schedule(1000, 0.5, 3) == (400, 200, 200, 200)
    assert interaction_schedule(1000, 1.0, 6) == (143,) * 6 + (142,)
    with pytest.raises(ValueError, match="at least one"):
        interaction_schedule(3, 1.0, 5)
    with pytest.raises(ValueError, match="plain BCO"):
        BCOConfig(alpha=0.0, iterations=3)


def test_vector_pair_encoder_standardises_state_and_change():
    encoder = VectorEncoder(gym.spaces.Box(-1, 1, (2,)), pair=True)
    obs = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    next_obs = obs + torch.tensor([[0.001, 0.0], [-0.001, 0.0], [0.001, 0.0]])
    encoder.fit(obs, next_obs)
    features = encoder(obs, next_obs)
    # The state is standardised (on s and s' together), the tiny change in the first coordinate on its
    # own to a unit-scale feature; the constant change stays finite.
    assert features.shape == (3, 4)
    assert features[:, :3].std(dim=0, unbiased=False).tolist() == pytest.approx([1.0, 1.0, 1.0], abs=0.01)
    assert torch.isfinite(features).all()


def test_image_observations_go_through_the_conv_encoder():
    space = gym.spaces.Box(0, 255, (12, 12, 3), np.uint8)
    net = InverseDynamicsNet(space, 4, (8,), (4, 8))
    images = torch.randint(0, 256, (5, 12, 12, 3), dtype=torch.uint8)
    assert net(images, images).shape == (5, 4)
    actions = gym.spaces.Discrete(4, seed=0)
    policy = acting_policy(space, actions, (8,), (4, 8), greedy=True)
    policy.set_weights({k: v.numpy() for k, v in policy.spec.build().state_dict().items()})
    assert policy.act(images.numpy()).shape == (5,)


def test_acting_policy_is_random_until_weights_arrive_then_samples_them():
    space = gym.spaces.Box(-1, 1, (3,))
    policy = acting_policy(space, gym.spaces.Discrete(3, seed=1), (8,))
    obs = np.zeros((3000, 3), np.float32)
    assert np.bincount(policy.act(obs), minlength=3).min() > 900
    state = {k: v.numpy().copy() for k, v in policy.spec.build().state_dict().items()}
    last = max(k for k in state if k.startswith("head.") and k.endswith(".bias"))
    state[last.replace("bias", "weight")][:] = 0.0
    state[last][:] = [0.0, 0.0, math.log(8.0)]  # pi = (0.1, 0.1, 0.8) everywhere
    policy.set_weights(state)
    counts = np.bincount(policy.act(obs), minlength=3) / len(obs)
    assert counts == pytest.approx([0.1, 0.1, 0.8], abs=0.03)


# --- training runs -------------------------------------------------------------------------------

def _replay_added(out: Path) -> int:
    return safe_torch_load(out / "checkpoint" / "state.pt")["replay"]["added"]


def test_budget_is_spent_exactly_in_process(cartpole_demos, tmp_path):
    overrides = dict(FAST, budget=157, alpha=0.5, iterations=3, num_workers=2)
    result = train_run("bco", CARTPOLE, cartpole_demos, 0, tmp_path, overrides=overrides,
                       placement="local", eval_episodes=2, progress=False)
    schedule = interaction_schedule(157, 0.5, 3)
    assert result["env_steps"] == 157 == sum(schedule)
    assert [step for step, _ in result["curve"]] == np.cumsum(schedule).tolist()
    assert _replay_added(tmp_path) == 157


@pytest.mark.ray
def test_ray_run_places_components_and_spends_the_budget(ray_session, cartpole_demos, tmp_path):
    overrides = dict(FAST, budget=60, alpha=1.0, iterations=1)
    result = train_run("bco", CARTPOLE, cartpole_demos, 1, tmp_path, overrides=overrides,
                       placement="ray", eval_episodes=2, progress=False)
    assert result["env_steps"] == 60 and result["placement"] == "ray"
    assert _replay_added(tmp_path) == 60


def test_async_sampling_in_process_spends_the_budget_phase_by_phase(cartpole_demos, tmp_path):
    overrides = dict(FAST, budget=157, alpha=0.5, iterations=3, num_workers=2, sampling="async")
    result = train_run("bco", CARTPOLE, cartpole_demos, 0, tmp_path, overrides=overrides,
                       placement="local", eval_episodes=2, progress=False)
    assert result["env_steps"] == 157 and result["metrics"]["max_policy_lag"] == 0
    assert [step for step, _ in result["curve"]] == np.cumsum(interaction_schedule(157, 0.5, 3)).tolist()
    assert _replay_added(tmp_path) == 157


@pytest.mark.ray
def test_async_sampling_on_ray_with_sharded_replay(ray_session, cartpole_demos, tmp_path):
    overrides = dict(FAST, budget=161, alpha=0.5, iterations=3, num_workers=2, sampling="async",
                     max_policy_lag=1, replay_shards=2)
    result = train_run("bco", CARTPOLE, cartpole_demos, 1, tmp_path, overrides=overrides,
                       placement="ray", eval_episodes=2, progress=False)
    assert result["env_steps"] == 161 and result["metrics"]["max_policy_lag"] <= 1
    shards = safe_torch_load(tmp_path / "checkpoint" / "state.pt")["replay"]
    assert len(shards) == 2 and sum(shard["added"] for shard in shards) == 161


class Crash(Exception):
    pass


def test_resume_continues_the_counters(cartpole_demos, tmp_path, monkeypatch):
    overrides = dict(FAST, budget=90, alpha=1.0, iterations=2)
    real_save, saves = bco_algorithm.save_checkpoint, []

    def crash_after_first_phase(directory, state):
        real_save(directory, state)
        saves.append(state["phase"])
        raise Crash

    monkeypatch.setattr(bco_algorithm, "save_checkpoint", crash_after_first_phase)
    with pytest.raises(Crash):
        train_run("bco", CARTPOLE, cartpole_demos, 0, tmp_path, overrides=overrides, placement="local",
                  progress=False)
    monkeypatch.setattr(bco_algorithm, "save_checkpoint", real_save)
    first = safe_torch_load(tmp_path / "checkpoint" / "state.pt")
    assert (saves, first["env_steps"], first["learner"]["updates"]) == ([1], 30, 40)

    result = train_run("bco", CARTPOLE, cartpole_demos, 0, tmp_path, overrides=overrides, placement="local",
                       resume=True, progress=False)
    final = safe_torch_load(tmp_path / "checkpoint" / "state.pt")
    assert result["env_steps"] == 90 and [s for s, _ in result["curve"]] == [30, 60, 90]
    assert final["learner"]["updates"] == 3 * 40 and final["replay"]["added"] == 90
    assert evaluate_run(tmp_path, episodes=2)["episodes"] == 2  # `lfo evaluate` loads the policy

    with pytest.raises(ValueError, match="config.budget=90, this command gives 120"):
        train_run("bco", CARTPOLE, cartpole_demos, 0, tmp_path, overrides=dict(overrides, budget=120),
                  placement="local", resume=True, progress=False)


@pytest.mark.ray
def test_async_resume_on_ray_continues_from_the_steps_run_ahead(ray_session, cartpole_demos, tmp_path, monkeypatch):
    # The workers run into phase 2 while phase 1 is fitted; the checkpoint pauses them, so the saved
    # replay and env-step count agree, whatever they had reached.
    overrides = dict(FAST, budget=90, alpha=1.0, iterations=2, sampling="async", eval_episodes=0)
    real_save = bco_algorithm.save_checkpoint

    def crash_after_first_phase(directory, state):
        real_save(directory, state)
        raise Crash

    monkeypatch.setattr(bco_algorithm, "save_checkpoint", crash_after_first_phase)
    with pytest.raises(Crash):
        train_run("bco", CARTPOLE, cartpole_demos, 0, tmp_path, overrides=overrides, placement="ray",
                  progress=False)
    monkeypatch.setattr(bco_algorithm, "save_checkpoint", real_save)
    first = safe_torch_load(tmp_path / "checkpoint" / "state.pt")
    assert 30 <= first["env_steps"] == first["replay"]["added"] <= 60
    result = train_run("bco", CARTPOLE, cartpole_demos, 0, tmp_path, overrides=overrides, placement="ray",
                       resume=True, progress=False)
    assert result["env_steps"] == 90 and _replay_added(tmp_path) == 90


@pytest.mark.learning
def test_bco_imitates_cartpole_from_1000_interactions(cartpole_demos, tmp_path):
    shipped = DEMOS / f"{CARTPOLE}.parquet"
    demos = shipped if shipped.exists() else cartpole_demos
    overrides = {"budget": 1000, "alpha": 1.0, "iterations": 1, "inverse_updates": 500,
                 "policy_updates": 500, "eval_episodes": 0}
    result = train_run("bco", CARTPOLE, demos, 0, tmp_path, overrides=overrides, placement="local",
                       eval_episodes=10, progress=False)
    assert result["env_steps"] == 1000
    assert result["return_mean"] >= 450


@pytest.mark.learning
def test_bco_imitates_a_linear_controller_on_the_inverted_pendulum(pendulum_demos, tmp_path):
    overrides = {"budget": 300, "alpha": 0.5, "iterations": 1, "inverse_updates": 500, "policy_updates": 500,
                 "eval_episodes": 0}
    result = train_run("bco", PENDULUM, pendulum_demos, 0, tmp_path, overrides=overrides, placement="local",
                       eval_episodes=10, progress=False)
    assert result["env_steps"] == 300
    assert result["demo_return_mean"] == EPISODE_STEPS
    assert result["return_mean"] >= 0.9 * result["demo_return_mean"], result["metrics"]
