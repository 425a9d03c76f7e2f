"""The RLlib Algorithm classes: RLlib's PPO loop; the learned reward comes from the learner."""

from __future__ import annotations

from ray.rllib.algorithms.ppo import PPO

from lfo_ray.rllib import config as configs
from lfo_ray.rllib.registry import register


class GAIL(PPO):
    @classmethod
    def get_default_config(cls) -> configs.GAILConfig:
        return configs.GAILConfig(cls)


class GAIfO(PPO):
    @classmethod
    def get_default_config(cls) -> configs.GAIfOConfig:
        return configs.GAIfOConfig(cls)


class IMRL(PPO):
    @classmethod
    def get_default_config(cls) -> configs.IMRLConfig:
        return configs.IMRLConfig(cls)


class PMIIL(PPO):
    @classmethod
    def get_default_config(cls) -> configs.PMIILConfig:
        return configs.PMIILConfig(cls)


ALGORITHMS: dict[str, type[PPO]] = {"gail": GAIL, "gaifo": GAIfO, "imrl": IMRL, "pmi_il": PMIIL}

# Importing the classes registers them: the import hook of `import lfo_ray` imports this module once
# ray.rllib is loaded, and so does any other path to the classes.
register(ALGORITHMS)
