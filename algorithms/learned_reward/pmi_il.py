"""Registry module of pmi_il on the learned-reward loop."""

from lfo_ray.algorithms.learned_reward.specs import PMI_IL as ALGORITHM  # noqa: F401
