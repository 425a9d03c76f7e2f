"""The RLlib Algorithm classes: RLlib's PPO or SAC loop; the learned reward comes from the learner."""

from __future__ import annotations

from ray.rllib.algorithms.ppo import PPO
from ray.rllib.algorithms.sac import SAC

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


class GAILSAC(SAC):
    @classmethod
    def get_default_config(cls) -> configs.GAILSACConfig:
        return configs.GAILSACConfig(cls)


class GAIfOSAC(SAC):
    @classmethod
    def get_default_config(cls) -> configs.GAIfOSACConfig:
        return configs.GAIfOSACConfig(cls)


class IMRLSAC(SAC):
    @classmethod
    def get_default_config(cls) -> configs.IMRLSACConfig:
        return configs.IMRLSACConfig(cls)


class PMIILSAC(SAC):
    @classmethod
    def get_default_config(cls) -> configs.PMIILSACConfig:
        return configs.PMIILSACConfig(cls)


ALGORITHMS: dict[str, type[PPO]] = {"gail": GAIL, "gaifo": GAIfO, "imrl": IMRL, "pmi_il": PMIIL}
SAC_ALGORITHMS: dict[str, type[SAC]] = {"gail": GAILSAC, "gaifo": GAIfOSAC, "imrl": IMRLSAC, "pmi_il": PMIILSAC}

# Importing the classes registers them: the import hook of `import lfo_ray` imports this module once
# ray.rllib is loaded, and so does any other path to the classes.
register(ALGORITHMS)
register(SAC_ALGORITHMS, rl="sac")
