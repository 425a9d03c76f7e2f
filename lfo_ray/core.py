"""The few interfaces every lfo-ray component implements; nothing else lives here."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    """Maps a batch of observations (B, *obs_shape) to a batch of actions (B, ...).

    Policies handed to evaluation act as they would be deployed (greedy where that applies).
    """

    def act(self, obs: np.ndarray) -> np.ndarray: ...
