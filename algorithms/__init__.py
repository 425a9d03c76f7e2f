"""lfo-ray's algorithms (installed as lfo_ray.algorithms).

Each algorithm is a sub-package exposing `ALGORITHM`, an `lfo_ray.experiment.AlgorithmSpec`.
`get(name)` imports only the package it needs, so listing algorithms stays cheap.
"""

from __future__ import annotations

import importlib

# name -> module defining ALGORITHM
_MODULES: dict[str, str] = {}


def register(name: str, module: str) -> None:
    """Makes `get(name)` import `module` and return its ALGORITHM."""
    _MODULES[name] = module


def names() -> list[str]:
    return sorted(_MODULES)


def get(name: str):
    """The AlgorithmSpec registered under `name`."""
    if name not in _MODULES:
        raise KeyError(f"unknown algorithm {name!r}; available: {', '.join(names()) or 'none'}")
    spec = importlib.import_module(_MODULES[name]).ALGORITHM
    if spec.name != name:
        raise RuntimeError(f"{_MODULES[name]} defines {spec.name!r}, registered as {name!r}")
    return spec


register("bc", "lfo_ray.algorithms.bc.algorithm")
register("dagger", "lfo_ray.algorithms.dagger.algorithm")
register("maxent_irl", "lfo_ray.algorithms.maxent_irl.algorithm")
register("mce_irl", "lfo_ray.algorithms.mce_irl.algorithm")
register("relent_irl", "lfo_ray.algorithms.relent_irl.algorithm")
register("bco", "lfo_ray.algorithms.bco")
register("ilpo", "lfo_ray.algorithms.ilpo")
# The imitation family: one PPO loop on the runtime, the reward model switched by the name.
register("gail", "lfo_ray.algorithms.learned_reward.gail")
register("gaifo", "lfo_ray.algorithms.learned_reward.gaifo")
register("imrl", "lfo_ray.algorithms.learned_reward.imrl")
register("pmi_il", "lfo_ray.algorithms.learned_reward.pmi_il")
