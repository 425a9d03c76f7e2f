"""RLlib's PPO and SAC learners with a learned reward: the connector piece in their pipeline,
reward-model steps after their updates. `LearnedRewardLearner` is the one implementation; each
generator adds where the piece goes and when the reward model trains."""

from __future__ import annotations

from typing import Any

from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
from ray.rllib.connectors.common.add_observations_from_episodes_to_batch import AddObservationsFromEpisodesToBatch
from ray.rllib.connectors.learner.add_next_observations_from_episodes_to_train_batch import (
    AddNextObservationsFromEpisodesToTrainBatch,
)
from ray.rllib.connectors.learner.general_advantage_estimation import GeneralAdvantageEstimation
from ray.rllib.connectors.learner.learner_connector_pipeline import LearnerConnectorPipeline
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from lfo_ray.rllib.connector import LearnedReward
from lfo_ray.rllib.module import REWARD_MODULE_ID, RewardModule, check_spaces


class LearnedRewardLearner:
    """Mixed in before RLlib's TorchLearner of the generator. The reward module gets no RLlib
    optimizer: its RewardModel takes `reward_steps` steps with its own Adam, as the native
    RewardLearner does, on the agent transitions of the batch just trained on and expert ones."""

    def rl_module_is_compatible(self, module: Any) -> bool:
        # RLlib registers optimizers for every compatible module (TorchLearner: any nn.Module), and
        # SAC's would look for critics the reward module does not have.
        return not isinstance(module.unwrapped(), RewardModule) and super().rl_module_is_compatible(module)

    def place_learned_reward(self, pipeline: LearnerConnectorPipeline) -> None:
        """Inserts self.learned_reward where the generator's loss reads the reward."""
        raise NotImplementedError

    def build(self) -> None:
        reward = getattr(self._module_spec, "rl_module_specs", {}).get(REWARD_MODULE_ID)
        if reward is not None and reward.observation_space is not None:
            # Before RLlib builds a policy module it may not be able to read the spaces with.
            check_spaces(reward.model_config["reward_model"], reward.observation_space, reward.action_space,
                         reward.model_config.get("rl", "ppo"))
        super().build()
        if REWARD_MODULE_ID not in self.module:
            raise ValueError(f"the MultiRLModule needs the reward model under {REWARD_MODULE_ID!r}")
        self.learned_reward = LearnedReward(gamma=self.config.gamma)
        self.place_learned_reward(self._learner_connector)
        reward_module = self.module[REWARD_MODULE_ID].unwrapped()
        if reward_module.pretrain_metrics:
            self.metrics.log_dict({f"pretrain_{k}": v for k, v in reward_module.pretrain_metrics.items()},
                                  key=REWARD_MODULE_ID, window=1)

    def train_reward_model(self) -> bool:
        """`reward_steps` reward-model steps on the transitions the connector last scored; False when
        there were none."""
        agent, self.learned_reward.last_agent = self.learned_reward.last_agent, None
        if agent is None or len(agent.obs) == 0:
            return False
        module = self.module[REWARD_MODULE_ID].unwrapped()
        metrics = module.train_steps(agent, module.config.reward_steps)
        metrics["imitation_reward"] = self.learned_reward.last_reward_mean
        self.metrics.log_dict(metrics, key=REWARD_MODULE_ID, window=1)
        return True


class ImitationPPOLearner(LearnedRewardLearner, PPOTorchLearner):
    """PPOTorchLearner whose advantages come from the reward module, trained after each PPO update."""

    def place_learned_reward(self, pipeline: LearnerConnectorPipeline) -> None:
        pipeline.insert_after(AddObservationsFromEpisodesToBatch, AddNextObservationsFromEpisodesToTrainBatch())
        pipeline.insert_before(GeneralAdvantageEstimation, self.learned_reward)

    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        self.train_reward_model()


class ImitationSACLearner(LearnedRewardLearner, SACTorchLearner):
    """SACTorchLearner whose critic targets read the reward module's reward of each replayed
    transition; the reward model trains every `reward_every` env steps on the batch just used."""

    def build(self) -> None:
        super().build()
        self.reward_trained_at: int | None = None
        """Lifetime env steps at the last reward-model training; None: not yet."""

    def place_learned_reward(self, pipeline: LearnerConnectorPipeline) -> None:
        # DQN's learner (SAC's base) has put NEXT_OBS in the batch; the piece reads the tensors last,
        # after NumpyToTensor, so nothing later rewrites REWARDS before the critic loss.
        pipeline.append(self.learned_reward)

    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        env_steps = int(timesteps.get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0))
        if self.reward_trained_at is None or env_steps - self.reward_trained_at >= self.config.reward_every:
            if self.train_reward_model():
                self.reward_trained_at = env_steps
        else:
            self.learned_reward.last_agent = None
