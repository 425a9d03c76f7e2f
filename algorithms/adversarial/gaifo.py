"""GAIfO: the same adversarial core with the discriminator on (state, next state)."""

from lfo_ray.algorithms.adversarial.algorithm import train
from lfo_ray.algorithms.adversarial.config import GAIfOConfig
from lfo_ray.experiment import AlgorithmSpec

ALGORITHM = AlgorithmSpec(
    name="gaifo",
    config_cls=GAIfOConfig,
    train=train,
    observation_only=True,
    description="GAIfO (Torabi et al. 2018): discriminator on (s, s'), PPO learner; observations only.",
)
