"""lfo-ray: imitation learning from observation on Ray.

`lfo_ray.load_policy(run_dir)` and `lfo_ray.Policy` load on first use, so `import lfo_ray` does
not import torch or Ray.
"""

from typing import Any

import lfo_ray.envs  # noqa: F401  (registers the lfo_ray/ gymnasium environments)
from lfo_ray.tune import register_on_tune_import

__version__ = "0.1.0"
__all__ = ["Policy", "load_policy"]

# Makes tune.Tuner("lfo_ray/ILPO", ...) work: registers every algorithm with Tune's registry
# when ray.tune is imported (now, or later), without importing ray.tune here.
register_on_tune_import()


def __getattr__(name: str) -> Any:
    if name in __all__:
        from lfo_ray import policy

        return getattr(policy, name)
    raise AttributeError(f"module 'lfo_ray' has no attribute {name!r}")
