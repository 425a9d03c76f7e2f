"""Registry module of gaifo on the learned-reward loop."""

from lfo_ray.algorithms.learned_reward.specs import GAIFO as ALGORITHM  # noqa: F401
