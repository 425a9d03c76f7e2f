"""Ray Tune: every algorithm as a named trainable, and `lfo sweep` (a search over config fields).

A trial is one `train_run` in the trial's working directory (`run/`: result.json, tb/,
checkpoint/), its components placed in-process: Tune runs trials side by side, each a Ray
actor with `cpus_per_trial` CPUs. Intermediate evaluations (`RunContext.report`) are reported
to Tune so ASHA can stop weak trials early; the final evaluation is reported with the run
directory as the trial's checkpoint.

    register_all()        # done by `import lfo_ray` once ray.tune is imported
    tune.Tuner("lfo_ray/BC", param_space={"env": ..., "demos": ..., "lr": tune.loguniform(...)})

`param_space` keys are the config dataclass's fields plus the run keys in RUN_KEYS. A trial
requests 1 CPU unless wrapped in `tune.with_resources`; with {"placement": "ray"} its rollout
workers and learners become Ray actors inside the trial's placement group, so its resources
must cover them too (a PlacementGroupFactory with one bundle per actor).
This module imports Ray only inside functions, so `lfo --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib.abc
import json
import math
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

PREFIX = "lfo_ray/"
RUN_DIR = "run"
"""The trial's train_run directory, inside the trial's working directory."""
EXPERIMENT_DIR = "tune"
"""Tune's experiment directory under the sweep's --out."""
BEST_FILE = "best.json"
BEST_CHECKPOINT = "best_checkpoint"
SETTINGS_FILE = "sweep.json"
METRIC = "return_mean"
MODE = "max"
FINAL = "final_evaluation"
"""Reported as True with the final evaluation (and the checkpoint) of a trial."""
RUN_KEYS = ("env", "demos", "seed", "env_kwargs", "final_eval_episodes", "placement")
"""param_space keys that go to train_run (final_eval_episodes: its eval_episodes); every other
key is a field of the algorithm's config."""
SEARCH_SPACE_DIR = Path("experiments") / "search_spaces"
DOMAINS = ("uniform", "quniform", "loguniform", "randint", "lograndint", "choice", "grid")
"""Operators of the search-space JSON: {"field": {"loguniform": [1e-4, 1e-2]}}."""


class SweepInterrupted(RuntimeError):
    """The sweep stopped before every trial finished; the same command resumes it."""


def trainable_name(algo: str) -> str:
    """The Tune registry name of an algorithm: "mce_irl" -> "lfo_ray/MCE_IRL"."""
    return PREFIX + algo.upper()


def make_trainable(algo: str) -> Callable[[dict[str, Any]], None]:
    """A Tune function trainable that runs `algo` with the trial's config."""

    def trainable(config: dict[str, Any]) -> None:
        run_trial(algo, config)

    trainable.__name__ = trainable.__qualname__ = f"lfo_{algo}"
    return trainable


def register_all() -> list[str]:
    """Registers every algorithm of lfo_ray.algorithms with Tune; returns the names."""
    from ray.tune.registry import register_trainable

    from lfo_ray import algorithms

    registered = []
    for algo in algorithms.names():
        register_trainable(trainable_name(algo), make_trainable(algo))
        registered.append(trainable_name(algo))
    return registered


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs `callback` right after `module` is first imported (a one-shot import hook)."""

    def __init__(self, module: str, callback: Callable[[], None]) -> None:
        self.module = module
        self.callback = callback

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module:
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            spec = finder.find_spec(fullname, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                spec.loader = _CallbackLoader(spec.loader, self.callback)
                return spec
        return None


class _CallbackLoader(importlib.abc.Loader):
    def __init__(self, loader, callback: Callable[[], None]) -> None:
        self.loader = loader
        self.callback = callback

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        self.callback()


def _quietly(register: Callable[[], Any], what: str) -> Callable[[], None]:
    def run() -> None:
        try:
            register()
        except Exception as error:  # never break the user's `import ray.tune` / `import ray.rllib`
            warnings.warn(f"lfo_ray: could not register {what} with Tune: {error}", stacklevel=2)

    return run


def _register_rllib() -> None:
    from lfo_ray.rllib.registry import register_when_loaded

    register_when_loaded()


def _on_import(module: str, callback: Callable[[], None]) -> None:
    """Runs `callback` now if `module` is loaded, else as soon as it is (once)."""
    if module in sys.modules:
        callback()
    elif not any(isinstance(f, _AfterImport) and f.module == module for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(module, callback))


def register_on_tune_import() -> None:
    """Registers the algorithms with Tune now if ray.tune is loaded, else as soon as it is; and the
    RLlib Algorithm classes (lfo_ray.rllib) once ray.rllib is loaded.

    Importing ray.tune costs seconds and RLlib more, so `import lfo_ray` never does it itself. Tune
    imports ray.rllib to look up a name it does not know, so `get_trainable_cls("lfo_ray/rllib/GAIFO")`
    in a fresh process imports RLlib, which registers the classes, and then finds them.
    """
    _on_import("ray.tune", _quietly(register_all, "algorithms"))
    _on_import("ray.rllib", _quietly(_register_rllib, "the RLlib algorithms"))


def run_trial(algo: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """One Tune trial: train_run in the trial's working directory, results reported to Tune."""
    import dataclasses

    from ray import tune

    from lfo_ray import algorithms
    from lfo_ray.demos import resolve_demos
    from lfo_ray.experiment import RESULT_FILE, train_run

    missing = [key for key in ("env", "demos") if key not in config]
    if missing:
        raise ValueError(f"param_space needs {', '.join(missing)} (run keys: {', '.join(RUN_KEYS)})")
    clash = {f.name for f in dataclasses.fields(algorithms.get(algo).config_cls)} & set(RUN_KEYS)
    if clash:
        raise ValueError(f"{algo}'s config has fields named like run keys: {', '.join(sorted(clash))}")
    overrides = {key: _override(value) for key, value in config.items() if key not in RUN_KEYS}
    restored = tune.get_checkpoint()
    if restored is not None:
        # A finished trial whose end the sweep did not record before an interruption: its
        # checkpoint is the whole run directory, result.json included; report it again.
        with restored.as_directory() as directory:
            previous = Path(directory) / RESULT_FILE
            if previous.exists():
                result = json.loads(previous.read_text())
                tune.report({**_final_metrics(result), FINAL: True})
                return result
    # Tune runs the trial in its own working directory; the run directory reaches the sweep's
    # storage as the trial's checkpoint (checkpoint_000000/).
    out = Path.cwd() / RUN_DIR

    def reporter(metrics: dict[str, Any]) -> None:
        tune.report({**metrics, FINAL: False})

    result = train_run(
        algo, config["env"], str(resolve_demos(config["demos"]).resolve()), int(config.get("seed", 0)), out,
        overrides=overrides, env_kwargs=config.get("env_kwargs") or {},
        eval_episodes=int(config.get("final_eval_episodes", 20)),
        placement=config.get("placement", "local"), progress=False, reporter=reporter,
        overwrite=True,  # the trial's own directory: a retried trial starts it again
    )
    # The checkpoint is the run directory (result.json, checkpoint/, tb/): `lfo evaluate` reads it.
    tune.report({**_final_metrics(result), FINAL: True},
                checkpoint=tune.Checkpoint.from_directory(str(out)))
    return result


def _final_metrics(result: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("return_mean", "return_std", "env_steps", "demo_return_mean", "wall_s")
    return {key: result[key] for key in keys}


def _override(value: Any) -> Any:
    # JSON lists reach tuple fields (e.g. hidden) as text, parsed by the field's type.
    return json.dumps(value) if isinstance(value, list) else value


# ---------------------------------------------------------------------------------------------
# Search spaces


def default_search_space_path(algo: str) -> Path:
    """experiments/search_spaces/ALGO.json of the current directory, else of the source tree."""
    import lfo_ray

    tried = [Path.cwd() / SEARCH_SPACE_DIR / f"{algo}.json",
             Path(lfo_ray.__file__).resolve().parent.parent / SEARCH_SPACE_DIR / f"{algo}.json"]
    for path in tried:
        if path.is_file():
            return path
    raise FileNotFoundError(f"no default search space for {algo!r} (looked for "
                            f"{', '.join(str(p) for p in tried)}); pass --search-space FILE")


def load_search_space(path: str | os.PathLike) -> dict[str, Any]:
    """Reads a search-space JSON file: {field: {operator: arguments} | fixed value}."""
    try:
        spec = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: expected a JSON object of field -> domain")
    return spec


def to_tune_space(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Turns the JSON search space into Tune's domains (tune.loguniform, tune.grid_search...)."""
    from ray import tune

    space = {}
    for key, domain in spec.items():
        if not isinstance(domain, dict):
            space[key] = domain
            continue
        if len(domain) != 1 or next(iter(domain)) not in DOMAINS:
            raise ValueError(f"search space {key!r}: expected one of {', '.join(DOMAINS)} as the "
                             f"only key, got {sorted(domain)}")
        (op, args), = domain.items()
        if not isinstance(args, list) or not args:
            raise ValueError(f"search space {key!r}: {op} takes a non-empty list, got {args!r}")
        if op == "choice":
            space[key] = tune.choice(args)
        elif op == "grid":
            space[key] = tune.grid_search(args)
        else:
            space[key] = getattr(tune, op)(*args)
    return space


def grid_size(spec: Mapping[str, Any]) -> int:
    """How many trials one sample of the space expands to (the product of the grids)."""
    return math.prod(len(d["grid"]) for d in spec.values() if isinstance(d, dict) and "grid" in d)


def check_search_space(algo: str, spec: Mapping[str, Any]) -> None:
    """Every key is a field of the algorithm's config (or `seed`)."""
    import dataclasses

    from lfo_ray import algorithms

    fields = {f.name for f in dataclasses.fields(algorithms.get(algo).config_cls)}
    unknown = sorted(set(spec) - fields - {"seed"})
    if unknown:
        raise ValueError(f"search space for {algo}: unknown field(s) {', '.join(unknown)}; "
                         f"valid fields: {', '.join(sorted(fields))}")


# ---------------------------------------------------------------------------------------------
# Sweeps


def run_sweep(
    algo: str,
    env_id: str,
    demos: str | os.PathLike,
    out_dir: str | os.PathLike,
    num_samples: int = 1,
    search_space: str | os.PathLike | None = None,
    scheduler: str = "fifo",
    overrides: Mapping[str, Any] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    seed: int = 0,
    eval_episodes: int = 20,
    cpus_per_trial: float = 1.0,
    max_concurrent: int | None = None,
    grace_period: int = 1,
    address: str | None = None,
    verbose: int = 1,
) -> dict[str, Any]:
    """Runs (or resumes) a Tune search; writes OUT/best.json and OUT/best_checkpoint/.

    Trials and Tune's TensorBoard files go to OUT/tune/. Running the same command on the same
    OUT resumes an interrupted sweep: finished trials are kept, unfinished ones run again.
    Raises SweepInterrupted when the search stops before every trial has finished.
    """
    from lfo_ray import algorithms
    from lfo_ray.config import apply_overrides
    from lfo_ray.demos import resolve_demos

    if num_samples < 1:
        raise ValueError(f"--num-samples must be >= 1, got {num_samples}")
    if scheduler not in ("fifo", "asha"):
        raise ValueError(f"scheduler must be 'fifo' or 'asha', got {scheduler!r}")
    spec = algorithms.get(algo)
    space_path = Path(search_space) if search_space else default_search_space_path(algo)
    space_spec = load_search_space(space_path)
    check_search_space(algo, space_spec)
    overrides = dict(overrides or {})
    clash = sorted(set(overrides) & set(space_spec))
    if clash:
        raise ValueError(f"{', '.join(clash)}: both fixed by --set and searched in {space_path}")
    apply_overrides(spec.config_cls(), overrides)  # unknown fields fail here, not in a trial
    demos_path = resolve_demos(demos).resolve()
    if not demos_path.is_file():
        raise FileNotFoundError(f"{demos}: is not a demonstrations file")
    out = Path(out_dir).resolve()
    settings = {"algo": algo, "env": env_id, "demos": str(demos_path), "num_samples": num_samples,
                "search_space": space_spec, "scheduler": scheduler, "overrides": overrides,
                "env_kwargs": dict(env_kwargs or {}), "seed": seed, "eval_episodes": eval_episodes}
    _check_settings(out, settings)

    if verbose == 0:
        # Tune's default output engine prints its configuration box and result paths at any
        # verbosity; the classic one honours verbose=0.
        os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    from ray import tune

    from lfo_ray.runtime import ensure_ray

    ensure_ray(address, quiet=verbose == 0)
    trainable = tune.with_resources(make_trainable(algo), {"cpu": cpus_per_trial})
    experiment = out / EXPERIMENT_DIR
    if tune.Tuner.can_restore(str(experiment)):
        tuner = tune.Tuner.restore(str(experiment), trainable, resume_unfinished=True)
    else:
        param_space = {"env": env_id, "demos": str(demos_path), "seed": seed,
                       "env_kwargs": dict(env_kwargs or {}), "final_eval_episodes": eval_episodes,
                       "placement": "local", **overrides, **to_tune_space(space_spec)}
        tuner = tune.Tuner(
            trainable,
            param_space=param_space,
            tune_config=tune.TuneConfig(
                metric=METRIC, mode=MODE, num_samples=num_samples,
                scheduler=_scheduler(scheduler, grace_period),
                max_concurrent_trials=max_concurrent,
            ),
            run_config=tune.RunConfig(
                name=EXPERIMENT_DIR, storage_path=str(out), verbose=verbose,
            ),
        )
    results = tuner.fit()
    expected = num_samples * grid_size(space_spec)
    finished = _finished_trials(experiment)
    if finished < expected:
        raise SweepInterrupted(f"{finished} of {expected} trials finished; "
                               f"run the same command again to resume {out}")
    return write_best(results, out, algo, env_id)


def _finished_trials(experiment: Path) -> int:
    """Trials recorded as ended in the saved experiment state. Tune writes that state before it
    stops the trials of an interrupted run, so unlike the returned ResultGrid (where every
    stopped trial reads TERMINATED) it tells finished trials from interrupted ones."""
    from ray.tune import ExperimentAnalysis
    from ray.tune.experiment import Trial

    trials = ExperimentAnalysis(str(experiment)).trials
    return sum(trial.status in (Trial.TERMINATED, Trial.ERROR) for trial in trials)


def _scheduler(name: str, grace_period: int):
    if name == "fifo":
        return None
    from ray.tune.schedulers import ASHAScheduler

    # Rungs counted in reports (training_iteration): each algorithm reports at its own pace,
    # and trials end by themselves, so max_t only has to exceed any trial's report count.
    return ASHAScheduler(time_attr="training_iteration", max_t=100_000,
                         grace_period=grace_period, reduction_factor=3)


def _check_settings(out: Path, settings: dict[str, Any]) -> None:
    from lfo_ray.experiment import write_json

    path = out / SETTINGS_FILE
    if path.exists():
        previous = json.loads(path.read_text())
        if previous != json.loads(json.dumps(settings)):
            changed = sorted(k for k in settings if previous.get(k) != json.loads(json.dumps(settings[k])))
            raise ValueError(f"{out} holds a sweep with other settings ({', '.join(changed)}); "
                             f"resume it with the same arguments or use another --out")
        return
    out.mkdir(parents=True, exist_ok=True)
    write_json(path, settings)


def write_best(results, out: Path, algo: str, env_id: str) -> dict[str, Any]:
    """Picks the finished trial with the best final return; writes best.json and best_checkpoint/
    (that trial's run directory: result.json, checkpoint/, tb/)."""
    from lfo_ray.experiment import RESULT_FILE, write_json

    finished = [r for r in results if r.error is None and r.metrics.get(FINAL) and r.checkpoint]
    if not finished:
        raise RuntimeError(f"no trial of the sweep in {out} finished ({results.num_errors} errored)")
    best = max(finished, key=lambda r: r.metrics[METRIC])
    target = out / BEST_CHECKPOINT
    staging = out / (BEST_CHECKPOINT + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    best.checkpoint.to_directory(str(staging))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    summary = {
        "algo": algo,
        "env": env_id,
        "metric": METRIC,
        "mode": MODE,
        "config": best.config,
        "result": json.loads((target / RESULT_FILE).read_text()),
        "trial_dir": best.path,
        "checkpoint": str(target),
        "trials": [_trial_row(r) for r in sorted(results, key=lambda r: r.path)],
    }
    write_json(out / BEST_FILE, summary)
    return summary


def _trial_row(result) -> dict[str, Any]:
    metrics = result.metrics or {}
    return {"trial_dir": result.path, "config": result.config or {},
            "return_mean": metrics.get(METRIC), "env_steps": metrics.get("env_steps"),
            "finished": bool(metrics.get(FINAL)), "error": str(result.error) if result.error else None}


# ---------------------------------------------------------------------------------------------
# CLI


def cmd_sweep(args: argparse.Namespace) -> None:
    from lfo_ray.config import parse_assignments, parse_env_kwargs

    try:
        best = run_sweep(
            args.algo, args.env, args.demos, args.out, num_samples=args.num_samples,
            search_space=args.search_space, scheduler=args.scheduler,
            overrides=parse_assignments(args.set), env_kwargs=parse_env_kwargs(args.env_kw),
            seed=args.seed, eval_episodes=args.eval_episodes, cpus_per_trial=args.cpus_per_trial,
            max_concurrent=args.max_concurrent, grace_period=args.grace_period,
            address=args.address, verbose=0 if args.quiet else 1,
        )
    except SweepInterrupted as error:
        print(f"lfo: sweep interrupted: {error}")
        raise SystemExit(130) from None
    searched = sorted(_settings_space(Path(args.out)))
    print(f"{'trial':<8} " + " ".join(f"{k:>14}" for k in searched) + f" {'return':>10} {'env_steps':>10}")
    for i, row in enumerate(best["trials"]):
        values = " ".join(f"{_short(row['config'].get(k)):>14}" for k in searched)
        status = "" if row["finished"] else " (stopped early)" if not row["error"] else " (error)"
        print(f"{i:<8} {values} {_short(row['return_mean']):>10} {_short(row['env_steps']):>10}{status}")
    result = best["result"]
    print(f"best: return {result['return_mean']:.2f} after {result['env_steps']} env steps, "
          f"config {json.dumps({k: best['config'].get(k) for k in searched})}")
    print(f"wrote {Path(args.out) / BEST_FILE} and {Path(args.out) / BEST_CHECKPOINT}/; "
          f"tensorboard --logdir {args.out}")


def _settings_space(out: Path) -> dict[str, Any]:
    return json.loads((out / SETTINGS_FILE).read_text())["search_space"]


def _short(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def add_sweep_parser(subparsers) -> None:
    """Adds `lfo sweep` to the CLI's sub-commands."""
    p = subparsers.add_parser("sweep", help="Tune search over an algorithm's config fields")
    p.add_argument("algo")
    p.add_argument("--env", required=True)
    p.add_argument("--demos", required=True,
                   help="demonstration Parquet file, or a shipped set's name (e.g. CartPole-v1)")
    p.add_argument("--out", required=True,
                   help="sweep directory: tune/ (trials, TensorBoard), best.json, best_checkpoint/")
    p.add_argument("--num-samples", type=int, default=4, help="samples of the search space")
    p.add_argument("--search-space", help="JSON file (default: experiments/search_spaces/ALGO.json)")
    p.add_argument("--scheduler", choices=("fifo", "asha"), default="fifo",
                   help="asha stops weak trials at their intermediate evaluations")
    p.add_argument("--grace-period", type=int, default=1,
                   help="asha: evaluations a trial reports before it may be stopped")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="fix a config field")
    p.add_argument("--env-kw", action="append", metavar="KEY=VALUE", help="environment kwarg")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=int, default=20)
    p.add_argument("--cpus-per-trial", type=float, default=1.0)
    p.add_argument("--max-concurrent", type=int, help="trials at once (default: as CPUs allow)")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else local)")
    p.add_argument("--quiet", action="store_true", help="no Tune progress table")
    p.set_defaults(func=cmd_sweep)
