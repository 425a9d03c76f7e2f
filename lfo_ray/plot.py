"""`lfo plot`: return against environment steps, aggregated over seeds with a 95% band, from result.json files.

Like the ILPO repository's results plot (seaborn's tsplot with a CI band per method, dashed lines
for the expert and for behavioural cloning), but read from whatever runs are found: every
result.json under the given directories counts, grouped by (algorithm, environment, demonstration
noise, and the config fields named by `by`, e.g. BCO's alpha); one panel per environment.

- A run's points are its `curve` plus its final evaluation (env_steps, return_mean).
- The runs of a group are interpolated on their common env-steps range (from the latest first
  point to the earliest last point), on the union of their evaluation steps.
- stat="mean" (default): the mean over seeds and the 95% Student-t interval of the mean (n - 1
  degrees of freedom). stat="iqm": the interquartile mean over seeds and its 95% percentile
  bootstrap interval (rliable's protocol, `lfo_ray.stats`: whole runs resampled, `reps` times).
  A group of one run has no band.
- normalize: returns become (R - R_random) / (R_expert - R_random) per environment, the anchors
  given (`random`/`expert` maps), else from the demonstrations' metadata, else the shipped ones
  (`lfo_ray.envs.anchors.resolve_anchors`); 0 and 1 are drawn as reference lines.
- aggregate (with normalize): one more panel, "all environments", per method the statistic over
  every run of every environment with its stratified bootstrap band (runs resampled within their
  own environment), on the env-steps range all of them cover.
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
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from lfo_ray.experiment import RESULT_FILE
from lfo_ray.stats import BOOTSTRAP_REPS, iqm, mean, normalized_return, stratified_bootstrap_ci, t_interval

MAX_GRID_POINTS = 200
"""At most this many x positions per curve (the union of evaluation steps is thinned beyond)."""
STATS = ("mean", "iqm")
AGGREGATE_PANEL = "all environments"


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
    """Mean evaluation return at each of `steps` (normalised once `normalize_runs` has run)."""
    demo_return: float | None
    config: dict[str, Any] = field(default_factory=dict)
    demo_metadata: Any = None
    """DatasetMetadata of the run's demonstrations, when the file is still readable."""


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
    """The summary curve: the mean or the IQM over runs, as the plot's `stat` says."""
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
    aggregates: list[Group] = field(default_factory=list)
    """Per method, every environment's runs together (the "all environments" panel)."""
    anchors: dict[str, Any] = field(default_factory=dict)
    """env -> the Anchors its returns were normalised by (empty without normalisation)."""


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


def _demo_metadata(demos: str | None, cache: dict[str, Any]) -> Any:
    if not demos:
        return None
    if demos not in cache:
        from lfo_ray.data.parquet import read_metadata

        try:
            cache[demos] = read_metadata(demos)
        except (OSError, ValueError):
            cache[demos] = None
    return cache[demos]


def load_run(path: Path, metadata_cache: dict[str, Any] | None = None) -> Run | None:
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
    metadata = _demo_metadata(data.get("demos"), metadata_cache if metadata_cache is not None else {})
    return Run(path, data["algo"], data["env"], metadata.noise if metadata is not None else None,
               steps, returns, float(demo) if demo is not None else None, data.get("config") or {},
               metadata)


def normalize_runs(runs: Sequence[Run], random: Mapping[str, float] | None = None,
                   expert: Mapping[str, float] | None = None) -> tuple[list[Run], dict[str, Any]]:
    """The runs with returns (and demonstration returns) normalised per environment, and the
    anchors used. `random`/`expert` map env ids to given anchors; the others come from each run's
    demonstrations' metadata or the shipped anchors, and must agree within an environment."""
    from dataclasses import replace

    from lfo_ray.envs.anchors import resolve_anchors

    anchors: dict[str, Any] = {}
    for run in runs:
        found = resolve_anchors(run.env, run.demo_metadata, (random or {}).get(run.env),
                                (expert or {}).get(run.env))
        if anchors.setdefault(run.env, found) != found:
            raise ValueError(f"{run.env}: runs disagree on the normalisation anchors ({anchors[run.env]} vs "
                             f"{found} from {run.path}); give them with --random/--expert {run.env}=RETURN")
    normalised = []
    for run in runs:
        a = anchors[run.env]
        demo = None if run.demo_return is None else float(normalized_return(run.demo_return, a.random, a.expert))
        normalised.append(replace(run, returns=normalized_return(run.returns, a.random, a.expert),
                                  demo_return=demo))
    return normalised, anchors


def _common_grid(runs: Sequence[Run]) -> tuple[np.ndarray, np.ndarray]:
    """The env-steps grid the runs share and each run's returns on it, (runs, points)."""
    start = max(run.steps[0] for run in runs)
    stop = min(run.steps[-1] for run in runs)
    if stop <= start:
        # Offline runs (one point each), or runs that never overlap: compare final returns.
        return np.array([stop]), np.array([[run.returns[-1]] for run in runs])
    grid = np.unique(np.concatenate([run.steps for run in runs]))
    grid = grid[(grid >= start) & (grid <= stop)]
    if len(grid) > MAX_GRID_POINTS:
        grid = np.linspace(start, stop, MAX_GRID_POINTS)
    return grid, np.stack([np.interp(grid, run.steps, run.returns) for run in runs])


def summarise(group: Group, stat: str = "mean", reps: int = BOOTSTRAP_REPS, seed: int = 0) -> Group:
    """Fills the group's common grid, summary curve (mean or IQM over runs) and 95% band."""
    group.steps, values = _common_grid(group.runs)
    if stat == "iqm":
        group.mean, group.low, group.high = stratified_bootstrap_ci([values], iqm, reps=reps, seed=seed)
    else:
        group.mean, half = t_interval(values)
        group.low, group.high = group.mean - half, group.mean + half
    return group


def group_runs(runs: Sequence[Run], by: Sequence[str] = (), stat: str = "mean",
               reps: int = BOOTSTRAP_REPS, seed: int = 0) -> list[Group]:
    """Groups by (env, algo, demonstration noise) and the values of the config fields `by`
    (a field an algorithm does not have leaves its runs together)."""
    groups: dict[tuple, Group] = {}
    for run in runs:
        variant = tuple((name, _hashable(run.config[name])) for name in by if name in run.config)
        key = (run.env, run.algo, run.noise or 0.0, variant)
        groups.setdefault(key, Group(run.algo, run.env, run.noise, variant)).runs.append(run)
    return [summarise(groups[key], stat, reps, seed) for key in sorted(groups, key=repr)]


def aggregate_groups(groups: Sequence[Group], stat: str = "iqm", reps: int = BOOTSTRAP_REPS,
                     seed: int = 0) -> list[Group]:
    """Per method (algo, noise, variant): the statistic over every run of every environment and
    its stratified bootstrap band (each environment's runs resampled among themselves), on the
    env-steps grid all the runs share. Meaningful on normalised returns only."""
    by_method: dict[tuple, list[Group]] = {}
    for group in groups:
        by_method.setdefault(_color_key(group), []).append(group)
    aggregates = []
    for key in sorted(by_method, key=repr):
        members = by_method[key]
        runs = [run for group in members for run in group.runs]
        grid, _ = _common_grid(runs)
        if len(grid) == 1:  # offline or non-overlapping: final returns
            tasks = [np.array([[run.returns[-1]] for run in group.runs]) for group in members]
        else:
            tasks = [np.stack([np.interp(grid, run.steps, run.returns) for run in group.runs]) for group in members]
        statistic = iqm if stat == "iqm" else mean
        aggregate = Group(members[0].algo, AGGREGATE_PANEL, members[0].noise, members[0].variant, runs, grid)
        aggregate.mean, aggregate.low, aggregate.high = stratified_bootstrap_ci(tasks, statistic, reps=reps,
                                                                                seed=seed)
        aggregates.append(aggregate)
    return aggregates


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def plot_runs(dirs: Sequence[str | os.PathLike], out_png: str | os.PathLike,
              title: str | None = None, by: Sequence[str] = (), *, stat: str = "mean",
              normalize: bool = False, random: Mapping[str, float] | None = None,
              expert: Mapping[str, float] | None = None, aggregate: bool = False,
              reps: int = BOOTSTRAP_REPS, seed: int = 0) -> PlotResult:
    """Draws every group found under `dirs` to `out_png`; one panel per environment.

    by: config fields that split an algorithm's runs into separate curves (e.g. ["alpha"]).
    stat: "mean" (Student-t band) or "iqm" (bootstrap band of `reps` resamples, seeded by `seed`).
    normalize: returns as (R - R_random) / (R_expert - R_random); random/expert: env -> anchor,
    overriding the demonstrations' metadata and the shipped anchors. aggregate: adds the
    "all environments" panel (needs normalize).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if stat not in STATS:
        raise ValueError(f"stat must be one of {STATS}, got {stat!r}")
    if aggregate and not normalize:
        raise ValueError("aggregating environments needs normalised returns (--normalize): raw returns "
                         "of different environments are not on one scale")
    metadata_cache: dict[str, Any] = {}
    runs, skipped, seen = [], [], set()
    for path in find_results(dirs):
        content = path.read_bytes()
        if content in seen:  # a copy of a run already found (a sweep's best_checkpoint/)
            continue
        seen.add(content)
        run = load_run(path, metadata_cache)
        (runs.append(run) if run is not None else skipped.append(path))
    if not runs:
        raise ValueError(f"no lfo-ray result.json under {', '.join(str(d) for d in dirs)}")
    anchors: dict[str, Any] = {}
    if normalize:
        runs, anchors = normalize_runs(runs, random, expert)
    groups = group_runs(runs, by, stat, reps, seed)
    aggregates = aggregate_groups(groups, stat, reps, seed) if aggregate else []
    envs = sorted({g.env for g in groups}) + ([AGGREGATE_PANEL] if aggregates else [])
    figure = Figure(figsize=(6.4 * len(envs), 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(envs), squeeze=False)[0]
    colors = _colors(sorted({_color_key(g) for g in groups}, key=repr))
    summary = "IQM" if stat == "iqm" else "mean"
    ylabel = f"{summary} normalised return" if normalize else f"{summary} episodic return"
    for ax, env in zip(axes, envs):
        panel = aggregates if env == AGGREGATE_PANEL else [g for g in groups if g.env == env]
        _draw_panel(ax, panel, colors, demos=env != AGGREGATE_PANEL)
        if normalize:
            ax.axhline(0.0, color="grey", linestyle=":", linewidth=1, label="random (0)")
            ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="expert (1)")
        ax.set_ylim(*_y_range(panel, [0.0, 1.0] if normalize else []))
        ax.set_title(env)
        ax.set_xlabel("environment steps")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize="small", loc="best")
    if title:
        figure.suptitle(title)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return PlotResult(groups, figure, skipped, aggregates, anchors)


def _draw_panel(ax, panel: Sequence[Group], colors: dict[tuple, Any], demos: bool) -> None:
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
    if demos:
        for noise, demo in sorted(_demo_returns(panel).items()):
            suffix = f" (noise {noise:g})" if noise else ""
            ax.axhline(demo, color="black", linestyle=":", label=f"demonstrations{suffix}")
    ax.set_xlim(0, x_max * 1.02)


def _y_range(groups: Sequence[Group], extra: Sequence[float] = ()) -> tuple[float, float]:
    """The returns measured by the runs (and the demonstrations', and `extra`), with a 5% margin."""
    values = [value for g in groups for run in g.runs for value in run.returns]
    values += [run.demo_return for g in groups for run in g.runs if run.demo_return is not None]
    values += list(extra)
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


def _anchor_map(values: Sequence[str] | None, flag: str) -> dict[str, float]:
    """--random/--expert ENV=RETURN arguments as {env: return}."""
    anchors = {}
    for value in values or ():
        env, sep, number = value.rpartition("=")
        try:
            anchors[env] = float(number)
        except ValueError:
            env = ""
        if not sep or not env:
            raise ValueError(f"{flag} {value!r}: expected ENV=RETURN, e.g. {flag} Hopper-v5=3200")
    return anchors


def cmd_plot(args: argparse.Namespace) -> None:
    result = plot_runs(args.dirs, args.out, title=args.title, by=args.by or (), stat=args.stat,
                       normalize=args.normalize, random=_anchor_map(args.random, "--random"),
                       expert=_anchor_map(args.expert, "--expert"), aggregate=args.aggregate,
                       reps=args.reps, seed=args.seed)
    runs = sum(len(g.runs) for g in result.groups)
    print(f"wrote {args.out}: {len(result.groups)} group(s) from {runs} run(s)"
          + (f", {len(result.skipped)} other result.json file(s) skipped" if result.skipped else ""))
    for env, a in sorted(result.anchors.items()):
        print(f"  {env:<24} normalised by random {a.random:.2f}, expert {a.expert:.2f}")
    kind = ("normalised " if args.normalize else "") + ("IQM" if args.stat == "iqm" else "return")
    for group in result.groups + result.aggregates:
        print(f"  {group.env:<24} {group.label:<36} final {kind} {group.mean[-1]:.2f} "
              f"[{group.low[-1]:.2f}, {group.high[-1]:.2f}] at {int(group.steps[-1])} env steps")


def add_plot_parser(subparsers) -> None:
    """Adds `lfo plot` to the CLI's sub-commands."""
    p = subparsers.add_parser("plot", help="return vs env steps (mean or IQM, 95%% band over seeds) to PNG")
    p.add_argument("dirs", nargs="+", help="run or sweep directories (searched for result.json)")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--title")
    p.add_argument("--by", action="append", metavar="FIELD",
                   help="config field that splits an algorithm's runs into curves (repeatable)")
    p.add_argument("--stat", choices=STATS, default="mean",
                   help="mean with a Student-t band, or interquartile mean with a bootstrap band (rliable)")
    p.add_argument("--normalize", action="store_true",
                   help="(R - R_random) / (R_expert - R_random), anchors from the demos' metadata or shipped")
    p.add_argument("--random", action="append", metavar="ENV=RETURN",
                   help="random policy's return of ENV for --normalize (repeatable)")
    p.add_argument("--expert", action="append", metavar="ENV=RETURN",
                   help="expert's return of ENV for --normalize (repeatable)")
    p.add_argument("--aggregate", action="store_true",
                   help="add an 'all environments' panel: every env's runs pooled, stratified bootstrap band")
    p.add_argument("--reps", type=int, default=BOOTSTRAP_REPS, help="bootstrap resamples (default: rliable's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resamples")
    p.set_defaults(func=cmd_plot)
