"""GAIL: adversarial imitation with the discriminator on (state, action)."""

from lfo_ray.algorithms.adversarial.algorithm import train
from lfo_ray.algorithms.adversarial.config import GAILConfig
from lfo_ray.experiment import AlgorithmSpec

ALGORITHM = AlgorithmSpec(
    name="gail",
    config_cls=GAILConfig,
    train=train,
    observation_only=False,
    description="GAIL (Ho & Ermon 2016): discriminator on (s, a), PPO learner.",
)
