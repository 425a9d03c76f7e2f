"""GAIfO (observations only) on CartPole-v1: time to a deployable policy, and env steps per second.

    python experiments/bench_gaifo.py [--seeds 0 1 2 3 4] [--placements ray local] [--budget 300000]
                                      [--peer-python /path/to/venv/bin/python]

Two measurements, each with `gaifo`'s defaults (what `lfo train gaifo --env CartPole-v1` runs) from
lfo_ray/demos/CartPole-v1.parquet:

1. time to threshold: training with a greedy evaluation of the current policy (10 episodes on the
   true reward, on an evaluator of its own) every 2 iterations, stopped when one reaches 475;
   reports wall seconds of the training function (actor start-up included, Ray's start-up excluded)
   and env steps at that point. The threshold is the deployed policy's return, not training returns.
2. throughput: the full --budget with no intermediate evaluation; env steps per second of the whole
   loop, reward-model and PPO learning included.

Ray is started once with 2 CPUs (placement "ray", the `lfo train` default); "local" runs the same
loop in one process.

3. the peer, in the same run: with `--peer-python` (or the IMITATION_PYTHON variable) naming a
   virtual environment with the `imitation` library, experiments/peer_imitation_gail.py runs its
   GAIL (with actions, SB3 PPO, 8 envs) for the same --budget and seeds after lfo-ray's runs, one
   at a time on the same quiet machine; the ratio is taken against its median. Without one, the
   table shows the peer's figure from an earlier day (PEER, marked as not measured in this run):
   this machine's speed drifts by tens of percent between days, so only a same-run ratio counts.

Writes experiments/results/bench_gaifo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lfo_ray.data.parquet import atomic_write
from lfo_ray.experiment import machine

REPO = Path(__file__).resolve().parents[1]
DEMOS = REPO / "lfo_ray" / "demos" / "CartPole-v1.parquet"
RESULTS = REPO / "experiments" / "results" / "bench_gaifo.json"
TARGET = 475.0
PEER = {"name": "imitation GAIL (actions, SB3 PPO, 8 envs)", "steps": 300_000, "wall_s": 84.0, "steps_per_s": 3600,
        "measured": "an earlier day on this machine, not in this run"}
PEER_SCRIPT = REPO / "experiments" / "peer_imitation_gail.py"
TO_THRESHOLD = {"eval_every": 2, "eval_episodes": 10, "stop_eval_return": TARGET}


def run(placement: str, seed: int, overrides: dict) -> dict:
    from lfo_ray.experiment import train_run

    with tempfile.TemporaryDirectory() as out:
        result = train_run("gaifo", "CartPole-v1", DEMOS, seed, out, overrides, eval_episodes=20,
                           placement=placement, progress=False)
    metrics = result["metrics"]
    return {"placement": placement, "seed": seed, "wall_s": round(result["train_s"], 2),
            "env_steps": result["env_steps"], "reached": bool(metrics["stopped_early"]),
            "steps_per_s": round(metrics["env_steps_per_s"]), "final_eval": result["return_mean"]}


def run_peer(python: str, seed: int, budget: int) -> dict:
    """One peer run in its own interpreter; its last stdout line is a JSON record."""
    done = subprocess.run([python, str(PEER_SCRIPT), "--seed", str(seed), "--steps", str(budget), "--demos", str(DEMOS)],
                          capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"lfo: error: the peer run failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--placements", nargs="+", default=["ray", "local"], choices=["ray", "local"])
    parser.add_argument("--budget", type=int, default=300_000)
    parser.add_argument("--peer-python", default=os.environ.get("IMITATION_PYTHON"),
                        help="python of a virtual environment with the imitation library: measure the peer in this run")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from lfo_ray.runtime import ensure_ray

    load = os.getloadavg()[0]
    if "ray" in args.placements:
        ensure_ray(num_cpus=2)
    rows = []
    print(f"{'measure':>10} {'placement':>9} {'seed':>4} {'wall_s':>7} {'env_steps':>9} {'steps/s':>8} "
          f"{'reached':>7} {'final':>6}", flush=True)
    for measure, overrides in (("threshold", TO_THRESHOLD), ("throughput", {"total_env_steps": args.budget})):
        for placement in args.placements:
            for seed in args.seeds:
                row = dict(run(placement, seed, overrides), measure=measure)
                rows.append(row)
                print(f"{measure:>10} {placement:>9} {seed:>4} {row['wall_s']:>7.1f} {row['env_steps']:>9} "
                      f"{row['steps_per_s']:>8} {str(row['reached']):>7} {row['final_eval']:>6.1f}", flush=True)
    peer = dict(PEER)
    if args.peer_python:
        peer_rows = []
        for seed in args.seeds:
            row = run_peer(args.peer_python, seed, args.budget)
            peer_rows.append(row)
            print(f"{'peer':>10} {'imitation':>9} {seed:>4} {row['wall_s']:>7.1f} {row['env_steps']:>9} "
                  f"{row['steps_per_s']:>8} {'-':>7} {row['final_eval']:>6.1f}", flush=True)
        peer.update(steps=int(np.median([r["env_steps"] for r in peer_rows])),
                    wall_s=float(np.median([r["wall_s"] for r in peer_rows])),
                    steps_per_s=float(np.median([r["steps_per_s"] for r in peer_rows])),
                    final_eval=[r["final_eval"] for r in peer_rows], rows=peer_rows, measured="in this run")
    print("\nmedians over seeds:")
    summary = {}
    for placement in args.placements:
        hit = [r for r in rows if r["placement"] == placement and r["measure"] == "threshold"]
        full = [r for r in rows if r["placement"] == placement and r["measure"] == "throughput"]
        summary[placement] = {
            "time_to_475_s": float(np.median([r["wall_s"] for r in hit])),
            "steps_to_475": int(np.median([r["env_steps"] for r in hit])),
            "reached": f"{sum(r['reached'] for r in hit)}/{len(hit)}",
            "steps_per_s": float(np.median([r["steps_per_s"] for r in full])),
            "final_eval_full_budget": [r["final_eval"] for r in full]}
        s = summary[placement]
        print(f"  {placement:>5}: greedy eval >= {TARGET:.0f} in {s['time_to_475_s']:.1f} s and "
              f"{s['steps_to_475']} env steps ({s['reached']} seeds reached it); {args.budget} steps at "
              f"{s['steps_per_s']:.0f} env steps/s ({s['steps_per_s'] / peer['steps_per_s']:.2f}x the peer)")
        s["x_peer"] = round(s["steps_per_s"] / peer["steps_per_s"], 2)
    print(f"  peer: {peer['name']}: {peer['steps']} steps in {peer['wall_s']:.0f} s, {peer['steps_per_s']:.0f} steps/s "
          f"(median; measured {peer['measured']})")
    payload = {"target": TARGET, "to_threshold": TO_THRESHOLD, "budget": args.budget, "rows": rows,
               "summary": summary, "peer": peer, "load_before": load, "load_after": os.getloadavg()[0],
               "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S"),
               "command": " ".join(["python"] + sys.argv)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(RESULTS, lambda tmp: Path(tmp).write_text(json.dumps(payload, indent=2)))
    print(f"wrote {RESULTS.relative_to(REPO)} (load average {load:.1f} before, {payload['load_after']:.1f} after)")


if __name__ == "__main__":
    main()
