"""The reward model as a learner-only RLModule: the native RewardModel, its networks and its loss.

The module wraps `make_reward_model(...)` (the same classes the native runtime trains) and the shipped
demonstrations sampler; RLlib builds it on Learners only (`learner_only=True`), never on EnvRunners.
It is trained by the learner's own steps (`LearnedRewardLearner`, with PPO or SAC) and read by the
`LearnedReward` connector piece, so it has no forward pass of its own.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.core.rl_module.torch import TorchRLModule

from lfo_ray.algorithms.learned_reward.algorithm import supports
from lfo_ray.algorithms.learned_reward.config import CONFIGS, ImitationConfig
from lfo_ray.algorithms.learned_reward.learners import EXPERT_POOL_ROWS, read_metrics
from lfo_ray.algorithms.learned_reward.rewards import RewardModel, TransitionTensors, make_reward_model
from lfo_ray.demos import DemoSampler
from lfo_ray.distributions import ActionBounds
from lfo_ray.nets import obs_dtype, to_tensor

REWARD_MODULE_ID = "lfo_reward_model"
"""ModuleID of the reward model inside the MultiRLModule, next to RLlib's DEFAULT_MODULE_ID policy."""


def imitation_config(reward_model: str, settings: dict[str, Any], rl: str = "ppo") -> ImitationConfig:
    """The native config of `reward_model` with `settings` and generator `rl` applied (its
    validation included)."""
    return CONFIGS[reward_model](**settings, rl=rl)


def check_spaces(reward_model: str, observation_space: gym.Space, action_space: gym.Space, rl: str = "ppo") -> None:
    """Raises ValueError unless the RLlib algorithms run on these spaces: the native family's
    requirements, and vector observations (RLlib's PPO module reads Discrete observations only
    through a one-hot connector, which would hand the reward model one-hot rows, not the ids it embeds);
    with SAC, Box actions (as the native rl=sac)."""
    problem = supports(observation_space, action_space)
    if problem is None and not isinstance(observation_space, gym.spaces.Box):
        problem = f"needs vector (1-D Box) observations (got {observation_space}; use the native runtime)"
    if problem is None and rl == "sac" and not isinstance(action_space, gym.spaces.Box):
        problem = (f"with SAC as the generator need a Box action space (got {action_space}; use the PPO "
                   f"classes, e.g. GAIfOConfig, for Discrete actions)")
    if problem is not None:
        raise ValueError(f"{reward_model}: the RLlib imitation algorithms {problem}")


class RewardModule(TorchRLModule):
    """model_config: {"reward_model": "gaifo", "rl": "ppo" or "sac", "settings": {field: value},
    "demos": path, "seed": int, "normalized_actions": bool (the algorithm config's normalize_actions)}."""

    def setup(self) -> None:
        cfg = self.model_config
        rl = cfg.get("rl", "ppo")
        check_spaces(cfg["reward_model"], self.observation_space, self.action_space, rl)
        self.config: ImitationConfig = imitation_config(cfg["reward_model"], cfg["settings"], rl)
        self.obs_dtype = obs_dtype(self.observation_space)
        self.bounds = None if isinstance(self.action_space, gym.spaces.Discrete) else ActionBounds.of(self.action_space)
        seed = int(cfg.get("seed") or 0)
        self.sampler = DemoSampler(cfg["demos"], seed=seed, with_actions=self.config.uses_actions)
        pool = self.sampler.buffer
        rows = slice(0, min(len(pool), EXPERT_POOL_ROWS))
        self.reward_model: RewardModel = make_reward_model(
            self.config, self.observation_space, self.action_space,
            TransitionTensors(self._tensor(pool.obs[rows]), self._tensor(pool.next_obs[rows])), seed)
        # Registered as a submodule: its weights (and fitted standardisers) are the module's state.
        self.net = self.reward_model.module
        self.pretrain_metrics: dict[str, float] = {}
        if self.reward_model.pretrains:
            steps = self.config.pretrain_steps
            self.pretrain_metrics = read_metrics(
                [self.reward_model.pretrain_step(self.expert_batch()) for _ in range(steps)], "reward pretraining")

    def _tensor(self, array: np.ndarray, dtype: torch.dtype | None = None) -> torch.Tensor:
        # On the networks' device once they exist (the learner may move the module); the expert pool
        # that builds them is on the CPU.
        device = next(self.net.parameters()).device if "net" in self._modules else torch.device("cpu")
        return to_tensor(np.asarray(array), dtype or self.obs_dtype, device)

    def _transitions(self, obs: Any, next_obs: Any, actions: Any, env_units: bool) -> TransitionTensors:
        def cast(x: Any, dtype: torch.dtype) -> torch.Tensor:
            return x.to(dtype) if isinstance(x, torch.Tensor) else self._tensor(x, dtype)

        if actions is not None:
            if self.bounds is None:
                actions = cast(actions, torch.long)
            else:
                # The reward models read Box actions in the native runtime's normalised units, [-1, 1]
                # per dimension, which are also RLlib's normalize_actions units; clipped as the env
                # executes them.
                actions = cast(actions, torch.float32)
                if env_units:
                    actions = ((actions - self._tensor(self.bounds.center, torch.float32))
                               / self._tensor(self.bounds.half_range, torch.float32))
                actions = actions.clamp(-1.0, 1.0)
        return TransitionTensors(cast(obs, self.obs_dtype), cast(next_obs, self.obs_dtype), actions)

    def agent_transitions(self, obs: Any, next_obs: Any, actions: Any) -> TransitionTensors:
        """Transitions of an RLlib train batch (actions as the policy module emitted them)."""
        return self._transitions(obs, next_obs, actions, env_units=not self.model_config.get("normalized_actions", True))

    def expert_batch(self) -> TransitionTensors:
        batch = self.sampler.sample(self.config.reward_batch_size)
        return self._transitions(batch.obs, batch.next_obs, batch.actions, env_units=True)

    @torch.no_grad()
    def reward(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """(B,) learned reward of a train batch's transitions plus reward_offset (before normalisation)."""
        batch = self.agent_transitions(obs, next_obs, actions)
        return self.reward_model.reward(batch.obs, batch.actions, batch.next_obs) + self.config.reward_offset

    def train_steps(self, agent: TransitionTensors, steps: int) -> dict[str, float]:
        """`steps` RewardModel.update steps, each on reward_batch_size expert and agent transitions
        (agent rows drawn from `agent`, the transitions of the current train batch)."""
        size = self.config.reward_batch_size
        generator = self.reward_model.generator
        metrics = []
        for _ in range(steps):
            index = torch.randint(len(agent.obs), (size,), generator=generator).to(agent.obs.device)
            rows = TransitionTensors(agent.obs[index], agent.next_obs[index],
                                     None if agent.actions is None else agent.actions[index])
            metrics.append(self.reward_model.update(self.expert_batch(), rows))
        return read_metrics(metrics, "reward model")

    def _forward(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        raise NotImplementedError("the reward model is learner-only: read it through `reward()`")


NATIVE_ONLY = frozenset({"absorbing"})
"""Reward settings of the native runtime that these algorithms do not implement (absorbing states
need the terminal rows added to the reward model's batches and the absorbed return in the reward)."""


def reward_settings_fields(reward_model: str) -> set[str]:
    """The native config fields that the RLlib algorithm takes: the reward model's own and the reward
    plumbing; PPO and runtime fields are RLlib's own settings (`.training()`, `.env_runners()`)."""
    shared = {"reward_offset", "reward_norm", "reward_steps", "reward_batch_size"}
    base = {f.name for f in fields(ImitationConfig)}
    return shared | {f.name for f in fields(CONFIGS[reward_model])} - base - NATIVE_ONLY
