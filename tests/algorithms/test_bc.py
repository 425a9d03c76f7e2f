"""Behavioural cloning: the losses, a short learning run on the real GridWorld, and Box actions
(a linear map, and a linear controller on MuJoCo's InvertedPendulum)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from lfo_ray.algorithms.bc.algorithm import BCLearner
from lfo_ray.algorithms.bc.config import BCConfig
from lfo_ray.algorithms.bc.losses import bc_loss, gaussian_bc_loss
from lfo_ray.algorithms.bc.networks import CategoricalPolicyNet, mlp_policy
from lfo_ray.experiment import train_run
from lfo_ray.policy import read_policy

from tests.algorithms.gridworld_helpers import train_and_score
from tests.algorithms.pendulum_helpers import EPISODE_STEPS, PENDULUM



def test_bc_loss_is_negative_log_likelihood():
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    loss, parts = bc_loss(logits, torch.tensor([1, 0]))
    expected = (np.log(2) - np.log(np.exp(2) / (np.exp(2) + 1))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert parts["accuracy"] == pytest.approx(0.5)
    with_entropy, _ = bc_loss(logits, torch.tensor([1, 0]), ent_weight=1.0)
    assert with_entropy.item() == pytest.approx(expected - parts["entropy"], rel=1e-6)


def test_policy_network_handles_discrete_and_box_observations():
    discrete = CategoricalPolicyNet(gym.spaces.Discrete(5), 3, (8,))
    assert discrete(torch.tensor([0, 4])).shape == (2, 3)
    box = mlp_policy(CategoricalPolicyNet(gym.spaces.Box(-1, 1, (4,)), 2, (8,)), greedy=True)
    assert box.act(np.zeros((3, 4), dtype=np.float32)).shape == (3,)


def test_default_deploys_the_gaussian_mean_and_samples_the_categorical():
    box, discrete = gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(3)
    obs_space = gym.spaces.Box(-1, 1, (4,))
    assert BCLearner(BCConfig(), obs_space, box, 0).policy().greedy is True
    assert BCLearner(BCConfig(), obs_space, discrete, 0).policy().greedy is False
    assert BCLearner(BCConfig(greedy=False), obs_space, box, 0).policy().greedy is False
    assert BCLearner(BCConfig(greedy=True), obs_space, discrete, 0).policy().greedy is True


def test_defaults_follow_the_action_space_and_explicit_values_win():
    box, discrete = gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(3)
    obs_space = gym.spaces.Box(-1, 1, (4,))
    wide = BCLearner(BCConfig(), obs_space, box, 0)
    assert (wide.config.hidden, wide.config.train_steps) == ((256, 256), 10_000)
    assert [m.out_features for m in wide.net.modules() if isinstance(m, torch.nn.Linear)] == [256, 2]
    small = BCLearner(BCConfig(), obs_space, discrete, 0)
    assert (small.config.hidden, small.config.train_steps) == ((64,), 2_000)
    assert small.policy().spec.kwargs["hidden"] == [64]
    chosen = BCConfig(hidden=(32,), train_steps=7).for_actions(box)
    assert (chosen.hidden, chosen.train_steps, chosen.greedy) == ((32,), 7, True)
    assert BCConfig(hidden=()).for_actions(discrete).hidden == ()


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="lr"):
        BCConfig(lr=0.0)


def test_bc_learns_gridworld(tmp_path):
    result, exact = train_and_score("bc", tmp_path, {"train_steps": 400})
    assert result["env_steps"] == 0
    assert exact > 9.0, exact


# --- Box actions ---------------------------------------------------------------------------------

def test_gaussian_bc_loss_is_the_negative_log_likelihood_of_normalised_actions():
    mean, log_std = torch.tensor([[0.0, 0.5]]), torch.tensor([[0.0, math.log(0.5)]])
    actions = torch.tensor([[1.0, 0.5]])
    loss, parts = gaussian_bc_loss(mean, log_std, actions)
    # N(1; 0, 1) and N(0.5; 0.5, 0.25): -log p = 0.5 + log sqrt(2 pi) and log 0.5 + log sqrt(2 pi).
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    assert loss.item() == pytest.approx(0.5 + half_log_2pi + math.log(0.5) + half_log_2pi, rel=1e-6)
    assert parts["mse"] == pytest.approx(0.5)
    entropy = 2 * 0.5 * math.log(2 * math.pi * math.e) + math.log(0.5)
    assert parts["entropy"] == pytest.approx(entropy, rel=1e-6)
    with_entropy, _ = gaussian_bc_loss(mean, log_std, actions, ent_weight=1.0)
    assert with_entropy.item() == pytest.approx(loss.item() - entropy, rel=1e-6)


def test_bc_learns_a_linear_map_onto_box_actions(tmp_path):
    rng = np.random.default_rng(0)
    obs_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 4.0], np.float32))
    weights = rng.uniform(-0.5, 0.5, (4, 2))
    obs = rng.uniform(-1, 1, (2000, 4)).astype(np.float32)
    actions = (obs @ weights + [0.0, 2.0]).astype(np.float32)     # inside the bounds
    learner = BCLearner(BCConfig(hidden=(), lr=1e-2, batch_size=256, greedy=True), obs_space, action_space, 0)
    metrics = learner.train(obs, actions, 1500)
    policy = learner.policy()
    assert policy.spec.architecture == "gaussian"
    test_obs = rng.uniform(-1, 1, (200, 4)).astype(np.float32)
    np.testing.assert_allclose(policy.act(test_obs), test_obs @ weights + [0.0, 2.0], atol=0.05)
    assert metrics["mse"] < 1e-3
    saved = read_policy(policy.save(tmp_path))
    np.testing.assert_allclose(saved.act(test_obs), policy.act(test_obs))


@pytest.mark.learning
def test_bc_imitates_a_linear_controller_on_the_inverted_pendulum(pendulum_demos, tmp_path):
    # The Box default net (256x256) at a fifth of its default steps: the full default is the benchmark's.
    result = train_run("bc", PENDULUM, pendulum_demos, 0, tmp_path, overrides={"train_steps": 2000},
                       placement="local", eval_episodes=10, progress=False)
    assert result["demo_return_mean"] == EPISODE_STEPS
    assert result["return_mean"] >= 0.9 * result["demo_return_mean"], result["curve"]
