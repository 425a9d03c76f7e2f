"""Maximum Causal Entropy IRL (Ziebart et al. 2010)."""
