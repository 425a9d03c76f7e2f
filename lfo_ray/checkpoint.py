"""Checkpoints: one torch file per run directory, written atomically, with RNG states."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lfo_ray.data.parquet import atomic_write

STATE_FILE = "state.pt"


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(),
            "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def save_checkpoint(directory: Path, state: dict[str, Any]) -> Path:
    """Writes `state` (learner, replay, counters...) plus the RNG states to DIR/state.pt."""
    payload = dict(state, rng=rng_state())
    return atomic_write(Path(directory) / STATE_FILE, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(directory: Path) -> dict[str, Any]:
    """Loads DIR/state.pt and restores the RNG states it holds."""
    path = Path(directory) / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises several unrelated types for corrupt files
        raise ValueError(f"{path}: unreadable checkpoint ({error})") from None
    set_rng_state(state["rng"])
    return state
