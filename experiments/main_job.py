"""The README's main job: ILPO on CartPole from the shipped observation-only demonstrations.

    make run            # = python experiments/main_job.py --out runs/main

Runs on an embedded local Ray: the latent policy network learns from the demonstrations'
observations alone, then Ray rollout actors gather 1,000 environment interactions for the action
remapping network. Prints the learned policy's return next to the demonstrations' return.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lfo_ray.cli import main as lfo

DEMOS = Path(__file__).resolve().parents[1] / "lfo_ray" / "demos" / "CartPole-v1.parquet"


def fresh_dir(out: Path, name: str) -> Path:
    """out/name, or out/name-2, -3, ... when it exists: a second `make run` adds a run beside the
    first instead of failing on (or overwriting) it."""
    candidate, k = out / name, 1
    while candidate.exists():
        k += 1
        candidate = out / f"{name}-{k}"
    return candidate


def run(out: Path, seed: int) -> None:
    steps = [
        ["data", "inspect", str(DEMOS)],
        ["train", "ilpo", "--env", "CartPole-v1", "--demos", str(DEMOS), "--seed", str(seed),
         "--out", str(fresh_dir(out, "ilpo-cartpole"))],
    ]
    for argv in steps:
        print(f"\n$ lfo {' '.join(argv)}", flush=True)
        if lfo(argv) != 0:
            raise SystemExit(f"`lfo {' '.join(argv)}` failed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/main"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run(args.out, args.seed)
