"""ILPO vs BCO with 1,000 environment interactions (the ILPO paper's classic-control setting).

    python experiments/reproduce_ilpo.py                       # 10 seeds, every env and demo set
    python experiments/reproduce_ilpo.py --seeds 3 --envs CartPole-v1 --algos ilpo

For each environment, demonstration set (clean, and 25% random actions), algorithm and seed, one
`lfo train` run (in-process placement, one torch thread, at most --procs runs at a time) writes
RUNS/<algo>/<demos>/seed<k>/result.json; finished runs are reused, so the script can be stopped
and restarted. It then writes into experiments/results/:
  ilpo_reproduction.md   final returns (mean and 95% confidence interval over seeds), the
                         demonstrations' return, a random policy's return, and the share of seeds
                         reaching 95% of the demonstrations' return
  ilpo_reproduction.png  return vs interactions, mean and 95% confidence band, per env and demo set
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

from lfo_ray.envs.anchors import random_return
from lfo_ray.stats import t_interval

REPO = Path(__file__).resolve().parents[1]
DEMOS = REPO / "lfo_ray" / "demos"
RESULTS = REPO / "experiments" / "results"
ENVS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")
DEMO_SETS = (("clean", ""), ("noisy", "-noise0.25"))
BUDGET = 1_000
# The interaction budget is a field of each algorithm's config, under its own name.
BUDGET_FIELD = {"ilpo": "interaction_budget", "bco": "budget"}
GRID = np.arange(0, BUDGET + 1, 100)


def run_one(task: tuple[str, str, str, int, str, dict]) -> dict:
    """One training run in this worker process; returns its result.json contents."""
    import torch

    from lfo_ray.experiment import train_run

    torch.set_num_threads(1)
    algo, env_id, demos, seed, out, overrides = task
    result_path = Path(out) / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    # No result.json: the run never finished (a stopped script); start it again.
    return train_run(algo, env_id, demos, seed, out, overrides=overrides, eval_episodes=20,
                     placement="local", progress=False, overwrite=True)


def on_grid(curve: list[list[float]]) -> np.ndarray:
    """A run's [env_steps, return] curve, read at GRID (holding the last value measured)."""
    steps, returns = np.array(curve, dtype=np.float64).T
    index = np.searchsorted(steps, GRID, side="right") - 1
    return np.where(index >= 0, returns[np.clip(index, 0, None)], np.nan)


def plot(groups: dict, randoms: dict[str, float], envs: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(envs), len(DEMO_SETS), figsize=(10, 3.2 * len(envs)), squeeze=False)
    for row, env_id in enumerate(envs):
        for col, (label, _) in enumerate(DEMO_SETS):
            ax = axes[row][col]
            cell = {algo: group for (algo, env, demos), group in sorted(groups.items())
                    if env == env_id and demos == label}
            for algo, group in cell.items():
                curves = np.array([on_grid(r["curve"]) for r in group["results"]])
                # Grid points before a run's first evaluation are NaN (BCO's first is at 100).
                measured = ~np.isnan(curves).all(axis=0)
                mean = np.full(len(GRID), np.nan)
                mean[measured] = np.nanmean(curves[:, measured], axis=0)
                half = np.array([t_interval(c[~np.isnan(c)])[1] if (~np.isnan(c)).any() else 0.0
                                 for c in curves.T])
                ax.plot(GRID, mean, label=f"{algo.upper()} (n={len(curves)})")
                ax.fill_between(GRID, mean - half, mean + half, alpha=0.25)
            if cell:
                ax.axhline(next(iter(cell.values()))["demo_return"], color="k", ls="--", lw=1,
                           label="demonstrations")
                ax.axhline(randoms[env_id], color="grey", ls=":", lw=1, label="random")
            ax.set_title(f"{env_id}, {label} demonstrations")
            ax.set_xlabel("environment interactions")
            ax.set_ylabel("return")
            ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def table(groups: dict, randoms: dict[str, float], command: str, wall_s: float) -> str:
    lines = [
        "# ILPO vs BCO, 1,000 environment interactions",
        "",
        f"Command: `{command}`  ",
        f"Wall time of this invocation: {wall_s / 60:.1f} min (runs already on disk are reused, not "
        f"re-timed). Sum of the runs' own wall times: "
        + ", ".join(f"{algo} {sum(r['wall_s'] for (a, _, _), g in groups.items() if a == algo for r in g['results']) / 60:.0f} min"
                    for algo in sorted({key[0] for key in groups}))
        + " (one torch thread per run).",
        "",
        "Final return: 20 greedy evaluation episodes after training, mean over seeds ± 95% "
        "confidence interval (Student t). Raw %: mean final return / demonstrations' mean return "
        "(for negative returns, demonstrations' / final). Normalised %: 100 (final - random) / "
        "(demonstrations - random). Seeds >= 95%: seeds whose own normalised score reaches 95. "
        "Interactions: environment steps used for learning (evaluation excluded).",
        "",
        "| env | demos | demo return | random | algo | seeds | interactions | final return | "
        "raw % | normalised % | seeds >= 95% |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (algo, env_id, demos), group in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        results = group["results"]
        finals = np.array([r["return_mean"] for r in results])
        mean, half = t_interval(finals)
        demo, rand = group["demo_return"], randoms[env_id]
        score = lambda value: 100 * (value - rand) / (demo - rand)  # noqa: E731
        raw = 100 * (mean / demo if demo > 0 else demo / mean)
        reached = sum(score(v) >= 95 for v in finals)
        steps = sorted({r["env_steps"] for r in results})
        lines.append(f"| {env_id} | {demos} | {demo:.1f} | {rand:.1f} | {algo} | {len(results)} | "
                     f"{'/'.join(map(str, steps))} | {mean:.1f} ± {half:.1f} | {raw:.0f} | "
                     f"{score(mean):.0f} | {reached}/{len(results)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    from lfo_ray import algorithms

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--envs", nargs="*", default=list(ENVS), choices=ENVS)
    parser.add_argument("--algos", nargs="*", default=["ilpo", "bco"])
    parser.add_argument("--procs", type=int, default=2, help="runs at a time (the machine has 2 cores)")
    parser.add_argument("--runs", type=Path, default=Path("/tmp/lfo_reproduce_ilpo"),
                        help="where each run writes its directory")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--set", action="append", default=[], metavar="ALGO:KEY=VALUE",
                        help="config override for one algorithm, e.g. ilpo:lpn_steps=3000")
    args = parser.parse_args()
    command = "python experiments/reproduce_ilpo.py " + " ".join(sys.argv[1:])
    algos = [a for a in args.algos if a in algorithms.names()]
    for missing in sorted(set(args.algos) - set(algos)):
        print(f"{missing}: not registered in lfo_ray.algorithms, skipped")
    overrides: dict[str, dict[str, str]] = {a: {BUDGET_FIELD.get(a, "budget"): str(BUDGET)} for a in algos}
    for item in args.set:
        algo, _, assignment = item.partition(":")
        key, _, value = assignment.partition("=")
        overrides.setdefault(algo, {})[key] = value

    tasks, keys = [], []
    for env_id in args.envs:
        for label, suffix in DEMO_SETS:
            demos = DEMOS / f"{env_id}{suffix}.parquet"
            if not demos.exists():
                print(f"{demos.name}: not found, skipped")
                continue
            for algo in algos:
                for seed in range(args.seeds):
                    out = args.runs / algo / f"{env_id}{suffix}" / f"seed{seed}"
                    tasks.append((algo, env_id, str(demos), seed, str(out), overrides[algo]))
                    keys.append((algo, env_id, label))
    start = time.perf_counter()
    groups: dict = {}
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.procs, maxtasksperchild=1) as pool:
        for done, (key, result) in enumerate(zip(keys, pool.imap(run_one, tasks)), 1):
            group = groups.setdefault(key, {"results": [], "demo_return": result["demo_return_mean"]})
            group["results"].append(result)
            print(f"[{done}/{len(tasks)}] {key[0]} {key[1]} {key[2]} seed {result['seed']}: "
                  f"return {result['return_mean']:.1f} ({result['env_steps']} interactions, "
                  f"{result['wall_s']:.0f} s)", flush=True)
    wall_s = time.perf_counter() - start
    randoms = {env_id: random_return(env_id) for env_id in sorted({key[1] for key in groups})}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ilpo_reproduction.md").write_text(table(groups, randoms, command, wall_s))
    plot(groups, randoms, [e for e in args.envs if any(k[1] == e for k in groups)],
         args.out / "ilpo_reproduction.png")
    print((args.out / "ilpo_reproduction.md").read_text())


if __name__ == "__main__":
    main()
