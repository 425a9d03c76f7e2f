"""lfo-ray: imitation learning from observation on Ray."""

import lfo_ray.envs  # noqa: F401  (registers the lfo_ray/ gymnasium environments)
from lfo_ray.tune import register_on_tune_import

__version__ = "0.1.0"

# Makes tune.Tuner("lfo_ray/ILPO", ...) work: registers every algorithm with Tune's registry
# when ray.tune is imported (now, or later), without importing ray.tune here.
register_on_tune_import()
