import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import lfo_ray  # noqa: F401
from lfo_ray.envs import make_vector_env
from lfo_ray.envs.experts import load_expert
from lfo_ray.envs.gridworld import (
    DOWN, GOAL_REWARD, LEFT, RIGHT, UP, GridWorldSpec, GridWorldVectorEnv, noise_matrix,
    reachable_states, value_iteration,
)
from lfo_ray.rollout import evaluate_policy

SHARED_WORLD = Path(__file__).resolve().parents[3] / "shared" / "data" / "tutorial_gridworld.json"


def test_seed_1000_reproduces_the_tutorial_world():
    generated = GridWorldSpec.from_seed(1000)
    shipped = GridWorldSpec.tutorial()
    assert np.array_equal(generated.reward_map, shipped.reward_map)
    assert np.array_equal(generated.valid_states, shipped.valid_states)
    assert (generated.reward_map == -1).sum() == 833 and generated.reward_map[-1] == GOAL_REWARD
    if SHARED_WORLD.exists():
        reference = json.loads(SHARED_WORLD.read_text())
        assert generated.reward_map.tolist() == reference["reward_map"]
        assert {tuple(s) for s in generated.valid_states.tolist()} == {
            tuple(s) for s in reference["valid_states"]
        }


def test_make_builds_the_seeded_world_with_its_maps():
    env = gym.make("lfo_ray/GridWorld-v0", seed=1000).unwrapped
    assert env.reward_map.shape == (2500,)
    assert env.valid_states.ndim == 2 and env.valid_states.shape[1] == 2
    assert np.array_equal(env.reward_map, GridWorldSpec.tutorial().reward_map)


def test_valid_states_are_connected_to_the_goal_without_pits():
    # 3x3: the goal's column is blocked above, so only the bottom row reaches it.
    reward_map = np.array([0, 0, -1,
                           0, -1, -1,
                           0, 0, 10])
    valid = reachable_states(reward_map, 3)
    assert {tuple(s) for s in valid.tolist()} == {(2, 1), (2, 0), (1, 0), (0, 0), (0, 1)}


def _tiny() -> GridWorldSpec:
    reward_map = np.array([0, -1, 0,
                           0, 0, 0,
                           0, 0, 10])
    return GridWorldSpec(3, reward_map, reachable_states(reward_map, 3))


def test_move_table_rules():
    next_state, reward = _tiny().move_table()
    assert next_state[0, UP] == 0 and reward[0, UP] == -1.0        # border: stay, -1
    assert next_state[0, LEFT] == 0 and reward[0, LEFT] == -1.0
    assert next_state[0, RIGHT] == 1 and reward[0, RIGHT] == -1.0  # entering a -1 cell
    assert next_state[0, DOWN] == 3 and reward[0, DOWN] == 0.0
    assert next_state[5, DOWN] == 8 and reward[5, DOWN] == 10.0    # entering the goal


def test_episode_ends_at_goal_and_truncates_at_horizon():
    env = GridWorldVectorEnv(2, spec=_tiny(), max_steps=3)
    env.reset(seed=0)
    env._states[:] = [5, 0]
    _, rewards, terminated, truncated, info = env.step(np.array([DOWN, UP]))
    assert rewards.tolist() == [10.0, -1.0] and terminated.tolist() == [True, False]
    assert info["final_obs"][0] == 8 and info["_final_obs"].tolist() == [True, False]
    env.step(np.array([UP, UP]))
    _, _, terminated, truncated, _ = env.step(np.array([UP, UP]))
    assert truncated[1] and not terminated[1]


def test_starts_are_uniform_over_valid_states():
    env = GridWorldVectorEnv(20_000, seed=1000)
    starts, _ = env.reset(seed=3)
    valid = set(GridWorldSpec.tutorial().valid_state_ids.tolist())
    assert set(starts.tolist()) <= valid
    counts = np.bincount(starts, minlength=2500)[sorted(valid)]
    expected = len(starts) / len(valid)
    assert counts.min() > 0 and abs(counts.mean() - expected) < 1e-9
    assert counts.std() < 3 * np.sqrt(expected)


def test_noisy_transitions_follow_0_7_and_0_1():
    assert np.allclose(noise_matrix(True).sum(axis=1), 1.0)
    env = GridWorldVectorEnv(40_000, spec=_tiny(), transition_prob=True)
    env.reset(seed=0)
    env._states[:] = 4  # centre: every move lands on a different cell
    next_states, *_ = env.step(np.full(40_000, RIGHT))
    freq = np.bincount(next_states, minlength=9) / 40_000
    assert abs(freq[5] - 0.7) < 0.01
    for cell in (1, 7, 3):
        assert abs(freq[cell] - 0.1) < 0.01


def test_vector_and_single_env_agree():
    spec = GridWorldSpec.tutorial()
    single = gym.make("lfo_ray/GridWorld-v0").unwrapped
    single.reset(seed=0)
    vector = GridWorldVectorEnv(1, spec=spec)
    vector.reset(seed=0)
    rng = np.random.default_rng(0)
    state = int(spec.valid_state_ids[7])
    single._state, vector._states[:] = state, state
    for action in rng.integers(4, size=30):
        s1, r1, t1, _, _ = single.step(int(action))
        s2, r2, t2, _, info = vector.step(np.array([action]))
        assert (s1, r1, t1) == (int(info.get("final_obs", s2)[0]), float(r2[0]), bool(t2[0]))
        if t1:
            break


def test_value_iteration_expert_scores_10_from_every_valid_start():
    spec = GridWorldSpec.tutorial()
    _, greedy = value_iteration(spec, gamma=0.999)
    next_state, reward = spec.move_table()
    states = spec.valid_state_ids.copy()
    returns = np.zeros(len(states))
    alive = np.ones(len(states), bool)
    for _ in range(200):
        actions = greedy[states]
        returns += np.where(alive, reward[states, actions], 0.0)
        states = np.where(alive, next_state[states, actions], states)
        alive &= states != spec.goal
    assert not alive.any() and np.all(returns == 10.0)
    sampled = evaluate_policy(load_expert("lfo_ray/GridWorld-v0"),
                              make_vector_env("lfo_ray/GridWorld-v0", 50), 200, seed=1)
    assert np.all(sampled == 10.0)


def test_bad_world_file_is_named(tmp_path):
    bad = tmp_path / "world.json"
    bad.write_text(json.dumps({"reward_map": [0, 0, 10]}))
    with pytest.raises(ValueError, match="world.json"):
        GridWorldSpec.from_file(bad)
    with pytest.raises(ValueError, match="no such GridWorld definition"):
        GridWorldSpec.from_file(tmp_path / "missing.json")
