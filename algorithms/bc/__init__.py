"""Behavioural cloning (BC)."""
