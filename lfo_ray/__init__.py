"""lfo-ray: imitation learning from observation on Ray."""

import lfo_ray.envs  # noqa: F401  (registers the lfo_ray/ gymnasium environments)

__version__ = "0.1.0"
