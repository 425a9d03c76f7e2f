"""The shipped experts load without RLlib and play far above random."""

import json
import subprocess
import sys

import numpy as np
import pytest

import lfo_ray  # noqa: F401
from lfo_ray.core import Policy
from lfo_ray.envs import GRIDWORLD, make_vector_env
from lfo_ray.envs.experts import (
    MLPPolicy, build_mlp, expert_files, expert_info, expert_source, load_expert,
)
from lfo_ray.envs.mountaincar_expert import MountainCarPlanner, dynamics
from lfo_ray.rollout import evaluate_policy

# (env, 10-episode threshold: well above random, a little below each expert's 100-episode mean)
THRESHOLDS = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0, "MountainCar-v0": -130.0}
SOURCES = {"CartPole-v1": "expert:rllib-ppo", "Acrobot-v1": "expert:rllib-ppo",
           "MountainCar-v0": "expert:value-iteration"}


@pytest.mark.parametrize("env_id", sorted(THRESHOLDS))
def test_shipped_expert_beats_threshold(env_id):
    expert = load_expert(env_id)
    assert isinstance(expert, Policy)
    returns = evaluate_policy(expert, make_vector_env(env_id, 10), 10, seed=0)
    assert len(returns) == 10
    assert returns.mean() >= THRESHOLDS[env_id], returns


@pytest.mark.parametrize("env_id", sorted(THRESHOLDS))
def test_info_describes_how_the_expert_was_made(env_id):
    info = expert_info(env_id)
    assert info["env_id"] == env_id
    assert expert_source(env_id) == info["source"] == SOURCES[env_id]
    assert info["evaluation"]["episodes"] == 100
    assert info["evaluation"]["mean_return"] >= THRESHOLDS[env_id]
    assert {"ray", "torch", "gymnasium"} <= set(info["versions"])
    weights, _ = expert_files(env_id)
    assert info["weights"]["bytes"] == len(weights.read_bytes())


# The shipped MuJoCo experts (lfo-ray SAC): 5 greedy episodes, threshold a little below each 100-episode mean.
MUJOCO_THRESHOLDS = {"InvertedPendulum-v5": 990.0, "InvertedDoublePendulum-v5": 9300.0, "HalfCheetah-v5": 4700.0,
                     "Hopper-v5": 3300.0, "Walker2d-v5": 3500.0}


@pytest.mark.parametrize("env_id", sorted(MUJOCO_THRESHOLDS))
def test_shipped_mujoco_expert_acts_in_bounds_and_beats_threshold(env_id):
    expert = load_expert(env_id)
    info = expert_info(env_id)
    assert expert_source(env_id) == info["source"] == "expert:lfo-sac"
    assert info["evaluation"]["episodes"] == 100 and info["evaluation"]["mean_return"] >= MUJOCO_THRESHOLDS[env_id]
    env = make_vector_env(env_id, 5)
    low, high = env.single_action_space.low, env.single_action_space.high
    obs = np.random.default_rng(0).normal(size=(7, *env.single_observation_space.shape)).astype(np.float32)
    actions = expert.act(obs)
    assert actions.shape == (7, *env.single_action_space.shape) and np.all((actions >= low) & (actions <= high))
    assert np.array_equal(actions, expert.act(obs))
    returns = evaluate_policy(expert, env, 5, seed=0)
    assert returns.mean() >= MUJOCO_THRESHOLDS[env_id], returns


def test_actions_are_batched_int64_and_deterministic():
    for env_id, obs_dim in (("CartPole-v1", 4), ("Acrobot-v1", 6), ("MountainCar-v0", 2)):
        expert = load_expert(env_id)
        obs = np.random.default_rng(0).uniform(-0.5, 0.5, (7, obs_dim)).astype(np.float32)
        actions = expert.act(obs)
        assert actions.shape == (7,) and actions.dtype == np.int64
        assert np.array_equal(actions, expert.act(obs))
        with pytest.raises(ValueError, match="shape"):
            expert.act(obs[0])


def test_classic_experts_do_not_import_rllib():
    code = ("import sys; from lfo_ray.envs.experts import load_expert; "
            "[load_expert(e).act(__import__('numpy').zeros((1, d), 'float32')) "
            "for e, d in (('CartPole-v1', 4), ('Acrobot-v1', 6), ('MountainCar-v0', 2))]; "
            "print(any(m.startswith('ray.rllib') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_gridworld_expert_scores_10_on_every_episode():
    returns = evaluate_policy(load_expert(GRIDWORLD), make_vector_env(GRIDWORLD, 16), 64, seed=0)
    assert len(returns) == 64 and np.all(returns == 10.0)
    assert expert_source(GRIDWORLD) == "expert:value-iteration"


def test_missing_weight_file_says_how_to_regenerate(monkeypatch, tmp_path):
    import lfo_ray.envs.experts as experts

    monkeypatch.setattr(experts, "expert_files",
                        lambda env_id: (tmp_path / f"{env_id}.pt", tmp_path / f"{env_id}.json"))
    with pytest.raises(FileNotFoundError, match=r"train_experts\.py --env Acrobot-v1"):
        experts.load_expert("Acrobot-v1")
    with pytest.raises(FileNotFoundError, match=r"Acrobot-v1\.json"):
        experts.expert_info("Acrobot-v1")


def test_unknown_env_and_changed_dynamics_are_refused():
    with pytest.raises(ValueError, match="no expert"):
        load_expert("Pendulum-v1")
    with pytest.raises(ValueError, match="goal_velocity"):
        load_expert("MountainCar-v0", goal_velocity=0.1)


def test_mlp_policy_is_argmax_of_logits():
    import torch

    arch = {"type": "mlp", "obs_dim": 3, "hidden": [5], "activation": "relu", "n_actions": 4}
    net = build_mlp(arch)
    policy = MLPPolicy(net, arch)
    obs = np.random.default_rng(1).normal(size=(9, 3)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(obs)).argmax(1).numpy()
    assert np.array_equal(policy.act(obs), expected)


def test_mountaincar_dynamics_match_gymnasium():
    import gymnasium as gym

    env = gym.make("MountainCar-v0").unwrapped
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(3)
    state = env.state.astype(np.float64)
    for _ in range(300):
        action = int(rng.integers(3))
        obs, _, terminated, _, _ = env.step(action)
        p, v, done = dynamics(state[:1], state[1:], action)
        state = np.array([p[0], v[0]])
        assert np.allclose(state, env.state, atol=1e-12) and bool(done[0]) == terminated
        if terminated:
            break


def test_mountaincar_planner_reaches_the_goal_from_anywhere():
    planner = load_expert("MountainCar-v0")
    assert isinstance(planner, MountainCarPlanner)
    rng = np.random.default_rng(0)
    position = rng.uniform(-1.2, 0.45, 64)
    velocity = rng.uniform(-0.07, 0.07, 64)
    done = np.zeros(64, dtype=bool)
    for _ in range(200):
        obs = np.stack([position, velocity], 1).astype(np.float32)
        position, velocity, ended = dynamics(position, velocity, planner.act(obs))
        done |= ended
    assert done.all()


def test_expert_info_is_plain_json():
    for env_id in THRESHOLDS:
        assert json.loads(json.dumps(expert_info(env_id))) == expert_info(env_id)
