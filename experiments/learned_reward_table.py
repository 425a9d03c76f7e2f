"""The learned-reward table: GAIL, GAIfO, IMRL and PMI-IL on CartPole, Acrobot and MountainCar.

    python experiments/learned_reward_table.py [--envs CartPole-v1 ...] [--methods gaifo pmi_il ...]
        [--seeds 0 1 2 3 4] [--placement local|ray] [--jobs 2]

Each (env, method, seed) trains from the shipped demonstrations lfo_ray/demos/<env>.parquet with the
algorithm's defaults, exactly what `lfo train METHOD --env ENV --demos ...` runs (no early stopping),
and is scored by train_run's greedy evaluation on the true
reward (20 episodes). Prints, and writes to experiments/results/learned_reward_table.{json,md}, one row
per (env, method): mean over seeds with its 95% Student-t confidence interval, the per-seed means, env
steps per run, mean wall seconds per run, and the eq. 20 ranking metric of the learned reward on
held-out expert episodes, next to our expert's return on the same evaluation episodes (its policy is
not the talk's, and start states matter). Rows from earlier invocations are kept unless re-run, so the table can be
filled one environment at a time. The talk's anchors (expert / BCO / GAIL / PMI-IL) are printed along.
`--jobs N` runs N trainings side by side, each in its own process on one torch thread; wall seconds
are then measured with N runs sharing the machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from lfo_ray.stats import t_interval

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "experiments" / "results"
METHODS = ("gail", "gaifo", "imrl", "pmi_il")
ANCHORS = {"CartPole-v1": (500.0, 471.5, 500.0, 500.0), "Acrobot-v1": (-77.4, -95.1, -78.9, -79.3),
           "MountainCar-v0": (-98.3, -123.1, -99.9, -98.6)}
EVAL_EPISODES = 20
TARGETS = {"CartPole-v1": 500.0, "Acrobot-v1": -80.0, "MountainCar-v0": -100.0}

# Every run uses the algorithm's defaults: no --set. Where a method has per-environment settings they
# are the shipped presets (lfo_ray.algorithms.learned_reward.presets) that `lfo train` applies too,
# and each row records them.
ENVS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")
MD_HEADER = ("Each algorithm with its defaults (the shipped presets), 5 seeds, 20 greedy evaluation episodes "
             "per seed; `measured` dates a row. Rows measured before 2026-12-02 come from the learned-reward "
             "stack before the GAIL/GAIfO merge (same settings, then given as --set), pending a re-run.\n\n")
def run(env: str, method: str, seed: int, placement: str) -> dict:
    from lfo_ray.experiment import train_run

    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory() as out:
        result = train_run(method, env, REPO / "lfo_ray" / "demos" / f"{env}.parquet", seed, out,
                           eval_episodes=EVAL_EPISODES, placement=placement, progress=False)
    return {"return": result["return_mean"], "env_steps": result["env_steps"], "wall_s": result["train_s"],
            "ranking_eq20": result["metrics"].get("ranking_eq20"), "preset": result["preset"],
            "machine": result["machine"]}


def expert_on_eval_episodes(env: str, seeds: list[int]) -> float:
    """The expert's mean return on exactly the evaluation episodes train_run gives these seeds:
    the anchors are absolute, and the start states matter."""
    from lfo_ray.envs.experts import load_expert
    from lfo_ray.experiment import evaluate_episodes
    from lfo_ray.seeding import FINAL_EVAL, derive_seed

    expert = load_expert(env)
    return float(np.mean([evaluate_episodes(expert, env, EVAL_EPISODES, derive_seed(seed, FINAL_EVAL)).mean()
                          for seed in seeds]))


def summarise(env: str, method: str, runs: list[dict]) -> dict:
    returns = [r["return"] for r in runs]
    ranking = [r["ranking_eq20"] for r in runs if r["ranking_eq20"] is not None]
    return {"env": env, "method": method, "seeds": len(runs), "mean": float(np.mean(returns)),
            "ci95": float(t_interval(returns)[1]), "per_seed": [round(r, 1) for r in returns],
            "env_steps": int(np.mean([r["env_steps"] for r in runs])),
            "wall_s": float(np.mean([r["wall_s"] for r in runs])),
            "ranking_eq20": float(np.mean(ranking)) if ranking else None,
            "target": TARGETS[env], "preset": runs[0]["preset"]}


def markdown(rows: list[dict]) -> str:
    lines = ["| env | method | return (mean ± 95% CI) | seeds | per seed | env steps/run | wall s/run | "
             "eq. 20 ranking | target | our expert, same episodes | talk: expert / BCO / GAIL / PMI-IL | measured |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ranking = "-" if r["ranking_eq20"] is None else f"{r['ranking_eq20']:.3f}"
        anchors = " / ".join(f"{a:g}" for a in ANCHORS[r["env"]])
        lines.append(f"| {r['env']} | {r['method']} | {r['mean']:.1f} ± {r['ci95']:.1f} | {r['seeds']} | "
                     f"{', '.join(f'{v:g}' for v in r['per_seed'])} | {r['env_steps']} | {r['wall_s']:.0f} | "
                     f"{ranking} | {r['target']:g} | {r['expert_same_episodes']:.1f} | {anchors} | "
                     f"{r.get('when', '?')[:10]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", nargs="+", default=list(ENVS), choices=list(ENVS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--placement", default="local", choices=["local", "ray"])
    parser.add_argument("--jobs", type=int, default=1, help="trainings run side by side (processes)")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of learned_reward_table.{json,md}; rows already there are kept")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    rows: dict = {}
    cells = [(env, method) for env in args.envs for method in args.methods]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        futures = {(env, method, seed): pool.submit(run, env, method, seed, args.placement)
                   for env, method in cells for seed in args.seeds}
        for env, method in cells:
            runs = []
            for seed in args.seeds:
                runs.append(futures[(env, method, seed)].result())
                print(f"{env} {method} seed {seed}: return {runs[-1]['return']:.1f}, {runs[-1]['env_steps']} steps, "
                      f"{runs[-1]['wall_s']:.0f} s", flush=True)
            rows[(env, method)] = dict(summarise(env, method, runs), seed_list=args.seeds, machine=runs[0]["machine"],
                                       expert_same_episodes=expert_on_eval_episodes(env, args.seeds),
                                       placement=args.placement, jobs=args.jobs,
                                       load=os.getloadavg()[0], when=time.strftime("%Y-%m-%d %H:%M:%S"),
                                       command=" ".join(["python"] + sys.argv))
            print(markdown([rows[(env, method)]]).splitlines()[-1], flush=True)
            ordered = write(args.results, {(env, method): rows[(env, method)]})  # after each cell
    print("\n" + markdown(ordered))


def write(results: Path, new_rows: dict) -> list[dict]:
    """Adds `new_rows` to the rows already in results/learned_reward_table.json (re-read now, so
    invocations running side by side keep each other's cells) and writes both result files, each
    to a temporary name and renamed."""
    path = results / "learned_reward_table.json"
    table = json.loads(path.read_text()) if path.exists() else {"rows": []}
    rows = {(r["env"], r["method"]): r for r in table["rows"] if r["method"] in METHODS and r["env"] in ENVS}
    rows.update(new_rows)
    ordered = [rows[k] for k in sorted(rows, key=lambda k: (ENVS.index(k[0]), METHODS.index(k[1])))]
    results.mkdir(parents=True, exist_ok=True)
    for name, text in (("learned_reward_table.json", json.dumps({"rows": ordered}, indent=2)),
                       ("learned_reward_table.md", MD_HEADER + markdown(ordered) + "\n")):
        tmp = results / f".{name}.tmp"
        tmp.write_text(text)
        tmp.replace(results / name)
    return ordered


if __name__ == "__main__":
    main()
