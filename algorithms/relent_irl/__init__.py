"""Relative Entropy IRL (Boularias, Kober and Peters 2011)."""
