"""The tabular toolkit and the IRL losses on a 3x3 grid small enough to check by hand.

    0  1  2        rewards of entering:   0   0   0
    3  4  5                               0  -1   0
    6  7  8 (goal)                        0   0  10
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from lfo_ray.algorithms.maxent_irl.losses import backward_pass
from lfo_ray.algorithms.relent_irl.losses import (
    dual_gradient,
    hoeffding_epsilon,
    log_importance_ratios,
    start_log_ratios,
    trajectory_weights,
)
from lfo_ray.algorithms.tabular import (
    TabularModel,
    demo_start_distribution,
    demo_state_counts,
    deployed_probs,
    expected_return,
    policy_returns,
    soft_value_iteration,
    state_features,
    state_visitation,
    table_policy,
    value_iteration,
)
from lfo_ray.algorithms.tabular.irl import feature_gradient, reward_correlation
from lfo_ray.algorithms.tabular.plots import save_reward_heatmap
from lfo_ray.data import DatasetMetadata, ObsDataset, ObsEpisode
from lfo_ray.envs import make_vector_env
from lfo_ray.envs.gridworld import GridWorldSpec, reachable_states
from lfo_ray.policy import read_policy
from lfo_ray.rollout import evaluate_policy

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
REWARD_MAP = np.array([0, 0, 0, 0, -1, 0, 0, 0, 10])



def tiny_spec() -> GridWorldSpec:
    return GridWorldSpec(3, REWARD_MAP, reachable_states(REWARD_MAP, 3))


def tiny_model(noisy: bool = False, horizon: int = 20) -> TabularModel:
    return TabularModel.from_spec(tiny_spec(), transition_prob=noisy, horizon=horizon)


def deterministic(actions: list[int]) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(actions), 4).double()


def next_cell(cell: int, move: int) -> int:
    """The 3x3 dynamics written out independently of the library."""
    row, col = divmod(cell, 3)
    row += {UP: -1, DOWN: 1}.get(move, 0)
    col += {LEFT: -1, RIGHT: 1}.get(move, 0)
    return min(max(row, 0), 2) * 3 + min(max(col, 0), 2)


def test_model_matches_hand_written_dynamics():
    model = tiny_model()
    for cell in range(9):
        for move in range(4):
            assert model.next_state[cell, move] == next_cell(cell, move)
    assert model.absorbing_next_state[8].tolist() == [8, 8, 8, 8]
    assert model.reward[0, UP] == -1.0 and model.reward[1, DOWN] == -1.0 and model.reward[5, DOWN] == 10.0
    valid = model.start > 0
    assert valid.sum() == 7 and not valid[4] and not valid[8]


def test_value_iteration_hand_values():
    """Reward 1 only at the absorbing goal, gamma 0.5: V(goal) = 1 / (1 - 0.5) = 2 and every step
    further away halves it, V(s) = 2 * 0.5**(distance - 1)."""
    reward = torch.zeros(9, dtype=torch.float64)
    reward[8] = 1.0
    values, q = value_iteration(tiny_model(), reward, gamma=0.5)
    distance = np.array([abs(r - 2) + abs(c - 2) for r in range(3) for c in range(3)])
    expected = np.where(distance == 0, 2.0, 2.0 * 0.5 ** (np.maximum(distance, 1) - 1))
    np.testing.assert_allclose(values.numpy(), expected)
    assert q[5].argmax() == DOWN and q[7].argmax() == RIGHT


def test_soft_value_iteration_zero_reward_is_pure_entropy():
    plan = soft_value_iteration(tiny_model(), torch.zeros(9, dtype=torch.float64), gamma=0.9, tol=1e-12)
    np.testing.assert_allclose(plan.values.numpy(), math.log(4) / (1 - 0.9))
    np.testing.assert_allclose(plan.policy.numpy(), 0.25)


@pytest.mark.parametrize("noisy", [False, True])
def test_soft_value_iteration_satisfies_soft_bellman_by_hand(noisy):
    reward = torch.tensor([0.3, -0.2, 0.0, 0.5, -1.0, 0.1, 0.2, -0.4, 1.0], dtype=torch.float64)
    gamma = 0.8
    plan = soft_value_iteration(tiny_model(noisy), reward, gamma, tol=1e-12)
    move_probs = np.full((4, 4), 0.1) + np.eye(4) * 0.6 if noisy else np.eye(4)
    values = plan.values.numpy()
    for cell in range(9):
        q = []
        for action in range(4):
            successors = [8 if cell == 8 else next_cell(cell, move) for move in range(4)]
            q.append(sum(move_probs[action, move] * (reward[s].item() + gamma * values[s])
                         for move, s in enumerate(successors)))
        assert values[cell] == pytest.approx(math.log(sum(math.exp(x) for x in q)), abs=1e-9)
        np.testing.assert_allclose(plan.policy[cell].numpy(), np.exp(q - values[cell]), atol=1e-9)


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_visitation_frequencies_sum_to_horizon_mass(gamma):
    model = tiny_model(noisy=True, horizon=15)
    policy = torch.softmax(torch.randn(9, 4, dtype=torch.float64), dim=1)
    counts = state_visitation(model, policy, gamma)
    assert counts.sum().item() == pytest.approx(sum(gamma ** t for t in range(15)))
    assert (counts >= 0).all()


def test_visitation_follows_a_hand_path_and_matches_demo_counts():
    """From cell 0: right, right, down, down reaches the goal in 4 steps, then stays."""
    model = tiny_model(horizon=6)
    policy = deterministic([RIGHT, RIGHT, DOWN, RIGHT, RIGHT, DOWN, RIGHT, RIGHT, DOWN])
    start = torch.zeros(9, dtype=torch.float64)
    start[0] = 1.0
    counts = state_visitation(model, policy, start=start)
    assert counts.tolist() == [0, 1, 1, 0, 0, 1, 0, 0, 3]
    episode = ObsEpisode(np.array([0, 1, 2, 5, 8]), terminated=True)
    dataset = ObsDataset((episode,), DatasetMetadata(env_id="lfo_ray/GridWorld-v0"))
    for gamma in (1.0, 0.9):
        np.testing.assert_allclose(demo_state_counts(dataset, model, gamma).numpy(),
                                   state_visitation(model, policy, gamma, start=start).numpy())
    assert demo_start_distribution(dataset, model).tolist() == start.tolist()


def test_policy_returns_hand_values():
    model = tiny_model()
    around = deterministic([RIGHT, RIGHT, DOWN, DOWN, DOWN, DOWN, RIGHT, RIGHT, DOWN])
    returns = policy_returns(model, around)
    assert returns[0] == 10 and returns[3] == 10 and returns[7] == 10
    through_pit = deterministic([DOWN, DOWN, DOWN, RIGHT, RIGHT, DOWN, RIGHT, RIGHT, DOWN])
    assert policy_returns(model, through_pit)[1] == 9.0
    stuck = deterministic([UP] * 9)
    assert policy_returns(model, stuck)[0] == -model.horizon


@pytest.mark.parametrize("noisy", [False, True])
def test_exact_return_matches_monte_carlo_in_the_environment(tmp_path, noisy):
    world = tmp_path / "tiny.json"
    world.write_text(json.dumps(tiny_spec().to_dict()))
    model = tiny_model(noisy=noisy, horizon=30)
    probs = torch.softmax(torch.randn(9, 4, generator=torch.Generator().manual_seed(0)), dim=1).double()
    exact = expected_return(model, probs)
    env = make_vector_env("lfo_ray/GridWorld-v0", 200, world=str(world), transition_prob=noisy, max_steps=30)
    returns = evaluate_policy(table_policy(probs.numpy(), greedy=False, seed=1), env, 20_000, seed=2)
    assert returns.mean() == pytest.approx(exact, abs=4 * returns.std() / math.sqrt(len(returns)))


def test_maxent_gradient_is_expert_minus_expected_features():
    """With one step to go the stationary MaxEnt policy is exact, so the log-likelihood of a
    demonstrated step, differentiated by autograd through a brute-force partition function,
    must equal the expert's features minus the learner's expected features."""
    model = tiny_model(horizon=1)
    features = state_features("onehot_coords", model)
    theta = torch.randn(features.shape[1], dtype=torch.float64, requires_grad=True)
    start, entered = 3, 6
    reward = features @ theta
    log_z = torch.logsumexp(torch.stack([reward[next_cell(start, a)] for a in range(4)]), dim=0)
    (-(reward[entered] - log_z)).backward()
    with torch.no_grad():
        policy = backward_pass(model, features @ theta, horizon=1).exp()
        start_dist = torch.zeros(9, dtype=torch.float64)
        start_dist[start] = 1.0
        expected = state_visitation(model, policy, start=start_dist)
        expert = torch.zeros(9, dtype=torch.float64)
        expert[entered] = 1.0
        gradient = feature_gradient(expert @ features, expected, features)
    np.testing.assert_allclose(gradient.numpy(), -theta.grad.numpy(), atol=1e-12)


def test_feature_gradient_vanishes_when_the_expert_is_the_learner():
    model = tiny_model(noisy=True)
    features = state_features("onehot", model)
    policy = soft_value_iteration(model, torch.randn(9, dtype=torch.float64), 0.9).policy
    counts = state_visitation(model, policy, 0.9)
    assert feature_gradient(counts @ features, counts, features).abs().max() < 1e-12


def test_maxent_backward_pass_is_soft_value_iteration_when_deterministic():
    """Deterministic: MaxEnt's log-partition recursion is the undiscounted soft Bellman backup.
    Noisy: log E[exp] >= E[log ...] (Jensen), so MaxEnt's values are optimistic."""
    reward = torch.tensor([0.3, -0.2, 0.0, 0.5, -1.0, 0.1, 0.2, -0.4, 0.5], dtype=torch.float64)
    for noisy in (False, True):
        model = tiny_model(noisy=noisy)
        values = torch.zeros(9, dtype=torch.float64)
        for _ in range(5):
            values = torch.logsumexp(model.expected_next(reward + values), dim=1)
        q = model.expected_next(reward + values)
        soft = torch.log_softmax(q, dim=1)
        maxent = backward_pass(model, reward, horizon=6)
        if noisy:
            assert not torch.allclose(maxent, soft)
        else:
            np.testing.assert_allclose(maxent.numpy(), soft.numpy(), atol=1e-12)


def test_relent_importance_ratios_by_hand():
    states = torch.tensor([[0, 1, 2], [0, 3, 3]])
    actions = torch.tensor([[RIGHT, RIGHT, DOWN], [DOWN, UP, UP]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    uniform = torch.full((9, 4), 0.25, dtype=torch.float64)
    sampler = torch.tensor([0.1, 0.4, 0.1, 0.4], dtype=torch.float64).expand(9, -1)
    ratios = log_importance_ratios(states, actions, mask, uniform, sampler)
    np.testing.assert_allclose(ratios.numpy(), [3 * math.log(0.25 / 0.4),
                                                math.log(0.25 / 0.4) + math.log(0.25 / 0.1)])
    assert log_importance_ratios(states, actions, mask, uniform, uniform).abs().max() == 0


def test_relent_weights_and_dual_gradient_by_hand():
    counts = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]], dtype=torch.float64).to_sparse()
    features = torch.eye(3, dtype=torch.float64)
    theta = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    log_ratios = torch.tensor([0.0, math.log(2.0)], dtype=torch.float64)
    weights = trajectory_weights(features @ theta, counts, log_ratios)
    expected = np.array([math.e, 2.0]) / (math.e + 2.0)
    np.testing.assert_allclose(weights.numpy(), expected)
    expert = torch.tensor([1.0, 0.5, 0.5], dtype=torch.float64)
    epsilon = torch.full((3,), 0.1, dtype=torch.float64)
    gradient = dual_gradient(theta, features, expert, counts, log_ratios, epsilon)
    np.testing.assert_allclose(gradient.numpy(), [1.0, 0.5 - expected[0] - 0.1, 0.5 - 2 * expected[1]])


def test_relent_start_ratios_and_hoeffding_bound():
    starts = torch.tensor([0, 0, 1, 3])
    demo_start = torch.tensor([0.5, 0.0, 0.0, 0.5], dtype=torch.float64)
    ratios = start_log_ratios(starts, demo_start)
    np.testing.assert_allclose(ratios.numpy(), [0.0, 0.0, -math.inf, math.log(0.5 / 0.25)])
    epsilon = hoeffding_epsilon(torch.tensor([1.0, 2.0]), num_demos=50, horizon=2, gamma=0.5, delta=0.1)
    scale = math.sqrt(-math.log(0.9) / 100) * (1 + 0.5 + 0.25)
    np.testing.assert_allclose(epsilon.numpy(), [scale, 2 * scale])


def test_table_policy_acts_saves_and_loads(tmp_path):
    probs = np.array([[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.5]])
    greedy = table_policy(probs, greedy=True)
    assert greedy.act(np.array([0, 1, 1])).tolist() == [1, 0, 0]
    sampled = table_policy(probs, greedy=False, seed=0).act(np.ones(4000, dtype=np.int64))
    assert set(sampled.tolist()) == {0, 3} and abs((sampled == 3).mean() - 0.5) < 0.05
    greedy.save(tmp_path)
    loaded = read_policy(tmp_path)
    assert loaded.greedy and np.array_equal(deployed_probs(loaded), [[0, 1, 0, 0], [1, 0, 0, 0]])
    with pytest.raises(ValueError, match="rows summing to 1"):
        table_policy(np.ones((2, 4)))


def test_reward_correlation_and_heatmap(tmp_path):
    model = tiny_model()
    truth = REWARD_MAP.astype(float)
    assert reward_correlation(model, truth)["reward_corr"] == pytest.approx(1.0)
    assert reward_correlation(model, -truth)["reward_corr_nongoal"] == pytest.approx(-1.0)
    path = save_reward_heatmap(truth, 3, tmp_path / "r.png", "tiny")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
