"""What the three IRL methods share once a reward is learned: the derived policy, the saved
checkpoint (reward.npy, reward.png, the policy table) and the reward's agreement with the truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from lfo_ray.algorithms.tabular.model import TabularModel
from lfo_ray.algorithms.tabular.plots import save_reward_heatmap
from lfo_ray.algorithms.tabular.policy import deployed_probs, save_array, table_policy
from lfo_ray.policy import Policy
from lfo_ray.algorithms.tabular.visitation import expected_return
from lfo_ray.data.parquet import atomic_write
from lfo_ray.experiment import space_requirement

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
