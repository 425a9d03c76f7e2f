"""The run contract shared by the CLI, Tune and the Python API.

`train_run` builds the algorithm's config, loads the demonstrations, calls the algorithm's
training function, evaluates the returned policy on the true environment reward and writes
DIR/result.json, DIR/tb/ and DIR/checkpoint/. Every entry point goes through it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import platform
import shutil
import tempfile
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import gymnasium as gym
import numpy as np

from lfo_ray.config import apply_overrides, config_to_dict
from lfo_ray.core import Policy
from lfo_ray.data import ObsDataset, read_dataset, write_dataset
from lfo_ray.data.parquet import atomic_write
from lfo_ray.envs import make_vector_env
from lfo_ray.envs.user import portable_env
from lfo_ray.placement import Placement
from lfo_ray.rollout import evaluate_policy
from lfo_ray.seeding import FINAL_EVAL, derive_seed

RESULT_FILE = "result.json"
DEMOS_FILE = "demos.parquet"
CHECKPOINT_DIR = "checkpoint"
TB_DIR = "tb"


@dataclass(frozen=True)
class RunContext:
    """What an algorithm's training function is given besides its config."""

    env_id: str
    env_kwargs: dict[str, Any]
    demos: ObsDataset | None
    """The demonstrations. Observation-only algorithms must not read their actions. None only for RL
    on the env's reward (experiments/train_experts.py)."""
    seed: int
    out_dir: Path
    writer: Any
    """tensorboardX SummaryWriter for DIR/tb (metric names in lfo_ray.metrics)."""
    demos_path: Path | None = None
    """The Parquet file behind `demos`, for learners that stream it (lfo_ray.demos.DemoSampler)."""
    placement: Placement = field(default_factory=lambda: Placement("local"))
    """Where rollout workers, replay and learners go: in this process or on Ray."""
    resume: bool = False
    """Continue from DIR/checkpoint/state.pt (lfo_ray.checkpoint) instead of starting afresh."""
    progress: bool = True
    """Show a progress bar."""
    reporter: Callable[[dict[str, Any]], None] | None = None
    """Receives every intermediate evaluation (Tune's session.report in a sweep)."""

    def report(self, env_steps: int, return_mean: float, step: int | None = None, **metrics: float) -> None:
        """Records an intermediate evaluation: TensorBoard, and the sweep's reporter if any.

        Algorithms call this for each point they add to their `curve`, offline ones (whose
        env_steps stay 0) after each evaluated iteration; `step` is then TensorBoard's x-axis
        (default: env_steps). Tune's ASHA counts reports, so every algorithm can be stopped early.
        """
        from lfo_ray.metrics import EVAL_RETURN

        self.writer.add_scalar(EVAL_RETURN, return_mean, env_steps if step is None else step)
        self.writer.flush()   # a run killed later still shows its curve so far
        if self.reporter is not None:
            self.reporter({"env_steps": int(env_steps), "return_mean": float(return_mean), **metrics})

    @property
    def checkpoint_dir(self) -> Path:
        return self.out_dir / CHECKPOINT_DIR

    def make_env(self, num_envs: int):
        return make_vector_env(self.env_id, num_envs, **self.env_kwargs)


@dataclass(frozen=True)
class TrainOutput:
    """What a training function returns."""

    policy: Policy
    env_steps: int
    """Online environment interactions used for learning (evaluation excluded)."""
    curve: list[tuple[int, float]] = field(default_factory=list)
    """[env_steps, mean evaluation return] points measured during training."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """Extra figures for result.json (e.g. the recovered reward's correlation)."""


def supports_every_env(observation_space: gym.Space, action_space: gym.Space) -> str | None:
    """AlgorithmSpec.supports of an algorithm that runs on every env."""
    return None


def space_requirement(reason: str, observation: tuple[type, ...] = (gym.spaces.Box, gym.spaces.Discrete),
                      action: tuple[type, ...] = (gym.spaces.Discrete,), images: bool = True
                      ) -> Callable[[gym.Space, gym.Space], str | None]:
    """AlgorithmSpec.supports of an algorithm that runs where the observation and action spaces
    are of these gymnasium types (and, unless `images`, the observations are not uint8 HxWxC
    images); `reason` is the line printed elsewhere."""

    def supports(observation_space: gym.Space, action_space: gym.Space) -> str | None:
        image = (isinstance(observation_space, gym.spaces.Box) and observation_space.dtype == np.uint8
                 and len(observation_space.shape) == 3)
        ok = (isinstance(observation_space, observation) and isinstance(action_space, action)
              and (images or not image))
        return None if ok else reason

    return supports


@dataclass(frozen=True)
class AlgorithmSpec:
    """An algorithm as the registry knows it, with what its training function honours.

    train_run refuses a flag the algorithm does not honour (one `lfo: error:` line) rather than
    ignore it and let result.json claim it.
    """

    name: str
    config_cls: type
    train: Callable[[Any, RunContext], TrainOutput]
    """Trains, saves its checkpoint and its policy (lfo_ray.policy) under ctx.checkpoint_dir,
    returns the policy."""
    observation_only: bool
    """True when the algorithm never uses the demonstrator's actions."""
    description: str = ""
    preset: Callable[[str], dict[str, Any]] | None = None
    """env id -> config fields applied before the user's overrides (shipped per-env settings)."""
    supports: Callable[[gym.Space, gym.Space], str | None] = supports_every_env
    """supports(observation_space, action_space): None when the algorithm can run on an env with
    these spaces, else the one-line reason, naming the envs it can run on. train_run checks it
    before any work. Default: every env."""
    placements: tuple[str, ...] = ("ray", "local")
    """Placements `train` honours through ctx.placement; the first is the default."""
    resumable: bool = True
    """`train` continues from ctx.checkpoint_dir/state.pt (lfo_ray.checkpoint) when ctx.resume."""
    extendable: tuple[str, ...] = ("total_env_steps",)
    """Config fields `--resume` may change: budgets that extend a run. Every other field is part of
    the run's fingerprint (names the config does not have are ignored)."""


RUN_FILE = "run.json"
"""DIR/run.json: {"status", "fingerprint" (run_fingerprint), "segments": [{"started", "wall_s",
"placement", "resumed", "status", "machine" (lfo_ray.experiment.machine)}], "error" (when failed)}.
Written atomically at each change."""
ERROR_LOG = "error.log"
LOCK_FILE = ".lock"
RUNNING, FAILED, INTERRUPTED, FINISHED = "running", "failed", "interrupted", "finished"


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT; its checkpoint is intact and `--resume` continues it."""


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    text = json.dumps(payload, indent=2, sort_keys=True, default=_json_default)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def run_fingerprint(spec: AlgorithmSpec, config: Any, env_id: str, env_kwargs: Mapping[str, Any],
                    demos_sha256: str, seed: int) -> dict[str, Any]:
    """What shapes a run: `--resume` continues a checkpoint only when this is unchanged."""
    fields = {k: v for k, v in config_to_dict(config).items() if k not in spec.extendable}
    payload = {"algorithm": spec.name, "env": env_id, "env_kwargs": dict(env_kwargs),
               "demonstrations_sha256": demos_sha256, "seed": seed, "config": fields}
    return json.loads(json.dumps(payload, sort_keys=True, default=_json_default))


def fingerprint_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for each difference, config fields as "config.NAME"."""
    def flat(fingerprint: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in fingerprint.items() if k != "config"}
        out.update({f"config.{k}": v for k, v in fingerprint.get("config", {}).items()})
        return out

    before, after = flat(old), flat(new)
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]


def read_run_record(out: Path) -> dict[str, Any] | None:
    path = Path(out) / RUN_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: unreadable run record ({error})") from None


def _claim_run_dir(out: Path, fingerprint: dict[str, Any], spec: AlgorithmSpec, resume: bool,
                   overwrite: bool) -> list[dict[str, Any]]:
    """Checks what DIR holds against the flags; returns the earlier segments of a resumed run.

    A directory holding a run is never written over: --resume continues the same run, --overwrite
    clears it first; an empty or absent directory starts a new run.
    """
    record = read_run_record(out)
    holds_run = record is not None or any((out / name).exists() for name in (RESULT_FILE, CHECKPOINT_DIR))
    if resume:
        if not holds_run:
            raise ValueError(f"--resume: {out} holds no run to continue; drop --resume to start one")
        if record is None or "fingerprint" not in record:
            raise ValueError(f"--resume: {out} has no {RUN_FILE} (made by an older lfo), so it cannot be "
                             "checked to be the same run; use --overwrite to start again")
        old = record["fingerprint"]
        if old.get("algorithm") != spec.name:
            raise ValueError(f"--resume: {out} holds a {old.get('algorithm')} run, not {spec.name}; "
                             "a run resumes with the algorithm it started with")
        differences = fingerprint_differences(old, fingerprint)
        if differences:
            field_name, before, after = differences[0]
            names = {f.name for f in dataclasses.fields(spec.config_cls)}
            extendable = [name for name in spec.extendable if name in names]
            may = f"only {', '.join(extendable)} may change" if extendable else "nothing may change"
            raise ValueError(f"--resume: {out} was trained with {field_name}={before!r}, this command "
                             f"gives {after!r} ({may}); resume with the same arguments or use --overwrite")
        return list(record.get("segments", []))
    if holds_run:
        if not overwrite:
            status = record.get("status", "unknown") if record else "unknown"
            raise ValueError(f"--out {out} already holds a run (status {status}); pass --resume to "
                             "continue it or --overwrite to replace it")
        for child in (p for p in out.iterdir() if p.name != LOCK_FILE):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    elif out.exists() and any(p.name != LOCK_FILE for p in out.iterdir()):
        raise ValueError(f"--out {out} is a non-empty directory that holds no lfo run; "
                         "choose an empty or new directory")
    return []


@contextlib.contextmanager
def _run_lock(out: Path):
    """Holds DIR/.lock while a run writes DIR: a second process on the same DIR is refused."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"--out {out}: another lfo process is running in this directory") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def machine() -> dict[str, Any]:
    """What a seeded run's figures depend on besides the code and config: the CPU, the vector
    instructions torch dispatches to (AVX2 and AVX-512 round differently, so the same seed's
    adversarial run can end elsewhere on each), the torch build and the cores."""
    import torch

    model = platform.processor()
    with contextlib.suppress(OSError):
        names = [line.partition(":")[2].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return {"cpu": model, "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch": torch.__version__, "cpus": os.cpu_count()}


def segment_wall_s(segment: Mapping[str, Any], out: Path) -> float:
    """A segment's wall time; for one killed before it could record it, until its last write."""
    if segment.get("wall_s") is not None:
        return float(segment["wall_s"])
    written = [p.stat().st_mtime for p in (out / CHECKPOINT_DIR).glob("*") if p.is_file()]
    return max(0.0, max(written, default=segment["started"]) - segment["started"])


def _checkpointed_step(out: Path) -> int:
    """The env step of DIR's checkpoint (0 without one), for the interrupt message."""
    from lfo_ray.checkpoint import STATE_FILE, safe_torch_load

    path = out / CHECKPOINT_DIR / STATE_FILE
    if not path.exists():
        return 0
    try:
        return int(safe_torch_load(path).get("env_steps", 0))
    except (ValueError, TypeError):
        return 0


@dataclass(frozen=True)
class PreparedRun:
    """Everything train_run checked before writing anything."""

    spec: AlgorithmSpec
    config: Any
    dataset: ObsDataset
    demos_path: Path
    env_kwargs: dict[str, Any]
    placement: str
    fingerprint: dict[str, Any]
    preset: dict[str, Any]
    """The shipped per-environment settings applied under the user's overrides."""


def prepare_run(algo: str, env_id: str, demos: str | os.PathLike, seed: int, out_dir: str | os.PathLike,
                overrides: Mapping[str, Any] | None, env_kwargs: Mapping[str, Any] | None,
                eval_episodes: int, placement: str | None, resume: bool,
                torch_threads: int | None, use_preset: bool = True) -> PreparedRun:
    """Checks every argument of train_run, in order, before any work: raises ValueError naming
    the argument and what it expects."""
    from lfo_ray import algorithms
    from lfo_ray.checkpoint import file_sha256
    from lfo_ray.config import ConfigError
    from lfo_ray.validate import (check_config, check_env, check_observations, check_out_dir,
                                  check_positive, check_seed)

    spec = algorithms.get(algo)
    seed = check_seed(seed)
    check_positive(eval_episodes, "--eval-episodes")
    if torch_threads is not None:
        check_positive(torch_threads, "--torch-threads")
    where = placement or spec.placements[0]
    if where not in spec.placements:
        raise ValueError(f"--placement {where}: {algo} runs with placement "
                         f"{' or '.join(spec.placements)} only")
    if resume and not spec.resumable:
        raise ValueError(f"--resume: {algo} cannot resume (it keeps no checkpoint of its progress); "
                         "run it again with --overwrite")
    check_out_dir(out_dir)
    env_kwargs = dict(env_kwargs or {})
    space = check_env(env_id, env_kwargs)
    check_supported(spec, env_id, env_kwargs)
    preset = dict(spec.preset(env_id)) if use_preset and spec.preset is not None else {}
    try:
        config = apply_overrides(spec.config_cls(), {**preset, **(overrides or {})})
    except ConfigError as error:
        raise ConfigError(f"--set {error}") from None
    except ValueError as error:
        raise ValueError(f"--set: {algo} config refused: {error}") from None
    check_config(config)
    dataset, demos_path = load_demos(demos, env_id)
    check_observations(dataset.obs_shape, dataset.episodes[0].observations.dtype, space, env_id,
                       f"--demos {demos_path}")
    if spec.observation_only:
        dataset = dataset.without_actions()
    elif not dataset.has_actions:
        raise ValueError(f"{algo} learns from actions, but {demos_path} holds observations only")
    fingerprint = run_fingerprint(spec, config, env_id, env_kwargs, file_sha256(demos_path), seed)
    return PreparedRun(spec, config, dataset, demos_path, env_kwargs, where, fingerprint, preset)


def load_demos(demos: str | os.PathLike | ObsDataset, env_id: str) -> tuple[ObsDataset, Path]:
    """The demonstrations of a run and the Parquet file behind them.

    `demos` is a path or a shipped set's name (lfo_ray.demos.resolve_demos), or an ObsDataset,
    which is written to a temporary file (train_run moves it to DIR/demos.parquet once the run
    directory is claimed): streaming learners read a file, the fingerprint hashes it, and the run
    keeps a record of what it learned from. Demonstrations recorded on another env are refused.
    """
    from lfo_ray.demos import resolve_demos
    from lfo_ray.envs.user import FACTORY_NAMESPACE, bare_id

    if isinstance(demos, ObsDataset):
        dataset = demos
        demos_path = write_dataset(demos, Path(tempfile.mkdtemp(prefix="lfo-demos-")) / DEMOS_FILE)
    else:
        demos_path = resolve_demos(demos)
        dataset = read_dataset(demos_path)
    recorded = dataset.metadata.env_id
    if recorded and not env_id.startswith(FACTORY_NAMESPACE) and bare_id(recorded) != bare_id(env_id):
        raise ValueError(
            f"{demos_path}: demonstrations were recorded on {recorded!r}, but --env is {env_id!r}"
        )
    return dataset, demos_path


def train_run(
    algo: str,
    env_id: str | Callable[..., Any],
    demos: str | os.PathLike | ObsDataset,
    seed: int,
    out_dir: str | os.PathLike,
    overrides: Mapping[str, Any] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    eval_episodes: int = 20,
    placement: str | None = None,
    address: str | None = None,
    resume: bool = False,
    progress: bool = True,
    reporter: Callable[[dict[str, Any]], None] | None = None,
    torch_threads: int | None = 1,
    overwrite: bool = False,
    use_preset: bool = True,
) -> dict[str, Any]:
    """Trains `algo` and writes DIR/result.json; returns the result dictionary.

    Every argument is checked before anything is written (`prepare_run`). DIR/run.json records
    the run's status (running, failed, interrupted, finished), its fingerprint and its segments:
    a DIR that holds a run is continued only with `resume` (the same run: the same fingerprint)
    and replaced only with `overwrite`. A failure writes its traceback to DIR/error.log.

    env_id: a gymnasium id, a "module:Env-v0" id, or a factory (a callable returning a
    gymnasium Env), registered under a generated id that every Ray worker receives with it
    (lfo_ray.envs.user). demos: a file, a shipped set's name, or an ObsDataset (load_demos).

    torch_threads sets this process's intra-op threads (None: leave torch's default). One is
    fastest for lfo-ray's small networks: with more, runs sharing the cores spin against each
    other (10x slower updates measured with two runs on 2 cores).

    placement "ray" runs rollout workers, replay and learners as Ray actors on the cluster at
    `address` (or RAY_ADDRESS, else an embedded local Ray); "local" runs them all in this
    process; None: the algorithm's default (the first of its spec's placements).

    use_preset applies the algorithm's shipped settings for `env_id` (printed when `progress`,
    recorded in result.json as "preset") before `overrides`, which always win.
    """
    from tensorboardX import SummaryWriter

    from lfo_ray.checkpoint import STATE_FILE

    if resume and overwrite:
        raise ValueError("--resume continues the run in --out, --overwrite replaces it: choose one")
    try:
        env_id = portable_env(env_id)
    except ValueError as error:
        raise ValueError(f"--env: {error}") from None
    run = prepare_run(algo, env_id, demos, seed, out_dir, overrides, env_kwargs, eval_episodes,
                      placement, resume, torch_threads, use_preset)
    if run.placement == "ray":
        from lfo_ray.runtime import check_address

        check_address(address)
    if run.preset and progress:
        shown = ", ".join(f"{k}={v}" for k, v in run.preset.items() if k not in (overrides or {}))
        print(f"lfo: preset for {algo} on {env_id}: {shown or '(all overridden)'} (--no-preset to skip)",
              file=sys.stderr)
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    out = Path(out_dir)
    created = not out.exists()
    with _run_lock(out):
        try:
            earlier = _claim_run_dir(out, run.fingerprint, run.spec, resume, overwrite)
        except ValueError:
            if created:
                shutil.rmtree(out, ignore_errors=True)
            raise
        # A segment still "running" in the record was killed before it could say otherwise.
        segments = [dict(s, wall_s=segment_wall_s(s, out),
                         status="killed" if s["status"] == RUNNING else s["status"]) for s in earlier]
        segment = {"started": time.time(), "placement": run.placement, "resumed": bool(resume),
                   "wall_s": None, "status": RUNNING, "machine": machine()}

        def record(status: str, **extra: Any) -> None:
            write_json(out / RUN_FILE, {"status": status, "fingerprint": run.fingerprint,
                                        "segments": [*segments, dict(segment, status=status)], **extra})

        record(RUNNING)
        (out / ERROR_LOG).unlink(missing_ok=True)
        if isinstance(demos, ObsDataset):        # the run keeps what it learned from
            kept = out / DEMOS_FILE
            shutil.move(str(run.demos_path), kept)
            shutil.rmtree(run.demos_path.parent, ignore_errors=True)
            run = dataclasses.replace(run, demos_path=kept)
        continuing = resume and (out / CHECKPOINT_DIR / STATE_FILE).exists()
        _seed_everything(seed)
        start = time.perf_counter()
        try:
            with SummaryWriter(str(out / TB_DIR), flush_secs=5) as writer:
                ctx = RunContext(env_id, run.env_kwargs, run.dataset, seed, out, writer, run.demos_path,
                                 Placement(run.placement, address), continuing, progress, reporter)
                output = run.spec.train(run.config, ctx)
                train_s = time.perf_counter() - start
                returns = evaluate_episodes(output.policy, env_id, eval_episodes, derive_seed(seed, FINAL_EVAL),
                                            run.env_kwargs)
                writer.add_scalar("eval/final_return_mean", float(returns.mean()), output.env_steps)
        except KeyboardInterrupt:
            segment["wall_s"] = time.perf_counter() - start
            record(INTERRUPTED)
            raise RunInterrupted(f"interrupted at step {_checkpointed_step(out)}; "
                                 "continue with --resume") from None
        except BaseException as error:
            segment["wall_s"] = time.perf_counter() - start
            (out / ERROR_LOG).write_text(traceback.format_exc())
            record(FAILED, error=one_line(error))
            raise
        segment["wall_s"] = time.perf_counter() - start
        wall_s = sum(s["wall_s"] for s in segments) + segment["wall_s"]
        result = {
            "algo": algo,
            "env": env_id,
            "env_kwargs": run.env_kwargs,
            "seed": seed,
            "demos": str(run.demos_path),
            "return_mean": float(returns.mean()),
            "return_std": float(returns.std()),
            "eval_episodes": int(len(returns)),
            "env_steps": int(output.env_steps),
            "demo_return_mean": run.dataset.metadata.return_mean,
            "wall_s": wall_s,
            "train_s": train_s,
            "curve": [[int(s), float(r)] for s, r in output.curve],
            "config": config_to_dict(run.config),
            "placement": run.placement,
            "preset": run.preset,
            "segments": len(segments) + 1,
            "resumed": bool(continuing),
            "machine": segment["machine"],
            "metrics": output.metrics,
        }
        write_json(out / RESULT_FILE, result)
        record(FINISHED)
    return result


def one_line(error: BaseException) -> str:
    """An error as one line: a Ray actor's failure as the actor's own message."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException) and cause is not error:
        return one_line(cause)
    text = str(error).strip().splitlines()
    message = text[0] if text else ""
    if type(error).__name__ in ("ActorDiedError", "ActorUnavailableError", "WorkerCrashedError"):
        return f"a Ray actor died: {message}"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def evaluate_episodes(policy: Policy, env_id: str, episodes: int, seed: int,
                      env_kwargs: Mapping[str, Any] | None = None) -> np.ndarray:
    """Returns of `episodes` seeded episodes of `policy` on the true reward (up to 32 envs at once)."""
    env = make_vector_env(env_id, min(episodes, 32), **dict(env_kwargs or {}))
    return evaluate_policy(policy, env, episodes, seed)


def evaluate_run(out_dir: str | os.PathLike, episodes: int, seed: int = 20_000) -> dict[str, Any]:
    """Re-evaluates the policy saved by a finished run (a run of any other status is refused); also
    returns the run's algo, env and seed."""
    from lfo_ray.policy import load_policy
    from lfo_ray.validate import check_positive, check_seed

    check_positive(episodes, "--episodes")
    check_seed(seed)
    out = Path(out_dir)
    if not out.is_dir():
        raise FileNotFoundError(f"{out}: no such run directory")
    record = read_run_record(out)
    if record is None:
        raise FileNotFoundError(f"{out / RUN_FILE}: no run record; is {out} the --out of `lfo train`?")
    if record.get("status") != FINISHED:
        raise ValueError(f"{out}: the run's status is {record.get('status')!r}, not finished; "
                         "resume it (lfo train ... --resume) before evaluating it")
    result_path = out / RESULT_FILE
    if not result_path.exists():
        raise FileNotFoundError(f"{result_path}: no result.json in a finished run")
    result = json.loads(result_path.read_text())
    policy = load_policy(out)
    returns = evaluate_episodes(policy, result["env"], episodes, seed, result.get("env_kwargs"))
    return {"algo": result["algo"], "env": result["env"], "seed": result["seed"],
            "return_mean": float(returns.mean()), "return_std": float(returns.std()),
            "episodes": int(len(returns))}


def env_spaces(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> tuple[gym.Space, gym.Space]:
    """The single observation and action spaces of `env_id`."""
    env = make_vector_env(env_id, 1, **dict(env_kwargs or {}))
    try:
        return env.single_observation_space, env.single_action_space
    finally:
        env.close()


def check_supported(spec: AlgorithmSpec, env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> None:
    """Raises ValueError with the algorithm's one-line reason when it cannot run on `env_id`."""
    reason = spec.supports(*env_spaces(env_id, env_kwargs))
    if reason is not None:
        raise ValueError(reason)


def _seed_everything(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def replace_config(config: Any, **changes: Any) -> Any:
    return dataclasses.replace(config, **changes)
