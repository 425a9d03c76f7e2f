"""Learned-reward imitation on the runtime: GAIL, GAIfO, IMRL and PMI-IL rewards, one PPO loop.

The algorithm specs live in `lfo_ray.algorithms.learned_reward.specs` (imported on demand by the
registry, so importing this package stays cheap).
"""
