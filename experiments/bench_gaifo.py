"""Time GAIfO (observations only) on CartPole-v1 to a mean training return of 475.

    python experiments/bench_gaifo.py [--seeds 0 1 2] [--actors 1 2] [--local] [--budget 300000]

For each number of Ray rollout actors (the same 8 environments in total, split between them) and
each seed, trains `gaifo` from lfo_ray/demos/CartPole-v1.parquet until the mean true return of
the last 20 training episodes reaches 475 (or the budget runs out), and prints wall seconds (the
training function, actor start-up included, Ray's own start-up excluded), environment steps and
the greedy evaluation return of the deployed policy. --local adds the same loop in one process.
Ray is started once with 2 CPUs. Writes experiments/results/learned_reward_bench_gaifo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DEMOS = REPO / "lfo_ray" / "demos" / "CartPole-v1.parquet"
RESULTS = REPO / "experiments" / "results" / "learned_reward_bench_gaifo.json"
TARGET = 475.0
CONFIG = {"ent_coef": 0.01, "gamma": 0.99, "stop_return": TARGET, "rollout_steps": 64}
TOTAL_ENVS = 8


def run(placement: str, actors: int, seed: int, budget: int) -> dict:
    from lfo_ray.experiment import train_run

    overrides = dict(CONFIG, total_env_steps=budget, num_workers=actors, envs_per_worker=TOTAL_ENVS // actors)
    with tempfile.TemporaryDirectory() as out:
        result = train_run("gaifo", "CartPole-v1", DEMOS, seed, out, overrides, eval_episodes=20,
                           placement=placement, progress=False)
    return {"placement": placement, "actors": actors, "seed": seed, "wall_s": round(result["train_s"], 2),
            "env_steps": result["env_steps"], "reached": bool(result["metrics"]["stopped_early"]),
            "train_return": round(result["metrics"]["recent_train_return"], 1),
            "eval_return": result["return_mean"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--budget", type=int, default=300_000)
    parser.add_argument("--local", action="store_true", help="also run the loop in one process")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from lfo_ray.runtime import ensure_ray

    load = os.getloadavg()[0]
    ensure_ray(num_cpus=2)
    settings = [("ray", a) for a in args.actors] + ([("local", 1)] if args.local else [])
    rows = []
    print(f"{'placement':>9} {'actors':>6} {'seed':>4} {'wall_s':>7} {'env_steps':>9} {'reached':>7} "
          f"{'train':>6} {'eval':>6}", flush=True)
    for placement, actors in settings:
        for seed in args.seeds:
            row = run(placement, actors, seed, args.budget)
            rows.append(row)
            print(f"{placement:>9} {actors:>6} {seed:>4} {row['wall_s']:>7.1f} {row['env_steps']:>9} "
                  f"{str(row['reached']):>7} {row['train_return']:>6.1f} {row['eval_return']:>6.1f}", flush=True)
    print("\nmedian over seeds (all runs, reached or not):")
    for placement, actors in settings:
        picked = [r for r in rows if r["placement"] == placement and r["actors"] == actors]
        print(f"  {placement} x{actors}: {np.median([r['wall_s'] for r in picked]):.1f} s, "
              f"{int(np.median([r['env_steps'] for r in picked]))} env steps, "
              f"{sum(r['reached'] for r in picked)}/{len(picked)} reached {TARGET:.0f}")
    payload = {"target": TARGET, "config": CONFIG, "total_envs": TOTAL_ENVS, "rows": rows,
               "load_before": load, "load_after": os.getloadavg()[0], "cpus": os.cpu_count(),
               "when": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(["python"] + sys.argv)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2))
    print(f"wrote {RESULTS.relative_to(REPO)} (load average {load:.1f} before, {payload['load_after']:.1f} after)")


if __name__ == "__main__":
    main()
