"""`lfo plot`: return against environment steps, mean and 95% band over seeds, from result.json files.

Like the ILPO repository's results plot (seaborn's tsplot with a CI band per method, dashed lines
for the expert and for behavioural cloning), but read from whatever runs are found: every
result.json under the given directories counts, grouped by (algorithm, environment, demonstration
noise, and the config fields named by `by`, e.g. BCO's alpha); one panel per environment.

- A run's points are its `curve` plus its final evaluation (env_steps, return_mean).
- The runs of a group are interpolated on their common env-steps range (from the latest first
  point to the earliest last point), on the union of their evaluation steps.
- The band is the 95% confidence interval of the mean (Student's t, n - 1 degrees of freedom);
  a group of one run has no band.
- A group whose runs all stop at one point at 0 env steps (offline methods such as BC) is a
  dashed horizontal line with its band across the panel, like the reference's BC line; at more
  env steps (plain BCO spends its whole budget before its one evaluation), a point with the
  interval as error bar.
- The y range follows the returns the runs measured: a band of few seeds can be far wider (t
  quantile 12.7 for two seeds) and is cut at the panel's edge.
- Demonstrations: a dotted line at their mean return (from result.json's demo_return_mean).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from lfo_ray.experiment import RESULT_FILE

MAX_GRID_POINTS = 200
"""At most this many x positions per curve (the union of evaluation steps is thinned beyond)."""


@dataclass(frozen=True)
class Run:
    """One result.json: what the plot needs from it."""

    path: Path
    algo: str
    env: str
    noise: float | None
    steps: np.ndarray
    """Env steps of the evaluation points, increasing."""
    returns: np.ndarray
    """Mean evaluation return at each of `steps`."""
    demo_return: float | None
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class Group:
    """The runs of one (algo, env, noise, values of the `by` fields) and their summary curve."""

    algo: str
    env: str
    noise: float | None
    variant: tuple[tuple[str, Any], ...] = ()
    """(field, value) of the config fields the runs were grouped by."""
    runs: list[Run] = field(default_factory=list)
    steps: np.ndarray | None = None
    mean: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    @property
    def label(self) -> str:
        noise = f", noise {self.noise:g}" if self.noise else ""
        variant = "".join(f", {name}={value}" for name, value in self.variant)
        return f"{self.algo}{variant}{noise} (n={len(self.runs)})"

    @property
    def flat(self) -> bool:
        """True when every run is a single point at one env-steps value (an offline method)."""
        return self.steps is not None and len(self.steps) == 1


@dataclass(frozen=True)
class PlotResult:
    groups: list[Group]
    figure: Any
    """The matplotlib Figure that was saved."""
    skipped: list[Path]
    """result.json files that are not lfo-ray run results (e.g. Tune's per-trial JSON lines)."""


def find_results(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Every result.json under the given directories (recursively), or the files themselves.
    Byte-identical copies of one run (a sweep's best_checkpoint/) are counted once by plot_runs."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(path.rglob(RESULT_FILE)))
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return sorted(set(found))


def _demo_noise(demos: str | None, cache: dict[str, float | None]) -> float | None:
    if not demos:
        return None
    if demos not in cache:
        from lfo_ray.data.parquet import read_metadata

        try:
            cache[demos] = read_metadata(demos).noise
        except (OSError, ValueError):
            cache[demos] = None
    return cache[demos]


def load_run(path: Path, noise_cache: dict[str, float | None] | None = None) -> Run | None:
    """The run in `path`, or None when the file is not an lfo-ray result.json."""
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not {"algo", "env", "return_mean", "env_steps"} <= set(data):
        return None
    points = {int(s): float(r) for s, r in data.get("curve") or []}
    final_steps = int(data["env_steps"])
    if not points or final_steps > max(points):
        points[final_steps] = float(data["return_mean"])
    steps = np.array(sorted(points), dtype=np.float64)
    returns = np.array([points[int(s)] for s in steps], dtype=np.float64)
    demo = data.get("demo_return_mean")
    noise = _demo_noise(data.get("demos"), noise_cache if noise_cache is not None else {})
    return Run(path, data["algo"], data["env"], noise,
               steps, returns, float(demo) if demo is not None else None, data.get("config") or {})


def confidence_band(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and the `level` confidence interval of the mean over axis 0 (runs)."""
    from scipy import stats

    mean = values.mean(axis=0)
    n = values.shape[0]
    if n < 2:
        return mean, mean.copy(), mean.copy()
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def summarise(group: Group) -> Group:
    """Fills the group's common grid, mean and band."""
    start = max(run.steps[0] for run in group.runs)
    stop = min(run.steps[-1] for run in group.runs)
    if stop <= start:
        # Offline runs (one point each), or runs that never overlap: compare final returns.
        group.steps = np.array([stop])
        values = np.array([[run.returns[-1]] for run in group.runs])
    else:
        grid = np.unique(np.concatenate([run.steps for run in group.runs]))
        grid = grid[(grid >= start) & (grid <= stop)]
        if len(grid) > MAX_GRID_POINTS:
            grid = np.linspace(start, stop, MAX_GRID_POINTS)
        group.steps = grid
        values = np.stack([np.interp(grid, run.steps, run.returns) for run in group.runs])
    group.mean, group.low, group.high = confidence_band(values)
    return group


def group_runs(runs: Sequence[Run], by: Sequence[str] = ()) -> list[Group]:
    """Groups by (env, algo, demonstration noise) and the values of the config fields `by`
    (a field an algorithm does not have leaves its runs together)."""
    groups: dict[tuple, Group] = {}
    for run in runs:
        variant = tuple((name, _hashable(run.config[name])) for name in by if name in run.config)
        key = (run.env, run.algo, run.noise or 0.0, variant)
        groups.setdefault(key, Group(run.algo, run.env, run.noise, variant)).runs.append(run)
    return [summarise(groups[key]) for key in sorted(groups, key=repr)]


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def plot_runs(dirs: Sequence[str | os.PathLike], out_png: str | os.PathLike,
              title: str | None = None, by: Sequence[str] = ()) -> PlotResult:
    """Draws every group found under `dirs` to `out_png`; one panel per environment.

    by: config fields that split an algorithm's runs into separate curves (e.g. ["alpha"]).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    noise_cache: dict[str, float | None] = {}
    runs, skipped, seen = [], [], set()
    for path in find_results(dirs):
        content = path.read_bytes()
        if content in seen:  # a copy of a run already found (a sweep's best_checkpoint/)
            continue
        seen.add(content)
        run = load_run(path, noise_cache)
        (runs.append(run) if run is not None else skipped.append(path))
    if not runs:
        raise ValueError(f"no lfo-ray result.json under {', '.join(str(d) for d in dirs)}")
    groups = group_runs(runs, by)
    envs = sorted({g.env for g in groups})
    figure = Figure(figsize=(6.4 * len(envs), 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(envs), squeeze=False)[0]
    colors = _colors(sorted({_color_key(g) for g in groups}, key=repr))
    for ax, env in zip(axes, envs):
        panel = [g for g in groups if g.env == env]
        curves = [g for g in panel if not g.flat]
        x_max = max((g.steps[-1] for g in panel), default=1.0) or 1.0
        for group in curves:
            color = colors[_color_key(group)]
            ax.plot(group.steps, group.mean, color=color, label=group.label)
            if len(group.runs) > 1:
                ax.fill_between(group.steps, group.low, group.high, color=color, alpha=0.25, linewidth=0)
        for group in (g for g in panel if g.flat):
            color = colors[_color_key(group)]
            if group.steps[0] > 0:
                ax.errorbar(group.steps, group.mean, yerr=[group.mean - group.low, group.high - group.mean],
                            color=color, marker="o", capsize=4, linestyle="none", label=group.label)
                continue
            ax.axhline(group.mean[0], color=color, linestyle="--", label=group.label)
            if len(group.runs) > 1:
                ax.axhspan(group.low[0], group.high[0], color=color, alpha=0.15, linewidth=0)
        for noise, demo in sorted(_demo_returns(panel).items()):
            suffix = f" (noise {noise:g})" if noise else ""
            ax.axhline(demo, color="black", linestyle=":", label=f"demonstrations{suffix}")
        ax.set_xlim(0, x_max * 1.02)
        ax.set_ylim(*_y_range(panel))
        ax.set_title(env)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("average episodic return")
        ax.legend(fontsize="small", loc="best")
    if title:
        figure.suptitle(title)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return PlotResult(groups, figure, skipped)


def _y_range(groups: Sequence[Group]) -> tuple[float, float]:
    """The returns measured by the runs (and the demonstrations'), with a 5% margin."""
    values = [value for g in groups for run in g.runs for value in run.returns]
    values += [run.demo_return for g in groups for run in g.runs if run.demo_return is not None]
    low, high = min(values), max(values)
    margin = 0.05 * (high - low) or 1.0
    return low - margin, high + margin


def _demo_returns(groups: Sequence[Group]) -> dict[float, float]:
    """Mean demonstration return per noise level, as recorded in the runs' results."""
    by_noise: dict[float, list[float]] = {}
    for group in groups:
        for run in group.runs:
            if run.demo_return is not None:
                by_noise.setdefault(group.noise or 0.0, []).append(run.demo_return)
    return {noise: float(np.mean(values)) for noise, values in by_noise.items()}


def _color_key(group: Group) -> tuple:
    return group.algo, group.noise or 0.0, group.variant


def _colors(keys: Sequence[tuple]) -> dict[tuple, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(keys) <= 10 else "tab20"]
    return {key: cmap(i % cmap.N) for i, key in enumerate(keys)}


def cmd_plot(args: argparse.Namespace) -> None:
    result = plot_runs(args.dirs, args.out, title=args.title, by=args.by or ())
    runs = sum(len(g.runs) for g in result.groups)
    print(f"wrote {args.out}: {len(result.groups)} group(s) from {runs} run(s)"
          + (f", {len(result.skipped)} other result.json file(s) skipped" if result.skipped else ""))
    for group in result.groups:
        print(f"  {group.env:<24} {group.label:<36} final return {group.mean[-1]:.2f} "
              f"[{group.low[-1]:.2f}, {group.high[-1]:.2f}] at {int(group.steps[-1])} env steps")


def add_plot_parser(subparsers) -> None:
    """Adds `lfo plot` to the CLI's sub-commands."""
    p = subparsers.add_parser("plot", help="return vs env steps (mean, 95%% band over seeds) to PNG")
    p.add_argument("dirs", nargs="+", help="run or sweep directories (searched for result.json)")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--title")
    p.add_argument("--by", action="append", metavar="FIELD",
                   help="config field that splits an algorithm's runs into curves (repeatable)")
    p.set_defaults(func=cmd_plot)
