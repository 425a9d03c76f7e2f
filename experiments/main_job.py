"""The README's main job: collect a demonstration set on the embedded local Ray and inspect it.

    make run            # = python experiments/main_job.py --out runs/main

Two Ray workers, each with its own seeded vector of CartPole envs driven by the shipped expert,
collect observation-only-ready demonstrations into one Parquet file, which is then inspected.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lfo_ray.cli import main as lfo


def run(out: Path, episodes: int) -> None:
    demos = out / "cartpole_demos.parquet"
    steps = [
        ["collect", "CartPole-v1", "--episodes", str(episodes), "--workers", "2", "--seed", "0",
         "--out", str(demos)],
        ["data", "inspect", str(demos)],
    ]
    for argv in steps:
        print(f"\n$ lfo {' '.join(argv)}", flush=True)
        if lfo(argv) != 0:
            raise SystemExit(f"`lfo {' '.join(argv)}` failed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/main"))
    parser.add_argument("--episodes", type=int, default=40)
    args = parser.parse_args()
    run(args.out, args.episodes)
