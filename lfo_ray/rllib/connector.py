"""The learner-connector piece that replaces the environment's reward with the learned one.

It sits after `NumpyToTensor` in the learner pipeline, so the true reward never reaches the loss.
With PPO it comes before `GeneralAdvantageEstimation`: advantages and value targets come from the
learned reward alone. With SAC it is the last piece, run on every batch SAC samples from its replay
(1-step episodes, one row each): the critic's targets read the current reward model's reward of each
sampled transition, relabelled at sample time as in DAC, OPOLO and the native rl=sac. It also hands
the batch's agent transitions to the reward module, which the learner trains on them after the
update (the native loop's order: score, update, train reward).
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core import DEFAULT_MODULE_ID, Columns

from lfo_ray.algorithms.learned_reward.learners import NonFiniteError, normalize_rewards
from lfo_ray.algorithms.learned_reward.rewards import TransitionTensors
from lfo_ray.rllib.module import REWARD_MODULE_ID


class LearnedReward(ConnectorV2):
    """batch[DEFAULT_MODULE_ID][REWARDS] <- normalised learned reward (0 on PPO's bootstrap rows;
    SAC's configs allow only reward_norm="none", which leaves it raw)."""

    def __init__(self, input_observation_space=None, input_action_space=None, *, gamma: float = 0.99,
                 **kwargs) -> None:
        super().__init__(input_observation_space, input_action_space, **kwargs)
        self.gamma = gamma
        self.return_var: float | None = None
        """Running variance of the discounted imitation return ("scale" normalisation), as the native
        PolicyLearner keeps it."""
        self.last_agent: TransitionTensors | None = None
        self.last_reward_mean: float | None = None

    def __call__(self, *, rl_module: Any, batch: dict[str, Any], episodes: list, explore: bool | None = None,
                 shared_data: dict | None = None, **kwargs) -> Any:
        module = rl_module[REWARD_MODULE_ID]
        data = batch[DEFAULT_MODULE_ID]
        obs, next_obs, actions = data[Columns.OBS], data[Columns.NEXT_OBS], data[Columns.ACTIONS]
        valid = data.get(Columns.LOSS_MASK)
        if valid is None:
            valid = torch.ones(len(obs), dtype=torch.bool, device=obs.device)
        valid = valid.bool()
        lengths = [len(e) for e in self.single_agent_episode_iterator(episodes, agents_that_stepped_only=False)]
        if sum(lengths) != len(obs):
            raise ValueError(f"LearnedReward: {len(obs)} batch rows for episodes of {sum(lengths)} steps "
                             "(stateful or multi-agent modules are not supported)")
        ended = torch.zeros(len(obs), dtype=torch.bool, device=obs.device)
        ended[torch.as_tensor(lengths, device=obs.device).cumsum(0) - 1] = True
        reward = torch.where(valid, module.reward(obs, actions, next_obs).to(obs.device), 0.0)
        if not bool(torch.isfinite(reward).all()):
            raise NonFiniteError("the learned reward became NaN or infinite")
        # One time-major column: episode chunks follow each other, `ended` resets the running return.
        scaled, _, self.return_var = normalize_rewards(
            module.config.reward_norm, reward[:, None], ended[:, None], valid[:, None], self.gamma,
            torch.zeros(1, device=obs.device), self.return_var)
        data[Columns.REWARDS] = scaled[:, 0].to(torch.float32)
        self.last_reward_mean = float(reward[valid].mean()) if bool(valid.any()) else 0.0
        self.last_agent = module.agent_transitions(obs[valid], next_obs[valid],
                                                   actions[valid] if module.config.uses_actions else None)
        return batch
