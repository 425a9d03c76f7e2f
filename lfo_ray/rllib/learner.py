"""RLlib's PPO learner with a learned reward: the connector piece in its pipeline, reward-model steps
after each PPO update."""

from __future__ import annotations

from typing import Any

from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.connectors.common.add_observations_from_episodes_to_batch import AddObservationsFromEpisodesToBatch
from ray.rllib.connectors.learner.add_next_observations_from_episodes_to_train_batch import (
    AddNextObservationsFromEpisodesToTrainBatch,
)
from ray.rllib.connectors.learner.general_advantage_estimation import GeneralAdvantageEstimation

from lfo_ray.rllib.connector import LearnedReward
from lfo_ray.rllib.module import REWARD_MODULE_ID, check_spaces


class ImitationPPOLearner(PPOTorchLearner):
    """PPOTorchLearner whose advantages come from the reward module, which it trains itself.

    The reward module has no RLlib optimizer (it implements no ValueFunctionAPI, so PPO's learner
    registers none): its RewardModel takes `reward_steps` steps with its own Adam after each PPO
    update, exactly as the native RewardLearner does, on the transitions of the batch just trained.
    """

    def build(self) -> None:
        reward = getattr(self._module_spec, "rl_module_specs", {}).get(REWARD_MODULE_ID)
        if reward is not None and reward.observation_space is not None:
            # Before RLlib builds a policy module it may not be able to read the spaces with.
            check_spaces(reward.model_config["reward_model"], reward.observation_space, reward.action_space)
        super().build()
        if REWARD_MODULE_ID not in self.module:
            raise ValueError(f"the MultiRLModule needs the reward model under {REWARD_MODULE_ID!r}")
        self.learned_reward = LearnedReward(gamma=self.config.gamma)
        pipeline = self._learner_connector
        pipeline.insert_after(AddObservationsFromEpisodesToBatch, AddNextObservationsFromEpisodesToTrainBatch())
        pipeline.insert_before(GeneralAdvantageEstimation, self.learned_reward)
        reward_module = self.module[REWARD_MODULE_ID].unwrapped()
        if reward_module.pretrain_metrics:
            self.metrics.log_dict({f"pretrain_{k}": v for k, v in reward_module.pretrain_metrics.items()},
                                  key=REWARD_MODULE_ID, window=1)

    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        agent, self.learned_reward.last_agent = self.learned_reward.last_agent, None
        if agent is None or len(agent.obs) == 0:
            return
        module = self.module[REWARD_MODULE_ID].unwrapped()
        metrics = module.train_steps(agent, module.config.reward_steps)
        metrics["imitation_reward"] = self.learned_reward.last_reward_mean
        self.metrics.log_dict(metrics, key=REWARD_MODULE_ID, window=1)
