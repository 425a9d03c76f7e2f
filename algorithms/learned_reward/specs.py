"""The registry entries of the learned-reward family: four names, one training function."""

import gymnasium as gym

from lfo_ray.algorithms.learned_reward.algorithm import train
from lfo_ray.algorithms.learned_reward.config import GAIfOConfig, GAILConfig, IMRLConfig, PMIILConfig
from lfo_ray.experiment import AlgorithmSpec, space_requirement

VECTORS_ONLY = "needs vector observations and Discrete actions: CartPole-v1, Acrobot-v1, MountainCar-v0"

GAIL = AlgorithmSpec(
    name="gail_ppo", config_cls=GAILConfig, train=train, observation_only=False,
    description="GAIL (Ho & Ermon 2016): (s, a) discriminator reward, PPO on the runtime (Box observations).",
    supports=space_requirement(f"gail_ppo {VECTORS_ONLY}", (gym.spaces.Box,), images=False))
GAIFO = AlgorithmSpec(
    name="gaifo_ppo", config_cls=GAIfOConfig, train=train, observation_only=True,
    description="GAIfO (Torabi et al. 2018): (s, s') discriminator reward, PPO on the runtime (Box observations).",
    supports=space_requirement(f"gaifo_ppo {VECTORS_ONLY}", (gym.spaces.Box,), images=False))
IMRL = AlgorithmSpec(
    name="imrl", config_cls=IMRLConfig, train=train, observation_only=True,
    description="IMRL-style (Kimura et al. 2018): next-state model of the expert, reward from its prediction error.",
    supports=space_requirement(f"imrl {VECTORS_ONLY}", (gym.spaces.Box,), images=False))
PMI_IL = AlgorithmSpec(
    name="pmi_il", config_cls=PMIILConfig, train=train, observation_only=True,
    description="PMI-IL: InfoNCE two-tower phi1(s')^T phi2(s) reward (eq. 16/18), PPO.",
    supports=space_requirement(f"pmi_il {VECTORS_ONLY}", (gym.spaces.Box,), images=False))
