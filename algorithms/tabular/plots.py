"""The recovered reward as a size x size heatmap PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lfo_ray.data.parquet import atomic_write


def save_reward_heatmap(reward: np.ndarray, size: int, path: str | Path, title: str = "") -> Path:
    """Writes the state reward (S,) as a heatmap (row 0 at the top, goal bottom-right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.asarray(reward, dtype=np.float64).reshape(size, size)
    figure, axes = plt.subplots(figsize=(5, 4.4))
    image = axes.imshow(grid, cmap="hot", interpolation="nearest")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_title(title, fontsize=9)
    axes.set_xticks([])
    axes.set_yticks([])
    figure.tight_layout()
    try:
        return atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100))
    finally:
        plt.close(figure)
