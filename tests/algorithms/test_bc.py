"""Behavioural cloning: the loss, and a short learning run on the real GridWorld."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from lfo_ray.algorithms.bc.config import BCConfig
from lfo_ray.algorithms.bc.losses import bc_loss
from lfo_ray.algorithms.bc.networks import CategoricalPolicyNet, mlp_policy

from tests.algorithms.gridworld_helpers import train_and_score



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


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="lr"):
        BCConfig(lr=0.0)


def test_bc_learns_gridworld(tmp_path):
    result, exact = train_and_score("bc", tmp_path, {"train_steps": 400})
    assert result["env_steps"] == 0
    assert exact > 9.0, exact
