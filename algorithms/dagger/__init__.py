"""Dataset Aggregation (DAgger, Ross et al. 2011)."""
