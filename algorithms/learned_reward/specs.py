"""The registry entries of the learned-reward family: four names, one training function."""

from lfo_ray.algorithms.learned_reward.algorithm import load_policy, train
from lfo_ray.algorithms.learned_reward.config import GAIfOConfig, GAILConfig, IMRLConfig, PMIILConfig
from lfo_ray.experiment import AlgorithmSpec

GAIL = AlgorithmSpec(
    name="gail_ppo", config_cls=GAILConfig, train=train, load_policy=load_policy, observation_only=False,
    description="GAIL (Ho & Ermon 2016): (s, a) discriminator reward, PPO on the runtime (Box observations).")
GAIFO = AlgorithmSpec(
    name="gaifo_ppo", config_cls=GAIfOConfig, train=train, load_policy=load_policy, observation_only=True,
    description="GAIfO (Torabi et al. 2018): (s, s') discriminator reward, PPO on the runtime (Box observations).")
IMRL = AlgorithmSpec(
    name="imrl", config_cls=IMRLConfig, train=train, load_policy=load_policy, observation_only=True,
    description="IMRL-style (Kimura et al. 2018): next-state model of the expert, reward from its prediction error.")
PMI_IL = AlgorithmSpec(
    name="pmi_il", config_cls=PMIILConfig, train=train, load_policy=load_policy, observation_only=True,
    description="PMI-IL: InfoNCE two-tower phi1(s')^T phi2(s) reward (eq. 16/18), PPO.")
