"""Checkpoints and policy files: torch files that hold data only, written atomically.

Run directories are shared (sweeps, Jobs, downloaded results), so loading one must never run
code. Every file is written from a tree of tensors, numbers, strings, None and containers of
them, and read back with `torch.load(weights_only=True)`, which refuses anything else. The few
richer values algorithms keep in their state (numpy arrays and scalars, numpy's legacy RNG
state) are encoded as tagged dictionaries on save and decoded on load, so algorithm code writes
and reads its state dictionaries as before.
"""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lfo_ray.data.parquet import atomic_write

STATE_FILE = "state.pt"
_TAG = "__lfo_type__"


def encode(value: Any) -> Any:
    """`value` as a tree that `torch.load(weights_only=True)` accepts; `decode` inverts it."""
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"cannot checkpoint a numpy array of dtype {value.dtype}")
        return {_TAG: "ndarray", "data": torch.from_numpy(np.array(value, copy=True))}
    if isinstance(value, np.generic):
        return {_TAG: "npscalar", "dtype": value.dtype.str, "value": value.item()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        if not all(isinstance(key, (str, int)) for key in value):
            raise TypeError(f"cannot checkpoint a dict with keys {list(value)[:3]}")
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(encode(item) for item in value)
    if isinstance(value, list):
        return [encode(item) for item in value]
    raise TypeError(f"cannot checkpoint a {type(value).__name__}: only tensors, numpy arrays, "
                    "numbers, strings and containers of them are saved")


def decode(value: Any) -> Any:
    """Inverse of `encode`."""
    if isinstance(value, dict):
        kind = value.get(_TAG)
        if kind == "ndarray":
            return value["data"].numpy()
        if kind == "npscalar":
            return np.dtype(value["dtype"]).type(value["value"])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(decode(item) for item in value)
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def save_torch(path: Path, payload: Any) -> Path:
    """Writes `payload` (encoded, see `encode`) to `path` atomically."""
    encoded = encode(payload)
    return atomic_write(Path(path), lambda tmp: torch.save(encoded, tmp))


def safe_torch_load(path: Path) -> Any:
    """Loads a torch file that holds data only: a file carrying any other object is refused.

    Raises ValueError naming the file when it holds objects other than tensors, numbers and
    strings (a pickled object could run code when loaded) or is not a torch file at all.
    """
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # torch raises several unrelated types for refused or corrupt files
        text = str(error)
        if "Weights only load failed" in text or "WeightsUnpickler" in text:
            found = re.search(r"Unsupported (global|operand)[^\n]*?(?= was not|$)", text, re.MULTILINE)
            detail = found.group(0) if found else "an object torch's weights-only loader refuses"
            raise ValueError(f"refusing to load {path}: it holds objects other than "
                             f"tensors/numbers/strings ({detail})") from None
        raise ValueError(f"{path}: unreadable torch file ({type(error).__name__}: {error})") from None
    return decode(payload)


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(),
            "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(state["numpy"]))
    torch.set_rng_state(state["torch"])


def save_checkpoint(directory: Path, state: dict[str, Any]) -> Path:
    """Writes `state` (learner, replay, counters...) plus the RNG states to DIR/state.pt."""
    return save_torch(Path(directory) / STATE_FILE, dict(state, rng=rng_state()))


def load_checkpoint(directory: Path) -> dict[str, Any]:
    """Loads DIR/state.pt and restores the RNG states it holds."""
    path = Path(directory) / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    state = safe_torch_load(path)
    set_rng_state(state["rng"])
    return state


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (the demonstrations' identity in a run fingerprint)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

