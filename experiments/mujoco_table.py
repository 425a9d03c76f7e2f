"""Continuous control from observation on MuJoCo: the results table, resumable, in pieces.

    python experiments/mujoco_table.py --envs InvertedPendulum-v5 --methods gaifo-sac bco --seeds 0 1 2
    python experiments/mujoco_table.py --table          # print the table of what has finished

Each (env, method, seed) trains from the shipped observation-only demonstrations
lfo_ray/demos/<env>.parquet (BC: with their actions) at the task's env-step budget (BUDGETS) in
runs/mujoco_table/<env>/<method>/seed<k>, checkpointed by the algorithm itself: interrupt it and run
the same command again, and every unfinished run continues from its last checkpoint (a finished run is
skipped). A method row is the algorithm with its defaults plus only the switches in METHODS (the
generator, the budget), so `lfo train` reproduces it with the printed command.

Scores are greedy returns on the true reward (20 episodes per seed), normalised by the demonstrations'
anchors: (R - R_random) / (R_expert - R_random), the uniform-random policy's and the expert's returns
recorded in the demonstrations' metadata. The table gives, per (env, method), the normalised IQM over
seeds with its 95% stratified bootstrap CI (lfo_ray.stats), the raw mean return, the seeds done and the
wall seconds per run; per method, the IQM over all tasks. A row with fewer seeds than asked is partial
and says so. Results are merged into experiments/results/mujoco_table.json as each run finishes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from lfo_ray.data.parquet import atomic_write

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "experiments" / "results" / "mujoco_table.json"
RUNS = REPO / "runs" / "mujoco_table"
ENVS = ("InvertedPendulum-v5", "InvertedDoublePendulum-v5", "Hopper-v5", "HalfCheetah-v5", "Walker2d-v5")
BUDGETS = {"InvertedPendulum-v5": 100_000, "InvertedDoublePendulum-v5": 300_000, "Hopper-v5": 1_000_000,
           "HalfCheetah-v5": 1_000_000, "Walker2d-v5": 1_000_000}
"""Env steps per run: the issue's budgets (OPOLO's 1M for locomotion)."""
# method -> (algorithm, --set switches besides the budget)
METHODS = {
    "gaifo-sac": ("gaifo", {"rl": "sac"}),
    # explicit: the locomotion presets make SAC the generator
    "gaifo-ppo": ("gaifo", {"rl": "ppo"}),
    "pmi_il-sac": ("pmi_il", {"rl": "sac"}),
    "imrl-sac": ("imrl", {"rl": "sac"}),
    "bco": ("bco", {}),
    "bc": ("bc", {}),
}
BUDGET_FIELD = {"gaifo": "total_env_steps", "pmi_il": "total_env_steps", "imrl": "total_env_steps",
                "bco": "budget"}
EVAL_EPISODES = 20
SEEDS_FULL = 3
"""Seeds a row needs not to be marked partial (the issue's minimum)."""


def overrides(method: str, env: str) -> dict:
    algo, switches = METHODS[method]
    field = BUDGET_FIELD.get(algo)
    return {**switches, **({field: BUDGETS[env]} if field else {})}


def command(method: str, env: str, seed: int) -> str:
    algo = METHODS[method][0]
    sets = " ".join(f"--set {k}={v}" for k, v in overrides(method, env).items())
    return f"lfo train {algo} --env {env} --demos {env} --seed {seed} {sets}".strip()


def load() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}


def save(results: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(RESULTS, lambda tmp: Path(tmp).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n"))


def run_one(env: str, method: str, seed: int, placement: str | None, redo: bool = False) -> dict:
    from lfo_ray.experiment import train_run

    out = RUNS / env / method / f"seed{seed}"
    resume = not redo and (out / "run.json").exists()
    start = time.perf_counter()
    result = train_run(METHODS[method][0], env, env, seed, out, overrides(method, env), eval_episodes=EVAL_EPISODES,
                       placement=placement, resume=resume, overwrite=redo, progress=False)
    return {"return": result["return_mean"], "env_steps": result["env_steps"],
            "wall_s_this_call": time.perf_counter() - start, "resumed": resume, "command": command(method, env, seed),
            "curve": result.get("curve", []), "measured": time.strftime("%Y-%m-%d"), "machine": result["machine"]}


def anchors(env: str) -> tuple[float, float]:
    """(random, expert) returns: the demonstrations' metadata first (lfo_ray.envs.anchors)."""
    from lfo_ray.data.parquet import read_metadata
    from lfo_ray.demos import resolve_demos
    from lfo_ray.envs.anchors import resolve_anchors

    found = resolve_anchors(env, read_metadata(resolve_demos(env)))
    return found.random, found.expert


def table(results: dict, seeds_asked: int) -> str:
    from lfo_ray.stats import iqm, normalized_return, stratified_bootstrap_ci

    lines = ["| env | method | normalised IQM [95% CI] | mean return | seeds | budget | note |",
             "|---|---|---|---|---|---|---|"]
    per_method: dict[str, list[np.ndarray]] = {}
    for env in ENVS:
        rows = {m: r for m, r in results["runs"].get(env, {}).items() if r}
        if not rows:
            continue
        random, expert = anchors(env)
        for method, by_seed in rows.items():
            returns = np.array([v["return"] for v in by_seed.values()])
            scores = normalized_return(returns, random, expert)
            per_method.setdefault(method, []).append(scores)
            point, low, high = stratified_bootstrap_ci([scores], iqm, seed=0)
            note = "partial" if len(returns) < seeds_asked else ""
            lines.append(f"| {env} | {method} | {point:.3f} [{low:.3f}, {high:.3f}] | {returns.mean():.1f} | "
                         f"{len(returns)} | {BUDGETS[env]:,} | {note} |")
    lines.append("")
    lines.append("| method | IQM over tasks [95% CI] | tasks |")
    lines.append("|---|---|---|")
    for method, scores in per_method.items():
        point, low, high = stratified_bootstrap_ci(scores, iqm, seed=0)
        lines.append(f"| {method} | {point:.3f} [{low:.3f}, {high:.3f}] | {len(scores)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", nargs="*", default=list(ENVS), choices=ENVS)
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--placement", choices=["local", "ray"])
    parser.add_argument("--table", action="store_true", help="only print the table of finished runs")
    parser.add_argument("--redo", action="store_true",
                        help="run the asked seeds afresh, replacing their rows (after a change of defaults)")
    args = parser.parse_args()
    if not args.table:
        for env in args.envs:
            for method in args.methods:
                for seed in args.seeds:
                    results = load()
                    if not args.redo and str(seed) in results["runs"].get(env, {}).get(method, {}):
                        continue
                    print(f"{env} {method} seed {seed}: {command(method, env, seed)}", flush=True)
                    row = run_one(env, method, seed, args.placement, args.redo)
                    print(f"  -> return {row['return']:.1f} in {row['wall_s_this_call']:.0f}s", flush=True)
                    results = load()         # another invocation may have added rows meanwhile
                    results["runs"].setdefault(env, {}).setdefault(method, {})[str(seed)] = row
                    save(results)
    text = table(load(), max(SEEDS_FULL, len(args.seeds)))
    print(text)
    atomic_write(RESULTS.with_suffix(".md"), lambda tmp: Path(tmp).write_text(text + "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
