"""The registry entries of the imitation family: four names, one training function."""

from lfo_ray.algorithms.learned_reward.algorithm import supports, train
from lfo_ray.algorithms.learned_reward.config import GAIfOConfig, GAILConfig, IMRLConfig, PMIILConfig
from lfo_ray.algorithms.learned_reward.presets import preset
from lfo_ray.experiment import AlgorithmSpec


def _spec(name: str, config_cls: type, observation_only: bool, description: str) -> AlgorithmSpec:
    def supported(observation_space, action_space) -> str | None:
        problem = supports(observation_space, action_space)
        return None if problem is None else f"{name} {problem}"

    return AlgorithmSpec(name=name, config_cls=config_cls, train=train,
                         observation_only=observation_only, description=description,
                         preset=lambda env_id: preset(name, env_id), supports=supported)


GAIL = _spec("gail", GAILConfig, False,
             "GAIL (Ho & Ermon 2016): (s, a) discriminator reward, PPO on the runtime.")
GAIFO = _spec("gaifo", GAIfOConfig, True,
              "GAIfO (Torabi et al. 2018): (s, s' - s) discriminator reward, PPO on the runtime; observations only.")
IMRL = _spec("imrl", IMRLConfig, True,
             "IMRL-style (Kimura et al. 2018): next-state model of the expert, reward from its prediction error.")
PMI_IL = _spec("pmi_il", PMIILConfig, True,
               "PMI-IL: InfoNCE two-tower phi1(s')^T phi2(s) reward (eq. 16/18), PPO.")
