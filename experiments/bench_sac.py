"""SAC throughput: lfo-ray's SAC against stable-baselines3's, side by side on this machine.

    python experiments/bench_sac.py [--env Hopper-v5] [--steps 3000] [--sb3-python /path/to/venv/bin/python]

Both run one gradient update per env step (batch 256, 256x256 networks, one torch thread each),
after the same uniformly random warm-up, and the figure is env steps/s over the measured steps
(warm-up excluded). lfo-ray runs `train_sac` with its defaults (8 envs on one rollout worker,
512 env steps then 512 updates per iteration) in one process ("local") and on the embedded Ray.
SB3 runs in its own virtual environment when `--sb3-python` (or the SB3_PYTHON variable) names
one with stable-baselines3 installed; otherwise lfo-ray's figures are printed alone.
Results are appended to experiments/results/bench_sac.json.
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

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "experiments" / "results" / "bench_sac.json"

SB3_SCRIPT = """
import sys, time, torch
torch.set_num_threads(1)
from stable_baselines3 import SAC
env_id, warmup, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
model = SAC("MlpPolicy", env_id, batch_size=256, learning_starts=warmup, train_freq=1, gradient_steps=1,
            policy_kwargs={"net_arch": [256, 256]}, seed=0, device="cpu", verbose=0)
model.learn(warmup)
start = time.perf_counter()
model.learn(steps, reset_num_timesteps=False)
print(steps / (time.perf_counter() - start))
"""


def lfo_rate(env_id: str, warmup: int, steps: int, placement: str) -> float:
    """Env steps/s of lfo-ray's SAC (env reward) over `steps` steps after `warmup` random ones."""
    from tensorboardX import SummaryWriter

    from lfo_ray.algorithms.learned_reward.config import GAIfOConfig
    from lfo_ray.algorithms.learned_reward.sac import train_sac
    from lfo_ray.experiment import RunContext
    from lfo_ray.placement import Placement

    with tempfile.TemporaryDirectory() as tmp:
        config = GAIfOConfig(rl="sac", learning_starts=warmup, total_env_steps=warmup + steps)
        ctx = RunContext(env_id, {}, None, 0, Path(tmp), SummaryWriter(tmp), placement=Placement(placement),
                         progress=False)
        out = train_sac(config, ctx, learned_reward=False)
        ctx.writer.close()
    # train_loop_s covers warm-up too: its random steps are cheap next to the updates, so the rate is
    # a slight underestimate, never an overestimate.
    return (out.env_steps - warmup) / out.metrics["train_loop_s"]


def sb3_rate(python: str, env_id: str, warmup: int, steps: int) -> float:
    done = subprocess.run([python, "-c", SB3_SCRIPT, env_id, str(warmup), str(steps)], capture_output=True,
                          text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--steps", type=int, default=3000, help="measured env steps (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--sb3-python", default=os.environ.get("SB3_PYTHON"))
    parser.add_argument("--placements", default="local,ray")
    args = parser.parse_args()
    rows: dict[str, float] = {}
    for placement in args.placements.split(","):
        rows[f"lfo-ray SAC ({placement})"] = lfo_rate(args.env, args.warmup, args.steps, placement)
        print(f"lfo-ray SAC ({placement}): {rows[f'lfo-ray SAC ({placement})']:.1f} env steps/s", flush=True)
    if args.sb3_python:
        rows["stable-baselines3 SAC"] = sb3_rate(args.sb3_python, args.env, args.warmup, args.steps)
        print(f"stable-baselines3 SAC: {rows['stable-baselines3 SAC']:.1f} env steps/s", flush=True)
    else:
        print("stable-baselines3 not measured (pass --sb3-python PATH to a venv that has it)")
    print(f"\n{args.env}, one update per env step, batch 256, 256x256, {args.steps} measured steps")
    print(f"{'':28s} {'env steps/s':>12s} {'h per 1M steps':>15s}")
    for name, rate in rows.items():
        ratio = f"  {rate / rows['stable-baselines3 SAC']:.2f}x SB3" if "stable-baselines3 SAC" in rows else ""
        print(f"{name:28s} {rate:12.1f} {1e6 / rate / 3600:15.2f}{ratio}")
    record = {"env": args.env, "steps": args.steps, "warmup": args.warmup, "rates": rows,
              "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count()}
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    from lfo_ray.data.parquet import atomic_write

    atomic_write(RESULTS, lambda tmp: Path(tmp).write_text(json.dumps([*history, record], indent=2) + "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
