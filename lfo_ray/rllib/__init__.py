"""GAIL, GAIfO, IMRL and PMI-IL as RLlib Algorithms (new API stack, RLlib PPO or SAC as the generator).

    from lfo_ray.rllib import GAIfOConfig, GAIfOSACConfig
    algo = GAIfOConfig().environment("CartPole-v1").build()                  # PPO
    algo = GAIfOSACConfig().environment("InvertedPendulum-v5").build()       # SAC, Box actions
    algo.train()

or by name through Tune: `tune.Tuner("lfo_ray/rllib/GAIFO", param_space=config)`, "..._SAC" for
SAC (see registry.py). The reward model is the native one (lfo_ray.algorithms.learned_reward.rewards)
inside a learner-only RLModule (module.py); a learner-connector piece writes its reward into the
batch the loss reads, before GAE for PPO, into each replayed batch for SAC (connector.py); the
learner trains it after its updates (learner.py). The classes load on first use, so the registry
names (registry.py) are available without importing RLlib.
"""

from typing import Any

_CLASSES = {"GAIL": "algorithms", "GAIfO": "algorithms", "IMRL": "algorithms", "PMIIL": "algorithms",
            "GAILSAC": "algorithms", "GAIfOSAC": "algorithms", "IMRLSAC": "algorithms", "PMIILSAC": "algorithms",
            "ALGORITHMS": "algorithms", "SAC_ALGORITHMS": "algorithms",
            "GAILConfig": "config", "GAIfOConfig": "config", "IMRLConfig": "config", "PMIILConfig": "config",
            "GAILSACConfig": "config", "GAIfOSACConfig": "config", "IMRLSACConfig": "config",
            "PMIILSACConfig": "config", "ImitationPPOConfig": "config", "ImitationSACConfig": "config"}
__all__ = list(_CLASSES)


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        import importlib

        return getattr(importlib.import_module(f"lfo_ray.rllib.{_CLASSES[name]}"), name)
    raise AttributeError(f"module 'lfo_ray.rllib' has no attribute {name!r}")
