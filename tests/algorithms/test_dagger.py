"""DAgger: a short aggregation run on the real GridWorld, labelled by the value-iteration expert,
and on InvertedPendulum-v5's Box actions, labelled by a linear controller registered in Python."""

from __future__ import annotations

import numpy as np
import pytest

from lfo_ray import load_policy
from lfo_ray.algorithms.dagger.config import DAggerConfig
from lfo_ray.data import ObsDataset
from lfo_ray.envs.experts import register_expert
from lfo_ray.experiment import train_run

from tests.algorithms.gridworld_helpers import train_and_score
from tests.algorithms.pendulum_helpers import EPISODE_STEPS, PENDULUM



def test_config_rejects_bad_beta():
    with pytest.raises(ValueError, match="beta"):
        DAggerConfig(beta=1.5)


def test_dagger_aggregates_and_learns_gridworld(tmp_path):
    overrides = {"train_steps": 400, "rounds": 2, "steps_per_round": 50, "round_train_steps": 200,
                 "curve_episodes": 16}
    result, exact = train_and_score("dagger", tmp_path, overrides)
    assert result["env_steps"] == 2 * 50 * 64
    assert result["metrics"]["dataset_size"] > 55_386
    assert len(result["curve"]) == 2
    assert exact > 9.0, exact


@pytest.fixture
def registered_pendulum_expert(pendulum_controller):
    register_expert(PENDULUM, pendulum_controller)
    yield pendulum_controller
    register_expert(PENDULUM, None)


def test_an_env_without_an_expert_is_refused_with_the_ways_to_give_one(tmp_path):
    # Pendulum-v1 (Box actions) ships no expert.
    states = np.random.default_rng(0).uniform(-1, 1, (6, 3)).astype(np.float32)
    demos = ObsDataset.from_arrays(states[:-1], states[1:], actions=np.zeros((5, 1), np.float32), env_id="Pendulum-v1")
    with pytest.raises(ValueError, match="no expert for environment 'Pendulum-v1'.*register_expert"):
        train_run("dagger", "Pendulum-v1", demos, 0, tmp_path, placement="local", progress=False)


@pytest.mark.learning
def test_dagger_on_box_actions_with_an_expert_registered_in_python(registered_pendulum_expert, pendulum_demos,
                                                                   tmp_path):
    overrides = {"train_steps": 300, "rounds": 2, "num_envs": 4, "steps_per_round": 50, "round_train_steps": 200,
                 "curve_episodes": 2, "greedy": True}
    result = train_run("dagger", PENDULUM, pendulum_demos, 0, tmp_path, overrides, eval_episodes=10,
                       placement="local", progress=False)
    assert result["env_steps"] == 2 * 50 * 4
    assert result["metrics"]["dataset_size"] == 4 * EPISODE_STEPS + 2 * 50 * 4
    assert load_policy(tmp_path).spec.architecture == "gaussian"
    assert result["return_mean"] >= 0.9 * result["demo_return_mean"], result["curve"]
