"""Collection throughput: transitions/s with 1 and 2 Ray workers, next to the raw step rate
of the same vectorised envs driven by the expert in one process without Ray.

    python experiments/bench_collect.py --env CartPole-v1 --episodes 400

The Ray figures include shipping whole episodes back through the object store.
"""

from __future__ import annotations

import argparse
import time


from lfo_ray.collect import CollectSpec, EpisodeCollector, collect_dataset
from lfo_ray.envs import make_vector_env
from lfo_ray.envs.experts import load_expert
from lfo_ray.runtime import ensure_ray


def raw_rate(env_id: str, num_envs: int, steps: int) -> float:
    """Expert-driven vector env steps per second, no Ray, no episode bookkeeping."""
    env = make_vector_env(env_id, num_envs)
    expert = load_expert(env_id)
    obs, _ = env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        obs, *_ = env.step(expert.act(obs))
    return steps * num_envs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--episodes", type=int, default=400)
    parser.add_argument("--envs-per-worker", type=int, default=16)
    args = parser.parse_args()

    rows = [("raw vector env, no Ray", raw_rate(args.env, args.envs_per_worker, 2000))]
    spec = CollectSpec(args.env, args.episodes, seed=0, envs_per_worker=args.envs_per_worker)
    collector = EpisodeCollector(make_vector_env(args.env, args.envs_per_worker), load_expert(args.env), 0)
    start = time.perf_counter()
    episodes = collector.collect(args.episodes)
    rows.append(("collector in-process", sum(len(e) for e in episodes) / (time.perf_counter() - start)))
    ensure_ray(num_cpus=2)
    collect_dataset(CollectSpec(args.env, 4, envs_per_worker=2), workers=2)  # warm the worker pool
    for workers in (1, 2):
        _, stats = collect_dataset(spec, workers=workers)
        rows.append((f"Ray, {workers} worker(s)", stats["transitions_per_s"]))
    print(f"\n{args.env}, {args.episodes} episodes, {args.envs_per_worker} envs per worker")
    print("| path | transitions/s |\n|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
