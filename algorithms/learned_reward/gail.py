"""Registry module of gail on the learned-reward loop."""

from lfo_ray.algorithms.learned_reward.specs import GAIL as ALGORITHM  # noqa: F401
