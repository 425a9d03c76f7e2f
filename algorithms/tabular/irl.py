"""What the three IRL methods share: MaxEnt's and MCE's feature-matching loop (`feature_matching`),
and once a reward is learned, the derived policy, the saved checkpoint (reward.npy, reward.png,
the policy table) and the reward's agreement with the truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch

from lfo_ray.algorithms.tabular.features import state_features
from lfo_ray.algorithms.tabular.model import TabularModel
from lfo_ray.algorithms.tabular.plots import save_reward_heatmap
from lfo_ray.algorithms.tabular.policy import deployed_probs, save_array, table_policy
from lfo_ray.algorithms.tabular.visitation import (
    demo_start_distribution,
    demo_state_counts,
    expected_return,
    state_visitation,
)
from lfo_ray.data.parquet import atomic_write
from lfo_ray.experiment import RunContext, TrainOutput, space_requirement
from lfo_ray.nets import pick_device
from lfo_ray.policy import Policy

REWARD_FILE = "reward.npy"
REWARD_PLOT = "reward.png"
WEIGHTS_FILE = "theta.npy"


def tabular_env_only(algo: str):
    """AlgorithmSpec.supports of an IRL method: it plans on the known model of a Discrete-state env."""
    return space_requirement(f"{algo} needs a tabular env such as lfo_ray/GridWorld-v0",
                             observation=(gym.spaces.Discrete,))


def feature_gradient(expert_features: torch.Tensor, learner_counts: torch.Tensor,
                     features: torch.Tensor) -> torch.Tensor:
    """Gradient of the feature-matching objectives in the reward weights (K,): the expert's
    feature counts minus the learner's, f_E - phi^T D (features: (S, K), counts: (S,)).

    For MaxEnt and maximum causal entropy IRL this is the gradient of the demonstrations'
    log-likelihood.
    """
    return expert_features - learner_counts @ features


def reward_correlation(model: TabularModel, reward: np.ndarray) -> dict[str, float]:
    """Pearson correlation of a recovered state reward (S,) with the true reward of entering
    each cell: over all cells, and over all cells but the goal (pits against free cells)."""
    truth = model.spec.reward_map.astype(np.float64)
    reward = np.asarray(reward, dtype=np.float64)
    others = np.arange(model.num_states) != model.goal

    def pearson(a: np.ndarray, b: np.ndarray) -> float:
        if a.std() == 0 or b.std() == 0:
            return 0.0
        return float(np.corrcoef(a, b)[0, 1])

    return {"reward_corr": pearson(reward, truth),
            "reward_corr_nongoal": pearson(reward[others], truth[others])}


def save_irl_checkpoint(directory: Path, model: TabularModel, theta: torch.Tensor, reward: torch.Tensor,
                        policy: Policy, title: str, info: dict[str, Any]) -> None:
    """theta.npy (K,), reward.npy (S,), reward.png (size x size heatmap), the policy table and
    irl.json (features, discount, ...: what is needed to re-plan on the reward)."""
    directory.mkdir(parents=True, exist_ok=True)
    reward_np = reward.detach().cpu().numpy()
    save_array(directory / WEIGHTS_FILE, theta.detach().cpu().numpy())
    save_array(directory / REWARD_FILE, reward_np)
    save_reward_heatmap(reward_np, model.spec.size, directory / REWARD_PLOT, title)
    policy.save(directory)
    text = json.dumps(info, indent=2, sort_keys=True)
    atomic_write(directory / "irl.json", lambda tmp: Path(tmp).write_text(text))


def load_reward(directory: Path) -> np.ndarray:
    return np.load(Path(directory) / REWARD_FILE)


def exact_return(model: TabularModel, policy: torch.Tensor, greedy: bool) -> float:
    """Exact true return of the policy (S, A) as it would be deployed (argmax when greedy)."""
    return expected_return(model, deployed_probs(table_policy(policy.detach().cpu().numpy(), greedy=greedy)))


def irl_metrics(model: TabularModel, reward: torch.Tensor, policy: Policy) -> dict[str, float]:
    """Reward correlations and the exact return of the deployed policy."""
    metrics = reward_correlation(model, reward.detach().cpu().numpy())
    metrics["exact_return"] = expected_return(model, deployed_probs(policy))
    return metrics


Planner = Callable[[torch.Tensor, bool], tuple[torch.Tensor, dict[str, float]]]
"""plan(state reward (S,), final) -> (policy (S, A) probabilities, scalars to log); final: the plan
of the deployed policy, after the last gradient step."""


def feature_matching(config: Any, ctx: RunContext, make_planner: Callable[[TabularModel], Planner],
                     gamma: float, title: str) -> TrainOutput:
    """MaxEnt's and MCE IRL's loop (their module docstrings): Adam ascent on the reward weights theta
    along f_E - phi^T D, with D the exact visitation counts (discounted by `gamma`) of the policy the
    planner derives from the reward phi theta; the demonstrations' counts are discounted alike.
    `config` has the fields of MaxEntIRLConfig; `title` heads the reward heatmap."""
    model = TabularModel.from_env_kwargs(ctx.env_kwargs, pick_device(config.device))
    features = state_features(config.features, model)
    expert_features = demo_state_counts(ctx.demos, model, gamma) @ features
    start = demo_start_distribution(ctx.demos, model)
    theta = torch.zeros(features.shape[1], dtype=torch.float64, device=model.device, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=config.lr)
    plan = make_planner(model)

    for iteration in range(config.iterations):
        with torch.no_grad():
            policy, scalars = plan(features @ theta, False)
            learner_counts = state_visitation(model, policy, gamma, start=start)
            gradient = feature_gradient(expert_features, learner_counts, features) - config.l2 * theta
        theta.grad = -gradient
        optimizer.step()
        ctx.writer.add_scalar("losses/feature_gap_l1", (gradient + config.l2 * theta).abs().sum().item(), iteration)
        for tag, value in scalars.items():
            ctx.writer.add_scalar(tag, value, iteration)
        if iteration % config.eval_every == 0:
            ctx.report(0, exact_return(model, policy, config.greedy), step=iteration)

    with torch.no_grad():
        reward = features @ theta
        policy, _ = plan(reward, True)
    deployed = table_policy(policy.cpu().numpy(), greedy=config.greedy, seed=ctx.seed)
    save_irl_checkpoint(ctx.checkpoint_dir, model, theta, reward, deployed, title,
                        {"features": config.features, "gamma": gamma, "horizon": model.horizon})
    return TrainOutput(policy=deployed, env_steps=0, metrics=irl_metrics(model, reward, deployed))
