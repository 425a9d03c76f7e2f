"""Fixed metric names (TensorBoard tags) and the training progress bar."""

from __future__ import annotations

import sys
import time

EPISODIC_RETURN = "charts/episodic_return"
SPS = "charts/SPS"
ENV_STEPS = "charts/env_steps"
EVAL_RETURN = "eval/return_mean"
UPDATES_PER_S = "charts/updates_per_s"


def loss_tag(name: str) -> str:
    return f"losses/{name}"


class Progress:
    """A tqdm bar over env steps (or updates) showing the latest return and steps/s."""

    def __init__(self, total: int, desc: str, unit: str = "step", disable: bool | None = None) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=disable,
                        dynamic_ncols=True, leave=False)
        self.start = time.perf_counter()
        self.done = 0

    def update(self, n: int, **postfix: float) -> None:
        self.done += n
        rate = self.done / max(time.perf_counter() - self.start, 1e-9)
        self.bar.set_postfix({**{k: f"{v:.1f}" for k, v in postfix.items()}, "per_s": f"{rate:.0f}"})
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
