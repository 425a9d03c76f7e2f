"""ILPO (and its variants) vs BCO with 1,000 environment interactions (the ILPO paper's
classic-control setting).

    python experiments/reproduce_ilpo.py                       # 10 seeds, every env and demo set
    python experiments/reproduce_ilpo.py --variants ilpo-delta --envs MountainCar-v0 --seed-list 0 1 2
    python experiments/reproduce_ilpo.py --table-only           # rewrite the table from the JSON

A variant is an algorithm plus config overrides (VARIANTS below; one implementation, switches in
its config). For each environment, demonstration set (clean, and 25% random actions), variant and
seed, one `lfo train` run (in-process placement, one torch thread, at most --procs runs at a time)
writes RUNS/<variant>/<demos>/seed<k>/result.json; finished runs are reused, so the script can be
stopped and restarted. Each finished run is merged at once into
experiments/results/ilpo_reproduction.json (so a partial table survives), from which it writes:
  ilpo_reproduction.md   per variant: final returns (mean and 95% confidence interval over seeds),
                         the demonstrations' and a random policy's return, the normalised score,
                         its worst seed, and ILPO's remap diagnostics (means over seeds), then the
                         diagnostics per seed
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
# name -> (algorithm, config overrides, what it changes). Every row of the table is one of these.
VARIANTS: dict[str, tuple[str, dict[str, str], str]] = {
    "ilpo": ("ilpo", {}, "ILPO with its config defaults (= ilpo-delta-assign since issue 13)"),
    "bco": ("bco", {}, "BCO(alpha) with its config defaults"),
    "ilpo-paper": ("ilpo", {"delta_standardize": "false", "policy_term": "expected"},
                   "ILPO as the paper trains it, the defaults before issue 13"),
    "ilpo-delta": ("ilpo", {"delta_standardize": "true", "policy_term": "expected"},
                   "LPN predicts and remap compares per-dimension standardised state changes"),
    "ilpo-delta-assign": ("ilpo", {"delta_standardize": "true", "policy_term": "assignment"},
                          "ilpo-delta, and pi(z|s) trained by cross-entropy to the closest latent"),
}
RESULTS_JSON = "ilpo_reproduction.json"
# The 10-seed table of main@5e040ed (`python experiments/reproduce_ilpo.py`, runs not kept, so not
# in the JSON): (env, demos) -> (ILPO defaults then = ilpo-paper, BCO(alpha)) final return.
EARLIER = {
    ("CartPole-v1", "clean"): ("500.0 ± 0.0", "500.0 ± 0.0"),
    ("CartPole-v1", "noisy"): ("500.0 ± 0.0", "500.0 ± 0.0"),
    ("Acrobot-v1", "clean"): ("-106.4 ± 16.3", "-118.4 ± 14.7"),
    ("Acrobot-v1", "noisy"): ("-84.9 ± 7.0", "-102.5 ± 7.1"),
    ("MountainCar-v0", "clean"): ("-141.7 ± 26.5", "-100.7 ± 0.5"),
    ("MountainCar-v0", "noisy"): ("-163.3 ± 34.0", "-100.8 ± 0.4"),
}
DIAGNOSTICS = (  # (metrics key, column, format)
    ("diag_latents_used", "latents used", "{:.1f}"),
    ("diag_remap_maxp", "remap max-p", "{:.2f}"),
    ("diag_remap_entropy", "remap H", "{:.2f}"),
    ("diag_remap_distinct", "actions over z", "{:.1f}"),
    ("diag_label_purity", "label purity", "{:.2f}"),
    ("diag_policy_accuracy", "policy acc", "{:.2f}"),
    ("diag_ood_share", "OOD share", "{:.2f}"),
    ("diag_ood_first_step", "first exit", "{:.0f}"),
)


def run_one(task: tuple[str, str, str, int, str, dict]) -> dict:
    """One training run in this worker process; returns its result.json contents."""
    import torch

    from lfo_ray.experiment import train_run

    torch.set_num_threads(1)
    algo, env_id, demos, seed, out, overrides = task  # algo: the variant's algorithm
    result_path = Path(out) / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    # No result.json: the run never finished (a stopped script); start it again.
    return train_run(algo, env_id, demos, seed, out, overrides=overrides, eval_episodes=20,
                     placement="local", progress=False, overwrite=True)


def confidence(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the 95% Student-t interval (lfo_ray.stats; nan for no values)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return float("nan"), 0.0
    mean, half = t_interval(values)
    return float(mean), float(half)

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
                half = np.array([confidence(c[~np.isnan(c)])[1] for c in curves.T])
                ax.plot(GRID, mean, label=f"{algo} (n={len(curves)})")
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


def score(value: float, demo: float, rand: float) -> float:
    """Normalised %: 100 (value - random) / (demonstrations - random)."""
    return 100 * (value - rand) / (demo - rand)


def mean_metric(results: list[dict], key: str) -> float:
    values = [r.get("metrics", {}).get(key) for r in results]
    values = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def describe(variant: str) -> str:
    _, sets, what = VARIANTS[variant]
    settings = ", ".join(f"{key}={value}" for key, value in sets.items())
    return f"`{variant}`: {what}" + (f" ({settings})" if settings else "")


def table(groups: dict, randoms: dict[str, float], command: str, seeds_full: int = 10) -> str:
    lines = [
        "# ILPO and its variants vs BCO, 1,000 environment interactions",
        "",
        f"Last command: `{command}` (rows merge every invocation's runs, from {RESULTS_JSON}). "
        "Sum of the runs' own wall times: "
        + ", ".join(f"{v} {sum(r['wall_s'] for (name, _, _), g in groups.items() if name == v for r in g['results']) / 60:.0f} min"
                    for v in sorted({key[0] for key in groups}))
        + " (one torch thread per run, 2 cores shared with other jobs: inflated).",
        "",
        "Variants: " + "; ".join(describe(name) for name in VARIANTS if any(k[0] == name for k in groups)) + ".",
        "",
        "Final return: 20 greedy evaluation episodes after training, mean over seeds ± 95% "
        "confidence interval (Student t). Normalised %: 100 (final - random) / (demonstrations - "
        "random); worst: the lowest seed's. Seeds >= 95%: seeds whose own normalised score reaches "
        "95. Rows with fewer than " f"{seeds_full} seeds are PARTIAL (screening or unfinished). "
        "Diagnostics (ILPO, means over seeds, on up to 4,096 demonstration transitions and 3 greedy "
        "episodes): latents used = latents argmax_z pi(z|s) picks on >= 5% of demonstration states; "
        "remap max-p / H = mean max-probability / normalised entropy of ARN(a|s,z*); actions over z "
        "= distinct actions argmax_a ARN(a|s,z) takes over the latents; label purity = how well "
        "the remap labels z_min(s,s') separate the demonstrations' real actions (recorded in the "
        "files, used only here); policy acc = greedy action == demonstrated action; OOD share = "
        "visited states farther from the demonstrations than 95% of demonstration states are from "
        "other episodes; first exit = median step of the first such state.",
        "",
        "| env | demos | demo return | random | variant | seeds | final return | normalised % | worst % | "
        "seeds >= 95% | " + " | ".join(col for _, col, _ in DIAGNOSTICS) + " |",
        "|" + "---|" * (10 + len(DIAGNOSTICS)),
    ]
    per_seed = []
    for (variant, env_id, demos), group in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        results = sorted(group["results"], key=lambda r: r["seed"])
        finals = np.array([r["return_mean"] for r in results])
        mean, half = confidence(finals)
        demo, rand = group["demo_return"], randoms[env_id]
        scores = [score(v, demo, rand) for v in finals]
        partial = "" if len(results) >= seeds_full else " PARTIAL"
        diags = [fmt.format(mean_metric(results, key)) if results[0].get("metrics", {}).get(key) is not None
                 else "" for key, _, fmt in DIAGNOSTICS]
        lines.append(f"| {env_id} | {demos} | {demo:.1f} | {rand:.1f} | {variant} | {len(results)}{partial} | "
                     f"{mean:.1f} ± {half:.1f} | {score(mean, demo, rand):.0f} | {min(scores):.0f} | "
                     f"{sum(x >= 95 for x in scores)}/{len(results)} | " + " | ".join(diags) + " |")
        if any("diag_latents_used" in r.get("metrics", {}) for r in results):
            cells = []
            for r, x in zip(results, scores):
                m = r["metrics"]
                cells.append(f"s{r['seed']} {x:.0f}% z{m.get('diag_latents_used', float('nan')):.0f} "
                             f"p{m.get('diag_remap_maxp', float('nan')):.2f} "
                             f"acc{m.get('diag_policy_accuracy', float('nan')):.2f} "
                             f"exit{m.get('diag_ood_first_step', float('nan')):.0f}")
            per_seed.append(f"- {env_id} {demos} {variant}: " + ", ".join(cells))
    lines += ["", "Earlier 10-seed runs (main@5e040ed, same protocol, runs not kept; ILPO then = "
              "`ilpo-paper`): " + "; ".join(f"{env} {demos}: ILPO {ilpo}, BCO(alpha) {bco}"
                                                     for (env, demos), (ilpo, bco) in EARLIER.items()) + ".",
              "", "Per seed (normalised %, latents used, remap max-p, policy accuracy, first exit step):", ""]
    return "\n".join(lines + per_seed) + "\n"


def load_store(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"runs": {}, "random": {}}


def save_store(path: Path, store: dict) -> None:
    from lfo_ray.data.parquet import atomic_write

    text = json.dumps(store, indent=1, sort_keys=True)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def compact(result: dict) -> dict:
    keep = ("seed", "return_mean", "return_std", "env_steps", "demo_return_mean", "wall_s", "curve", "metrics")
    return {key: result.get(key) for key in keep}


def groups_from(store: dict) -> dict:
    groups: dict = {}
    for key, result in store["runs"].items():
        variant, env_id, demos, _ = key.split("|")
        group = groups.setdefault((variant, env_id, demos), {"results": [], "demo_return": result["demo_return_mean"]})
        group["results"].append(result)
    return groups


def main() -> None:
    from lfo_ray import algorithms

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1")
    parser.add_argument("--seed-list", type=int, nargs="*", help="these seeds instead of --seeds")
    parser.add_argument("--envs", nargs="*", default=list(ENVS), choices=ENVS)
    parser.add_argument("--demos", nargs="*", default=[label for label, _ in DEMO_SETS],
                        choices=[label for label, _ in DEMO_SETS])
    parser.add_argument("--variants", nargs="*", default=["ilpo", "bco"], choices=list(VARIANTS))
    parser.add_argument("--procs", type=int, default=2, help="runs at a time (the machine has 2 cores)")
    parser.add_argument("--runs", type=Path, default=Path("/tmp/lfo_reproduce_ilpo"),
                        help="where each run writes its directory")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--table-only", action="store_true", help="only rewrite the table from the JSON")
    args = parser.parse_args()
    command = "python experiments/reproduce_ilpo.py " + " ".join(sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    store_path = args.out / RESULTS_JSON
    seeds = args.seed_list if args.seed_list is not None else list(range(args.seeds))

    tasks, keys = [], []
    for variant in [] if args.table_only else args.variants:
        algo, sets, _ = VARIANTS[variant]
        if algo not in algorithms.names():
            print(f"{variant}: {algo} is not registered in lfo_ray.algorithms, skipped")
            continue
        overrides = {BUDGET_FIELD.get(algo, "budget"): str(BUDGET), **sets}
        for env_id in args.envs:
            for label, suffix in DEMO_SETS:
                demos = DEMOS / f"{env_id}{suffix}.parquet"
                if label not in args.demos:
                    continue
                if not demos.exists():
                    print(f"{demos.name}: not found, skipped")
                    continue
                for seed in seeds:
                    out = args.runs / variant / f"{env_id}{suffix}" / f"seed{seed}"
                    tasks.append((algo, env_id, str(demos), seed, str(out), overrides))
                    keys.append(f"{variant}|{env_id}|{label}|{seed}")
    if tasks:
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.procs, maxtasksperchild=1) as pool:
            for done, (key, result) in enumerate(zip(keys, pool.imap(run_one, tasks)), 1):
                store = load_store(store_path)   # another invocation may have merged runs meanwhile
                store["runs"][key] = compact(result)
                save_store(store_path, store)
                diag = " ".join(f"{name[5:]}={value:.2f}" for name, value in result.get("metrics", {}).items()
                                if name.startswith("diag_"))
                print(f"[{done}/{len(tasks)}] {key}: return {result['return_mean']:.1f} "
                      f"({result['env_steps']} interactions, {result['wall_s']:.0f} s) {diag}", flush=True)
    store = load_store(store_path)
    groups = groups_from(store)
    if not groups:
        print("no finished runs yet")
        return
    for env_id in sorted({key[1] for key in groups} - set(store["random"])):
        store["random"][env_id] = random_return(env_id)   # the shipped anchor (envs/anchors.json)
    save_store(store_path, store)
    (args.out / "ilpo_reproduction.md").write_text(table(groups, store["random"], command))
    plot(groups, store["random"], [e for e in ENVS if any(k[1] == e for k in groups)],
         args.out / "ilpo_reproduction.png")
    print((args.out / "ilpo_reproduction.md").read_text())


if __name__ == "__main__":
    main()
