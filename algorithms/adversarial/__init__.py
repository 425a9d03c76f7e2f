"""Adversarial imitation: GAIL (Ho and Ermon 2016) and GAIfO (Torabi et al. 2018), one core."""
