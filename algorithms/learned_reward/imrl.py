"""Registry module of imrl on the learned-reward loop."""

from lfo_ray.algorithms.learned_reward.specs import IMRL as ALGORITHM  # noqa: F401
