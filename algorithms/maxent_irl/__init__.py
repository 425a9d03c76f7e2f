"""Maximum Entropy IRL (Ziebart et al. 2008)."""
