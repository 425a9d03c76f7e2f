"""Issue 5: every tabular imitation method on the tutorial's 50x50 GridWorld, in one table.

    python experiments/tabular_gridworld.py [--seeds 5] [--episodes 1000] [--methods bc,gail]
        [--settings deterministic,noisy] [--reuse]

Each method x {deterministic, noisy transitions} x seed trains through `train_run` (the
contract `lfo train` uses) on the shipped demonstrations, then is scored two ways on the true
reward from uniform valid starts: the exact expected return of its deployed policy (dynamic
programming over the 200-step horizon) and the sampled mean over --episodes episodes. IRL rows
add the Pearson correlation of the recovered reward with the true one; the seed-0 reward
heatmaps (deterministic transitions) are written beside the table. Markdown goes to stdout and to
experiments/results/tabular_gridworld.md, raw numbers to tabular_gridworld.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from lfo_ray import load_policy
from lfo_ray.algorithms.tabular import TabularModel, deployed_probs, expected_return
from lfo_ray.algorithms.tabular.irl import REWARD_FILE
from lfo_ray.algorithms.tabular.plots import save_reward_heatmap
from lfo_ray.envs import GRIDWORLD
from lfo_ray.envs.experts import load_expert
from lfo_ray.experiment import CHECKPOINT_DIR, RESULT_FILE, train_run
from lfo_ray.stats import t_interval

METHODS = ("bc", "dagger", "maxent_irl", "mce_irl", "relent_irl", "gail", "gaifo")
IRL = ("maxent_irl", "mce_irl", "relent_irl")
SETTINGS = {
    "deterministic": ({}, "GridWorld-v0.parquet"),
    "noisy": ({"transition_prob": True}, "GridWorld-v0-noisy.parquet"),
}
# The tutorial's reported averages (deterministic world, demonstrations from a PPO expert).
TUTORIAL = {"expert": "9.1 (PPO)", "bc": "8.7", "dagger": "8.1", "maxent_irl": "~4.4",
            "mce_irl": "~4.0", "relent_irl": "not reported", "gail": "5.1", "gaifo": "-",
            "uniform": "-67"}
# --quick: tiny budgets that only check the pipeline end to end.
QUICK = {"bc": {"train_steps": 100}, "dagger": {"train_steps": 100, "rounds": 1, "round_train_steps": 50},
         "maxent_irl": {"iterations": 5}, "mce_irl": {"iterations": 5}, "relent_irl": {"num_samples": 200, "iterations": 5},
         "gail": {"total_env_steps": 8192}, "gaifo": {"total_env_steps": 8192}}
TARGETS = {"bc": 9.5, "dagger": 9.5, "maxent_irl": 9.5, "mce_irl": 9.5, "relent_irl": 9.5,
           "gail": 9.0, "gaifo": 9.0}
def ci95(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of the 95% Student t interval over seeds (NaN half-width, printed as
    no interval, for a single seed)."""
    mean, half = t_interval(values)
    return float(mean), float(half) if len(values) > 1 else float("nan")


def run_one(method: str, setting: str, seed: int, episodes: int, runs_dir: Path, quick: bool,
            reuse: bool) -> dict:
    env_kwargs, demo_file = SETTINGS[setting]
    out = runs_dir / setting / method / f"seed{seed}"
    if reuse and (out / RESULT_FILE).exists():
        result = json.loads((out / RESULT_FILE).read_text())
    else:
        with resources.as_file(resources.files("lfo_ray") / "demos" / demo_file) as demos:
            result = train_run(method, GRIDWORLD, demos, seed, out, overrides=QUICK[method] if quick else None,
                               env_kwargs=env_kwargs, eval_episodes=episodes, placement="local",
                               progress=False, overwrite=True)
    model = TabularModel.from_env_kwargs(env_kwargs)
    row = {
        "method": method, "setting": setting, "seed": seed,
        "exact_return": expected_return(model, deployed_probs(load_policy(out))),
        "sampled_return": result["return_mean"], "episodes": result["eval_episodes"],
        "train_s": result["train_s"], "wall_s": result["wall_s"], "env_steps": result["env_steps"],
        "out": str(out),
    }
    if method in IRL:
        row["reward_corr"] = result["metrics"]["reward_corr"]
        row["reward_corr_nongoal"] = result["metrics"]["reward_corr_nongoal"]
    return row


def reference_returns(setting: str) -> dict[str, float]:
    """Exact returns of the value-iteration expert and of the uniform random policy."""
    env_kwargs, _ = SETTINGS[setting]
    model = TabularModel.from_env_kwargs(env_kwargs)
    expert = load_expert(GRIDWORLD, **env_kwargs)
    return {"expert": expected_return(model, np.eye(model.num_actions)[expert.table]),
            "uniform": expected_return(model, np.full((model.num_states, model.num_actions), 0.25))}


def fmt(mean: float, half: float, digits: int = 2) -> str:
    if math.isnan(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def table(rows: list[dict], references: dict[str, dict[str, float]], seeds: int, episodes: int) -> str:
    lines = [
        "# Tabular imitation on the tutorial's 50x50 GridWorld",
        "",
        f"Mean ± 95% CI over {seeds} seeds. *exact*: expected true return of the deployed policy from "
        f"uniform valid starts, by dynamic programming over the 200-step horizon; *sampled*: mean over "
        f"{episodes} evaluation episodes per seed. *normalised*: (exact - uniform) / (expert - uniform), "
        "1 = the value-iteration expert, 0 = uniform random actions. *train s*: training wall time "
        "per run on this machine's CPU. *reward corr*: Pearson correlation of the recovered state "
        "reward with the true one over all cells (and over all cells but the goal).",
        "",
    ]
    for setting in references:
        reference = references[setting]
        lines += [
            f"## {setting.capitalize()} transitions",
            "",
            f"Value-iteration expert: exact {reference['expert']:.2f}; uniform random: "
            f"exact {reference['uniform']:.2f}.",
            "",
            "| method | exact return | sampled return | normalised | target | tutorial | train s | env steps | reward corr (all / non-goal) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for method in METHODS:
            chosen = [r for r in rows if r["method"] == method and r["setting"] == setting]
            if not chosen:
                continue
            exact = ci95([r["exact_return"] for r in chosen])
            sampled = ci95([r["sampled_return"] for r in chosen])
            span = reference["expert"] - reference["uniform"]
            normalised = ci95([(r["exact_return"] - reference["uniform"]) / span for r in chosen])
            corr = "-"
            if method in IRL:
                corr = (f"{fmt(*ci95([r['reward_corr'] for r in chosen]))} / "
                        f"{fmt(*ci95([r['reward_corr_nongoal'] for r in chosen]))}")
            target = f">= {TARGETS[method]}" if setting == "deterministic" else "relative to expert"
            tutorial = TUTORIAL[method] if setting == "deterministic" else "-"
            steps = int(np.mean([r["env_steps"] for r in chosen]))
            lines.append(
                f"| {method} | {fmt(*exact)} | {fmt(*sampled)} | {fmt(*normalised, 3)} | {target} | "
                f"{tutorial} | {np.mean([r['train_s'] for r in chosen]):.0f} | {steps:,} | {corr} |"
            )
        lines.append("")
    return "\n".join(lines)


def save_heatmaps(rows: list[dict], results_dir: Path) -> list[str]:
    """Seed-0 recovered rewards of the IRL methods on deterministic transitions, and the true
    reward, as PNG heatmaps (the noisy runs' rewards stay in their checkpoints)."""
    written = []
    model = TabularModel.from_env_kwargs({})
    truth = results_dir / "reward_true.png"
    save_reward_heatmap(model.spec.reward_map, model.spec.size, truth, "true reward of entering each cell")
    written.append(truth.name)
    for row in rows:
        if row["method"] in IRL and row["seed"] == 0 and row["setting"] == "deterministic":
            reward = np.load(Path(row["out"]) / CHECKPOINT_DIR / REWARD_FILE)
            path = results_dir / f"reward_{row['method']}_{row['setting']}.png"
            save_reward_heatmap(reward, model.spec.size, path,
                                f"{row['method']} ({row['setting']}), corr {row['reward_corr']:.2f}")
            written.append(path.name)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=1000, help="sampled evaluation episodes per run")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--runs", type=Path, default=Path("runs/tabular_gridworld"),
                        help="where the individual runs (result.json, checkpoint/, tb/) go")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: checks the pipeline only")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse runs already finished under --runs instead of training them again")
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    settings = [s for s in args.settings.split(",") if s]
    unknown = sorted(set(methods) - set(METHODS)) + sorted(set(settings) - set(SETTINGS))
    if unknown:
        parser.error(f"unknown methods or settings: {unknown}")

    # The arrays are small: intra-op threads only spin-wait against each other on a busy machine.
    torch.set_num_threads(1)
    args.results.mkdir(parents=True, exist_ok=True)
    rows = []
    start = time.perf_counter()
    for setting in settings:
        for method in methods:
            for seed in range(args.seeds):
                row = run_one(method, setting, seed, args.episodes, args.runs, args.quick, args.reuse)
                rows.append(row)
                print(f"[{time.perf_counter() - start:7.0f}s] {setting:13s} {method:10s} seed {seed}: "
                      f"exact {row['exact_return']:7.3f} sampled {row['sampled_return']:7.3f} "
                      f"({row['train_s']:.0f}s)", flush=True)
    references = {setting: reference_returns(setting) for setting in settings}
    text = table(rows, references, args.seeds, args.episodes)
    heatmaps = save_heatmaps(rows, args.results)
    text += "\nReward heatmaps (seed 0): " + ", ".join(f"[{name}]({name})" for name in heatmaps) + "\n"
    text += (f"\nSum of the runs' wall times (training + evaluation): {sum(r['wall_s'] for r in rows):.0f} s; "
             f"this invocation: {time.perf_counter() - start:.0f} s"
             f"{' (--reuse: finished runs were read back, not trained again)' if args.reuse else ''}.\n")
    print(text)
    (args.results / "tabular_gridworld.md").write_text(text)
    (args.results / "tabular_gridworld.json").write_text(
        json.dumps({"rows": rows, "references": references}, indent=2))


if __name__ == "__main__":
    main()
