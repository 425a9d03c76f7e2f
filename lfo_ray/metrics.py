"""Fixed metric names (TensorBoard tags) and the training progress bar."""

from __future__ import annotations

import sys

EPISODIC_RETURN = "charts/episodic_return"
SPS = "charts/SPS"
ENV_STEPS = "charts/env_steps"
EVAL_RETURN = "eval/return_mean"
UPDATES_PER_S = "charts/updates_per_s"
POLICY_LAG = "charts/policy_lag"
"""Asynchronous sampling: the largest weights-version lag of the chunks delivered (lfo_ray.sampling)."""


def loss_tag(name: str) -> str:
    return f"losses/{name}"


class Progress:
    """A tqdm bar over env steps (or updates) showing the latest return; the rate is tqdm's own (one
    rate, scaled: "7.5k step/s")."""

    def __init__(self, total: int, desc: str, unit: str = "step", disable: bool | None = None) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr, disable=disable,
                        dynamic_ncols=True, leave=False)
        self.done = 0

    def update(self, n: int, **postfix: float) -> None:
        self.done += n
        if postfix:
            self.bar.set_postfix({k: f"{v:.1f}" for k, v in postfix.items()}, refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
