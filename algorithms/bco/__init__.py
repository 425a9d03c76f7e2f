"""Behavioral Cloning from Observation, BCO and BCO(alpha) (Torabi et al. 2018)."""

from lfo_ray.algorithms.bco.algorithm import ALGORITHM

__all__ = ["ALGORITHM"]
