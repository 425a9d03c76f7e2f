"""Tune registry names of the RLlib algorithms, and their registration (this module imports no RLlib).

    lfo_ray/rllib/GAIL      lfo_ray/rllib/GAIFO      lfo_ray/rllib/IMRL      lfo_ray/rllib/PMI_IL       (PPO)
    lfo_ray/rllib/GAIL_SAC  lfo_ray/rllib/GAIFO_SAC  lfo_ray/rllib/IMRL_SAC  lfo_ray/rllib/PMI_IL_SAC   (SAC)

The native Tune trainables are `lfo_ray/GAIFO` etc. (lfo_ray.tune.trainable_name) and RLlib's own
names carry no prefix ("PPO", "BC"), so neither clashes. `import lfo_ray` installs an import hook
that registers them once `ray.rllib` is imported: by the user, or by Tune itself, which imports
ray.rllib to look up a name it does not know, so `get_trainable_cls("lfo_ray/rllib/GAIFO")` and
`tune.Tuner("lfo_ray/rllib/GAIFO", ...)` work without importing RLlib up front.
"""

from __future__ import annotations

PREFIX = "lfo_ray/rllib/"
ALGORITHM_NAMES = ("gail", "gaifo", "imrl", "pmi_il")


def trainable_name(algo: str, rl: str = "ppo") -> str:
    """("gaifo", "ppo") -> "lfo_ray/rllib/GAIFO"; ("gaifo", "sac") -> "lfo_ray/rllib/GAIFO_SAC"."""
    if rl not in ("ppo", "sac"):
        raise ValueError(f"rl must be 'ppo' or 'sac', got {rl!r}")
    return PREFIX + algo.upper() + ("_SAC" if rl == "sac" else "")


def register(algorithms: dict[str, type], rl: str = "ppo") -> list[str]:
    """Registers the Algorithm classes {"gaifo": GAIfO, ...} of generator `rl` with Tune; returns
    their names."""
    from ray.tune.registry import register_trainable

    for algo, cls in algorithms.items():
        register_trainable(trainable_name(algo, rl), cls)
    return [trainable_name(algo, rl) for algo in algorithms]


def register_when_loaded() -> None:
    """Called by the import hook once ray.rllib is loaded: importing lfo_ray.rllib.algorithms
    registers the classes. Nothing to do when that module is loaded, or loading (it is what imported
    ray.rllib then, and registers at its end)."""
    import importlib
    import sys

    if "lfo_ray.rllib.algorithms" not in sys.modules:
        importlib.import_module("lfo_ray.rllib.algorithms")
