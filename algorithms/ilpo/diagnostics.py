"""Figures that say why an ILPO run did or did not imitate, as pure functions of arrays.

They read the demonstrations' actions where the file has them: only to measure, never to train.
"""

from __future__ import annotations

import numpy as np
import torch


def shares(indices: np.ndarray, n: int) -> np.ndarray:
    """(n,) share of each value 0..n-1 among `indices`."""
    return np.bincount(np.asarray(indices, dtype=np.int64), minlength=n)[:n] / max(len(indices), 1)


def used(indices: np.ndarray, n: int, floor: float = 0.05) -> int:
    """How many of the n values take at least `floor` of `indices` (latents actually used)."""
    return int((shares(indices, n) >= floor).sum())


def purity(labels: np.ndarray, actions: np.ndarray) -> float:
    """Share of steps whose real action is the most common one among steps with the same label:
    1 when each latent label stands for one real action, the majority action's share when the
    labels say nothing about the action."""
    labels, actions = np.asarray(labels), np.asarray(actions)
    total = 0
    for label in np.unique(labels):
        total += np.bincount(actions[labels == label]).max()
    return float(total / max(len(labels), 1))


def peakedness(probs: np.ndarray) -> tuple[float, float]:
    """(mean max-probability, mean entropy / log A) of (N, A) distributions: (1, 0) for a
    deterministic latent -> action map, (1/A, 1) for a uniform one."""
    probs = np.asarray(probs, dtype=np.float64)
    entropy = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(-1) / np.log(probs.shape[-1])
    return float(probs.max(-1).mean()), float(entropy.mean())


def nearest_distance(points: np.ndarray, reference: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """(N,) Euclidean distance from each point to its nearest row of `reference` (M, D)."""
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32))
    out = []
    for start in range(0, len(points), chunk):
        part = torch.as_tensor(np.asarray(points[start:start + chunk], dtype=np.float32))
        out.append(torch.cdist(part, ref).min(dim=1).values.numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def first_exits(distances: list[np.ndarray], threshold: float) -> list[int]:
    """Per episode (its states' distances to the demonstrations), the first step beyond
    `threshold`; the episode's length when it never leaves."""
    exits = []
    for episode in distances:
        beyond = np.flatnonzero(np.asarray(episode) > threshold)
        exits.append(int(beyond[0]) if len(beyond) else len(episode))
    return exits


def nearest_index(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(N,) index of each point's nearest row of `reference`."""
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32))
    return torch.cdist(torch.as_tensor(np.asarray(points, dtype=np.float32)), ref).argmin(dim=1).numpy()
