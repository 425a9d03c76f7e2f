"""ILPO: Imitating Latent Policies from Observation (latent policy network + action remapping)."""

from lfo_ray.algorithms.ilpo.algorithm import ALGORITHM

__all__ = ["ALGORITHM"]
