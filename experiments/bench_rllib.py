"""GAIfO, native runtime against the RLlib Algorithm: env steps/s and return at equal env steps.

    python experiments/bench_rllib.py [--seeds 0 1] [--budget 100000] [--checkpoints 25000 50000 100000]
    python experiments/bench_rllib.py --rl sac --budget 20000 --checkpoints 10000 20000

--rl ppo (default), on CartPole-v1: the native `lfo train gaifo` loop (placement "ray", 1 rollout
actor of 8 envs, PPO and reward learners as actors) against `lfo_ray.rllib.GAIfOConfig` (RLlib PPO,
1 EnvRunner of 8 envs, the local learner; its PPO settings are the native defaults, and its learning
rate decays linearly over the budget as the native one does).
--rl sac, on InvertedPendulum-v5: the native `lfo train gaifo --set rl=sac` against
`lfo_ray.rllib.GAIfOSACConfig` (RLlib SAC with its default sampling, 1 env step per update on the
local EnvRunner; the native SAC's learning rates, batch, replay and 5000 warm-up steps).
Both from the shipped demonstrations named like the env, with their defaults, on the same Ray (2 CPUs).
Reports env steps/s of the training loop (start-up excluded), the mean training return (true reward,
never learned from) at each checkpoint, and a greedy evaluation (20 episodes) of the final policy.
Writes experiments/results/bench_rllib.json (bench_rllib_sac.json with --rl sac).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from lfo_ray.data.parquet import atomic_write
from lfo_ray.seeding import FINAL_EVAL, derive_seed

REPO = Path(__file__).resolve().parents[1]
ENVS = {"ppo": "CartPole-v1", "sac": "InvertedPendulum-v5"}
EVAL_EPISODES = 20


def at_checkpoints(curve: list[tuple[int, float]], checkpoints: list[int]) -> dict[int, float]:
    """Mean training return over the curve points within -10%/+5% of each checkpoint's env steps."""
    out = {}
    for c in checkpoints:
        window = [r for s, r in curve if 0.9 * c <= s <= 1.05 * c and np.isfinite(r)]
        out[c] = float(np.mean(window)) if window else float("nan")
    return out


def native(rl: str, seed: int, budget: int) -> dict:
    from lfo_ray.experiment import train_run

    env_id = ENVS[rl]
    with tempfile.TemporaryDirectory() as out:
        result = train_run("gaifo", env_id, REPO / "lfo_ray" / "demos" / f"{env_id}.parquet", seed, out,
                           {"total_env_steps": budget, "rl": rl}, eval_episodes=EVAL_EPISODES, placement="ray",
                           progress=False)
        curve = [tuple(p) for p in json.loads((Path(out) / "result.json").read_text())["curve"]]
    return {"path": "native", "seed": seed, "env_steps": result["env_steps"], "train_s": result["train_s"],
            "steps_per_s": result["metrics"]["env_steps_per_s"], "curve": curve, "final_eval": result["return_mean"]}


def greedy_eval(module, env_id: str, seed: int) -> float:
    """The policy module's deterministic action (argmax, or tanh of the mean for SAC's squashed
    Gaussian, in [-1, 1] units mapped to the env's bounds as normalize_actions does)."""
    env = gym.make(env_id)
    dist_cls = module.get_inference_action_dist_cls()
    box = isinstance(env.action_space, gym.spaces.Box)
    returns = []
    for episode in range(EVAL_EPISODES):
        # The native run's final evaluation episodes: its env i starts from the stream's seed + i.
        obs, _ = env.reset(seed=derive_seed(seed, FINAL_EVAL) + episode)
        done, total = False, 0.0
        while not done:
            with torch.no_grad():
                inputs = module.forward_inference({"obs": torch.as_tensor(obs[None], dtype=torch.float32)})
                action = dist_cls.from_logits(inputs["action_dist_inputs"]).to_deterministic().sample()[0].numpy()
            if box:
                low, high = env.action_space.low, env.action_space.high
                action = np.clip(low + (action + 1.0) * (high - low) / 2, low, high)
            obs, reward, terminated, truncated, _ = env.step(action if box else int(action))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def rllib(rl: str, seed: int, budget: int) -> dict:
    from lfo_ray.rllib import GAIfOConfig, GAIfOSACConfig

    if rl == "sac":
        config = GAIfOSACConfig().environment(ENVS[rl]).debugging(seed=seed)
    else:
        config = (GAIfOConfig().environment(ENVS[rl]).debugging(seed=seed)
                  .training(lr=[[0, 1e-3], [budget, 1e-6]]))
    algo = config.build_algo()
    curve, steps, start = [], 0, time.perf_counter()
    try:
        while steps < budget:
            result = algo.train()
            steps = int(result["env_runners"]["num_env_steps_sampled_lifetime"])
            curve.append((steps, result["env_runners"].get("episode_return_mean", float("nan"))))
        train_s = time.perf_counter() - start
        final = greedy_eval(algo.get_module(), ENVS[rl], seed)
    finally:
        algo.stop()
    return {"path": "rllib", "seed": seed, "env_steps": steps, "train_s": train_s, "steps_per_s": steps / train_s,
            "curve": curve, "final_eval": final}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--budget", type=int, default=100_000)
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[25_000, 50_000, 100_000])
    parser.add_argument("--paths", nargs="+", default=["native", "rllib"], choices=["native", "rllib"])
    parser.add_argument("--rl", default="ppo", choices=sorted(ENVS), help="the generator (and the env it runs on)")
    args = parser.parse_args(argv)
    name = "bench_rllib.json" if args.rl == "ppo" else f"bench_rllib_{args.rl}.json"
    results = REPO / "experiments" / "results" / name
    torch.set_num_threads(1)
    from lfo_ray.runtime import ensure_ray

    load = os.getloadavg()[0]
    ensure_ray(num_cpus=2)
    rows = []
    print(f"{'path':>7} {'seed':>4} {'env_steps':>9} {'train_s':>8} {'steps/s':>8} "
          + " ".join(f"{'R@' + str(c // 1000) + 'k':>7}" for c in args.checkpoints) + f" {'greedy':>7}", flush=True)
    for seed in args.seeds:
        for path in args.paths:
            row = (native if path == "native" else rllib)(args.rl, seed, args.budget)
            row["returns_at"] = at_checkpoints(row["curve"], args.checkpoints)
            rows.append(row)
            print(f"{path:>7} {seed:>4} {row['env_steps']:>9} {row['train_s']:>8.1f} {row['steps_per_s']:>8.0f} "
                  + " ".join(f"{row['returns_at'][c]:>7.1f}" for c in args.checkpoints)
                  + f" {row['final_eval']:>7.1f}", flush=True)
    print("\nmedians over seeds:")
    summary = {}
    for path in args.paths:
        mine = [r for r in rows if r["path"] == path]
        summary[path] = {"steps_per_s": float(np.median([r["steps_per_s"] for r in mine])),
                         "returns_at": {c: float(np.median([r["returns_at"][c] for r in mine])) for c in args.checkpoints},
                         "final_eval": [r["final_eval"] for r in mine]}
        s = summary[path]
        print(f"  {path:>6}: {s['steps_per_s']:.0f} env steps/s; training return "
              + ", ".join(f"{v:.0f} at {c}" for c, v in s["returns_at"].items())
              + f"; greedy eval after {args.budget}: {s['final_eval']}")
    payload = {"rl": args.rl, "env": ENVS[args.rl], "budget": args.budget, "rows": rows, "summary": summary, "load_before": load,
               "load_after": os.getloadavg()[0], "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M:%S"),
               "command": " ".join(["python"] + sys.argv)}
    results.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(results, lambda tmp: Path(tmp).write_text(json.dumps(payload, indent=2)))
    print(f"wrote {results.relative_to(REPO)} (load average {load:.1f} before, {payload['load_after']:.1f} after)")


if __name__ == "__main__":
    main()
