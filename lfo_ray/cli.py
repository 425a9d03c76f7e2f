"""The `lfo` command line: collect, data, train, evaluate, list, sweep, plot."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from lfo_ray.config import ConfigError, parse_assignments, parse_env_kwargs
from lfo_ray.data.formats import FORMATS

if TYPE_CHECKING:
    from lfo_ray.experiment import AlgorithmSpec


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def cmd_collect(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from lfo_ray.collect import CollectSpec, collect_dataset
    from lfo_ray.data import write_dataset
    from lfo_ray.envs.user import import_env_module
    from lfo_ray.runtime import ensure_ray
    from lfo_ray.validate import check_env, check_positive, check_seed

    for module in args.env_module or ():      # registers the user's envs before they are checked
        import_env_module(module)
    check_seed(args.seed)
    check_positive(args.episodes, "--episodes")
    check_positive(args.workers, "--workers")
    check_positive(args.envs_per_worker, "--envs-per-worker")
    check_env(args.env, parse_env_kwargs(args.env_kw))
    spec = CollectSpec(
        env_id=args.env, episodes=args.episodes, seed=args.seed, noise=args.noise,
        envs_per_worker=args.envs_per_worker,
        env_kwargs=tuple(sorted(parse_env_kwargs(args.env_kw).items())),
        policy=args.policy, env_modules=tuple(args.env_module or ()),
    )
    if not args.no_ray:
        ensure_ray(args.address)
    with tqdm(total=args.episodes, unit="ep", desc=f"collect {args.env}", file=sys.stderr,
              disable=args.quiet) as bar:
        dataset, stats = collect_dataset(spec, args.workers, use_ray=not args.no_ray, progress=bar.update)
    write_dataset(dataset, args.out)
    print(f"wrote {args.out}: {len(dataset)} episodes, {dataset.num_transitions} transitions, "
          f"return {_fmt(dataset.metadata.return_mean)} ± {_fmt(dataset.metadata.return_std)}")
    print(f"throughput: {stats['transitions_per_s']:.0f} transitions/s "
          f"({args.workers} worker(s), {stats['wall_s']:.2f} s)")


def cmd_inspect(args: argparse.Namespace) -> None:
    import numpy as np

    from lfo_ray.data import read_dataset
    from lfo_ray.demos import resolve_demos

    dataset = read_dataset(resolve_demos(args.file))
    meta = dataset.metadata
    lengths = np.array([len(e) for e in dataset.episodes])
    print(f"file:          {args.file}")
    print(f"env:           {meta.env_id or 'unknown'}")
    print(f"source:        {meta.source} (noise {meta.noise}, seed {meta.seed})")
    print(f"format:        version {meta.format_version}")
    print(f"observations:  shape {dataset.obs_shape}, dtype {dataset.episodes[0].observations.dtype}")
    print(f"obs space:     {json.dumps(meta.observation_space)}")
    print(f"action space:  {json.dumps(meta.action_space)}")
    print(f"actions:       {'stored' if dataset.has_actions else 'not stored (observation-only)'}")
    print(f"episodes:      {len(dataset)} ({sum(e.terminated for e in dataset.episodes)} terminated, "
          f"{sum(e.truncated for e in dataset.episodes)} truncated)")
    print(f"transitions:   {dataset.num_transitions} (length min {lengths.min()}, "
          f"mean {lengths.mean():.1f}, max {lengths.max()})")
    returns = dataset.returns()
    if returns is None:
        print("return:        unknown (no rewards stored)")
    else:
        print(f"return:        mean {returns.mean():.2f} ± {returns.std():.2f} "
              f"(min {returns.min():.2f}, max {returns.max():.2f})")
    if meta.extra:
        print(f"extra:         {json.dumps(meta.extra, sort_keys=True)}")


def cmd_import(args: argparse.Namespace) -> None:
    from lfo_ray.data import write_dataset
    from lfo_ray.data.formats import import_path
    from lfo_ray.envs.user import import_env_module
    from lfo_ray.validate import check_env, check_observations

    for module in args.env_module or ():
        import_env_module(module)
    space = check_env(args.env) if args.env else None
    dataset = import_path(args.src, fmt=args.format, env_id=args.env, frame_stride=args.frame_stride)
    if space is not None:
        check_observations(dataset.obs_shape, dataset.episodes[0].observations.dtype, space, args.env,
                           str(args.src))
    write_dataset(dataset, args.dst)
    print(f"wrote {args.dst}: {len(dataset)} episodes, {dataset.num_transitions} transitions "
          f"({'with' if dataset.has_actions else 'without'} actions)")


def cmd_export(args: argparse.Namespace) -> None:
    from lfo_ray.data import read_dataset
    from lfo_ray.data.ilpo_text import write_ilpo_text
    from lfo_ray.data.minari_datasets import write_minari
    from lfo_ray.demos import resolve_demos

    dataset = read_dataset(resolve_demos(args.src))
    if args.format == "minari":
        if args.with_actions:
            raise ValueError("--with-actions is for ilpo-text; Minari datasets always hold actions")
        where = write_minari(dataset, args.dst)
        print(f"wrote Minari dataset {args.dst} at {where}: {len(dataset)} episodes")
        return
    write_ilpo_text(dataset, args.dst, with_actions=args.with_actions)
    print(f"wrote {args.dst}: {dataset.num_transitions} lines")


def _env_arg(args: argparse.Namespace) -> Any:
    """--env with its --env-module imported, as train_run takes it."""
    from lfo_ray.envs.user import portable_env

    try:
        return portable_env(args.env, args.env_module or ())
    except ValueError as error:
        raise ValueError(f"--env: {error}") from None


def cmd_train(args: argparse.Namespace) -> None:
    from lfo_ray.experiment import train_run

    if args.torch_threads < 0:
        raise ValueError(f"--torch-threads: expected 0 (torch's default) or an integer >= 1, "
                         f"got {args.torch_threads}")
    result = train_run(
        args.algo, _env_arg(args), args.demos, args.seed, args.out,
        overrides=parse_assignments(args.set), env_kwargs=parse_env_kwargs(args.env_kw),
        eval_episodes=args.eval_episodes, placement=args.placement, address=args.address,
        resume=args.resume, progress=not args.quiet, overwrite=args.overwrite,
        torch_threads=None if args.torch_threads == 0 else args.torch_threads, use_preset=not args.no_preset,
    )
    demo = result["demo_return_mean"]
    print(f"{args.algo} on {args.env} (seed {args.seed}): return {result['return_mean']:.2f} "
          f"± {result['return_std']:.2f} over {result['eval_episodes']} episodes; "
          f"demonstrations {_fmt(demo)}; {result['env_steps']} env steps; {result['wall_s']:.1f} s")
    print(f"wrote {Path(args.out) / 'result.json'}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from lfo_ray.experiment import evaluate_run

    result = evaluate_run(args.dir, args.episodes, seed=args.seed)
    print(f"{args.dir} ({result['algo']} on {result['env']}, seed {result['seed']}): "
          f"return {result['return_mean']:.2f} ± {result['return_std']:.2f} over {result['episodes']} episodes")


def cmd_list(args: argparse.Namespace) -> None:
    from lfo_ray import algorithms
    from lfo_ray.envs import CLASSIC_CONTROL, GRIDWORLD, MUJOCO, PIXEL_GRIDWORLD

    envs = CLASSIC_CONTROL + (GRIDWORLD, PIXEL_GRIDWORLD) + MUJOCO
    if args.algo is None:
        print("algorithms:   " + ", ".join(algorithms.names()))
        print("environments: " + ", ".join(envs))
        print("`lfo list ALGO` describes one algorithm and its config fields.")
        return
    print(describe_algorithm(algorithms.get(args.algo), envs))


def describe_algorithm(spec: AlgorithmSpec, envs: Sequence[str]) -> str:
    """What `lfo list ALGO` prints: description, data, envs, and every config field."""
    import dataclasses

    from lfo_ray.config import field_docs
    from lfo_ray.experiment import env_spaces

    reasons = {env: spec.supports(*env_spaces(env)) for env in envs}
    supported = [env for env, reason in reasons.items() if reason is None]
    refused: dict[str, list[str]] = {}
    for env, reason in reasons.items():
        if reason is not None:
            refused.setdefault(reason, []).append(env)
    data = ("observations only (the demonstrator's actions are never read)" if spec.observation_only
            else "observations and the demonstrator's actions")
    lines = [f"{spec.name}: {spec.description}", f"learns from:  {data}",
             f"envs:         {', '.join(supported) or 'none of the shipped ones'}"]
    lines += [f"              ({', '.join(names)}: {reason})" for reason, names in refused.items()]
    config, docs = spec.config_cls(), field_docs(spec.config_cls)
    fields = [(f.name, repr(getattr(config, f.name))) for f in dataclasses.fields(config)]
    width = max(len(f"{name} = {value}") for name, value in fields)
    lines.append("config (--set KEY=VALUE):")
    lines += [f"  {f'{name} = {value}':<{width}}  {docs.get(name, '')}".rstrip() for name, value in fields]
    return "\n".join(lines)


def _add_env_module(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env-module", action="append", metavar="MODULE",
                        help="import MODULE first (here and on every Ray worker): it registers the env")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lfo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("collect", help="collect demonstrations on any gymnasium env with parallel Ray workers")
    p.add_argument("env", help="gymnasium id, or 'module:Env-v0' (the module registers the env)")
    p.add_argument("--policy", default="expert",
                   help="random | expert | RUN_DIR (of `lfo train`) | module:callable "
                        "(obs batch -> action batch); default: the shipped expert")
    _add_env_module(p)
    p.add_argument("--episodes", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", required=True, help="Parquet file to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise", type=float, default=0.0,
                   help="probability of a random action per step (ILPO's noisy demos: 0.25)")
    p.add_argument("--envs-per-worker", type=int, default=8)
    p.add_argument("--env-kw", action="append", metavar="KEY=VALUE", help="environment kwarg")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else local)")
    p.add_argument("--no-ray", action="store_true", help="collect in this process")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_collect)

    data = sub.add_parser("data", help="inspect and convert demonstration files")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    p = data_sub.add_parser("inspect", help="print metadata, counts and return statistics")
    p.add_argument("file", help="Parquet file, or a shipped set's name (e.g. CartPole-v1)")
    p.set_defaults(func=cmd_inspect)
    p = data_sub.add_parser("import", help="convert plain Parquet, Minari, video, ILPO text/image "
                                           "pairs or tutorial pickle to lfo-ray's Parquet")
    p.add_argument("src", help="file or directory; a Minari dataset also by id (MINARI_DATASETS_PATH)")
    p.add_argument("dst", help="Parquet file to write")
    p.add_argument("--format", choices=FORMATS, help="source format (detected when omitted)")
    p.add_argument("--env", help="environment id: recorded in the metadata; gives plain Parquet its "
                                 "spaces and video its observation shape")
    _add_env_module(p)
    p.add_argument("--frame-stride", type=int, default=1, help="video: keep every K-th frame")
    p.set_defaults(func=cmd_import)
    p = data_sub.add_parser("export", help="write a dataset as ILPO text or as a Minari dataset")
    p.add_argument("src")
    p.add_argument("dst", help="ilpo-text: the .txt file; minari: the dataset id "
                               "(NAMESPACE/NAME-v0, written under MINARI_DATASETS_PATH)")
    p.add_argument("--format", choices=("ilpo-text", "minari"), default="ilpo-text")
    p.add_argument("--with-actions", action="store_true", help="ilpo-text: write [s] [a] [s'] lines")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("train", help="train an algorithm and evaluate it")
    p.add_argument("algo")
    p.add_argument("--env", required=True)
    p.add_argument("--demos", required=True,
                   help="demonstration Parquet file, or a shipped set's name (e.g. CartPole-v1)")
    _add_env_module(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="run directory (result.json, tb/, checkpoint/)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config field")
    p.add_argument("--env-kw", action="append", metavar="KEY=VALUE", help="environment kwarg")
    p.add_argument("--eval-episodes", type=int, default=20)
    p.add_argument("--placement", choices=("ray", "local"),
                   help="ray: actors on Ray; local: everything in this process "
                        "(default: the algorithm's own, ray where it supports it)")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else local)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out (refused unless it is the same run)")
    p.add_argument("--overwrite", action="store_true",
                   help="clear the run in --out first (by default an existing run is never replaced)")
    p.add_argument("--no-preset", action="store_true",
                   help="skip the algorithm's shipped per-environment settings (plain config defaults)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--debug", action="store_true", help="print the full traceback of a failure")
    p.add_argument("--torch-threads", type=int, default=1,
                   help="torch threads of this process (0: torch's default, all cores)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="re-evaluate a saved run")
    p.add_argument("dir")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, default=20_000)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("list", help="list algorithms and environments, or describe one algorithm")
    p.add_argument("algo", nargs="?", help="an algorithm: print its envs and config fields")
    p.set_defaults(func=cmd_list)
    # Tune and matplotlib load only when these commands run.
    from lfo_ray.plot import add_plot_parser
    from lfo_ray.tune import add_sweep_parser

    add_sweep_parser(sub)
    add_plot_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command. Any failure ends in one `lfo: error:` line (exit 2 for bad input, 1
    otherwise; `lfo train` keeps the traceback in DIR/error.log, or prints it with --debug);
    Ctrl-C in one line and exit 130."""
    from lfo_ray.experiment import ERROR_LOG, one_line

    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt as error:
        print(f"lfo: {error}" if str(error) else "lfo: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if getattr(args, "debug", False):
            traceback.print_exc()
        bad_input = isinstance(error, (ValueError, KeyError, FileNotFoundError, ConfigError))
        if bad_input and getattr(error, "cause", None) is None:
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        else:
            message = one_line(error)
        log = Path(args.out) / ERROR_LOG if args.command == "train" else None
        if log is not None and log.exists() and not args.debug:
            message += f" (traceback in {log})"
        print(f"lfo: error: {message}", file=sys.stderr)
        return 2 if bad_input else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
