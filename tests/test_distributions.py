"""Action distributions against torch.distributions on hand inputs, and the Gaussian deployed policy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Independent, Normal, TransformedDistribution
from torch.distributions.transforms import TanhTransform

from lfo_ray.distributions import (
    ActionBounds,
    categorical_log_prob_entropy,
    gaussian_entropy,
    gaussian_log_prob,
    squash,
    squashed_sample,
)
from lfo_ray.policy import PolicySpec, load_policy, policy_from_state

MEAN = torch.tensor([[0.0, 1.0], [-0.5, 2.0], [3.0, -1.0]])
LOG_STD = torch.tensor([[0.0, -1.0], [0.5, 0.0], [-2.0, 1.0]])
X = torch.tensor([[0.3, 0.9], [-1.0, 2.5], [2.9, 0.0]])


def test_gaussian_log_prob_and_entropy_match_torch():
    reference = Independent(Normal(MEAN, LOG_STD.exp()), 1)
    torch.testing.assert_close(gaussian_log_prob(MEAN, LOG_STD, X), reference.log_prob(X))
    torch.testing.assert_close(gaussian_entropy(LOG_STD), reference.entropy())


def test_squashed_sample_log_prob_matches_tanh_transformed_normal():
    noise = torch.tensor([[0.1, -0.4], [2.0, 0.3], [-1.5, 0.0]])
    y, log_p = squashed_sample(MEAN, LOG_STD, noise)
    u = MEAN + LOG_STD.exp() * noise
    torch.testing.assert_close(y, torch.tanh(u))
    reference = Independent(TransformedDistribution(Normal(MEAN, LOG_STD.exp()), [TanhTransform()]), 1)
    torch.testing.assert_close(log_p, reference.log_prob(torch.tanh(u)), rtol=1e-4, atol=1e-4)


def test_squashed_log_prob_stays_finite_far_in_the_tail():
    y, log_p = squashed_sample(torch.zeros(1, 1), torch.zeros(1, 1), torch.full((1, 1), 40.0))
    assert y.item() == 1.0 and torch.isfinite(log_p).all()


def test_categorical_matches_torch():
    logits = torch.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, -3.0]])
    actions = torch.tensor([2, 0])
    log_p, entropy = categorical_log_prob_entropy(logits, actions)
    torch.testing.assert_close(log_p, Categorical(logits=logits).log_prob(actions))
    torch.testing.assert_close(entropy, Categorical(logits=logits).entropy())


def test_action_bounds_round_trip_and_refuse_unbounded_spaces():
    bounds = ActionBounds.of(gym.spaces.Box(np.array([-2.0, 0.0]), np.array([2.0, 1.0])))
    np.testing.assert_allclose(bounds.to_env([[-1, -1], [1, 1], [0, 0]]), [[-2, 0], [2, 1], [0, 0.5]])
    actions = np.array([[0.5, 0.25]], np.float32)
    np.testing.assert_allclose(bounds.to_env(bounds.from_env(actions)), actions)
    with pytest.raises(ValueError, match="finite bounds"):
        ActionBounds.of(gym.spaces.Box(-np.inf, np.inf, (2,)))
    assert squash(np.array([3.0, -0.5]), "clip").tolist() == [1.0, -0.5]


@pytest.mark.parametrize("squash_kind", ["clip", "tanh"])
def test_gaussian_policy_acts_inside_the_bounds_and_round_trips_through_disk(tmp_path, squash_kind):
    obs_space = gym.spaces.Box(-1.0, 1.0, (3,))
    action_space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
    spec = PolicySpec("gaussian", obs_space, action_space, {"hidden": [8], "squash": squash_kind,
                                                              "state_dependent_std": squash_kind == "tanh"},
                      greedy=False)
    net = spec.build()
    with torch.no_grad():
        net.body.rest[-1].bias.fill_(5.0)        # means far past the upper bound
    policy = policy_from_state(spec, net.state_dict(), seed=0)
    obs = np.zeros((64, 3), np.float32)
    actions = policy.act(obs)
    assert actions.shape == (64, 2) and actions.dtype == np.float32
    assert (actions >= action_space.low).all() and (actions <= action_space.high).all()
    assert policy.act(obs[0]).shape == (2,)
    policy.save(tmp_path)
    again = load_policy(tmp_path, seed=0)
    np.testing.assert_allclose(again.act(obs), actions)
    greedy, _ = again.predict(obs[:2], deterministic=True)
    np.testing.assert_allclose(greedy, np.tile(action_space.high, (2, 1)), atol=1e-3)
    with pytest.raises(ValueError, match="Discrete action spaces"):
        again.probs(obs)


def test_policy_spec_refuses_unbounded_box_actions():
    with pytest.raises(ValueError, match="finite bounds"):
        PolicySpec("gaussian", gym.spaces.Box(-1.0, 1.0, (3,)), gym.spaces.Box(-np.inf, np.inf, (2,)))
