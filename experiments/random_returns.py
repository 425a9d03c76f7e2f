"""Measures a uniform-random policy's return per environment: the lower normalisation anchor.

    python experiments/random_returns.py                       # the MuJoCo and classic-control tasks
    python experiments/random_returns.py --env Hopper-v5 --episodes 100

Each environment runs `--episodes` seeded episodes of uniform actions on its default parameters
(`lfo_ray.envs.anchors.random_returns`); the mean, std and standard error are printed and merged
into envs/anchors.json (the shipped anchors, read by `lfo collect` and `lfo plot --normalize`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from lfo_ray.data.parquet import atomic_write
from lfo_ray.envs import CLASSIC_CONTROL, MUJOCO
from lfo_ray.envs.anchors import ANCHORS_FILE, random_returns

OUT = Path(__file__).resolve().parents[1] / "envs" / ANCHORS_FILE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", action="append", help="environment id (repeatable); default: all shipped")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = json.loads(args.out.read_text()) if args.out.exists() else {}
    for env_id in args.env or MUJOCO + CLASSIC_CONTROL:
        start = time.perf_counter()
        returns = random_returns(env_id, args.episodes, args.seed)
        table[env_id] = {"return_mean": round(float(returns.mean()), 3),
                         "return_std": round(float(returns.std()), 3),
                         "episodes": args.episodes, "seed": args.seed}
        print(f"{env_id:28s} random return {returns.mean():10.2f} ± {returns.std():8.2f} "
              f"(s.e. {returns.std(ddof=1) / np.sqrt(len(returns)):.2f}, {len(returns)} episodes, "
              f"{time.perf_counter() - start:.1f} s)", flush=True)
        text = json.dumps(dict(sorted(table.items())), indent=2) + "\n"
        atomic_write(args.out, lambda tmp: Path(tmp).write_text(text))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
