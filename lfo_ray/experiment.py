"""The run contract shared by the CLI, Tune and the Python API.

`train_run` builds the algorithm's config, loads the demonstrations, calls the algorithm's
training function, evaluates the returned policy on the true environment reward and writes
DIR/result.json, DIR/tb/ and DIR/checkpoint/. Every entry point goes through it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from lfo_ray.config import apply_overrides, config_to_dict
from lfo_ray.core import Policy
from lfo_ray.data import ObsDataset, read_dataset, write_dataset
from lfo_ray.data.parquet import atomic_write
from lfo_ray.envs import make_vector_env
from lfo_ray.envs.user import portable_env
from lfo_ray.placement import Placement
from lfo_ray.rollout import evaluate_policy

RESULT_FILE = "result.json"
DEMOS_FILE = "demos.parquet"
CHECKPOINT_DIR = "checkpoint"
TB_DIR = "tb"


@dataclass(frozen=True)
class RunContext:
    """What an algorithm's training function is given besides its config."""

    env_id: str
    env_kwargs: dict[str, Any]
    demos: ObsDataset
    """The demonstrations. Observation-only algorithms must not read their actions."""
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

    def report(self, env_steps: int, return_mean: float, **metrics: float) -> None:
        """Records an intermediate evaluation: TensorBoard, and the sweep's reporter if any.

        Algorithms call this for each point they add to their `curve`.
        """
        from lfo_ray.metrics import EVAL_RETURN

        self.writer.add_scalar(EVAL_RETURN, return_mean, env_steps)
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


@dataclass(frozen=True)
class AlgorithmSpec:
    """An algorithm as the registry knows it."""

    name: str
    config_cls: type
    train: Callable[[Any, RunContext], TrainOutput]
    """Trains, saves its checkpoint under ctx.checkpoint_dir, returns the policy."""
    load_policy: Callable[[Path], Policy]
    """Loads the policy saved under a checkpoint directory."""
    observation_only: bool
    """True when the algorithm never uses the demonstrator's actions."""
    description: str = ""


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


def load_demos(demos: str | os.PathLike | ObsDataset, env_id: str,
               out_dir: Path) -> tuple[ObsDataset, Path]:
    """The demonstrations of a run and the Parquet file behind them.

    `demos` is a path or a shipped set's name (lfo_ray.demos.resolve_demos), or an ObsDataset,
    which is written to DIR/demos.parquet: streaming learners read a file, and the run keeps a
    record of what it learned from. Demonstrations recorded on another env are refused.
    """
    from lfo_ray.demos import resolve_demos
    from lfo_ray.envs.user import FACTORY_NAMESPACE, bare_id

    if isinstance(demos, ObsDataset):
        dataset, demos_path = demos, write_dataset(demos, out_dir / DEMOS_FILE)
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
    placement: str = "ray",
    address: str | None = None,
    resume: bool = False,
    progress: bool = True,
    reporter: Callable[[dict[str, Any]], None] | None = None,
    torch_threads: int | None = 1,
) -> dict[str, Any]:
    """Trains `algo` and writes DIR/result.json; returns the result dictionary.

    env_id: a gymnasium id, a "module:Env-v0" id, or a factory (a callable returning a
    gymnasium Env), registered under a generated id that every Ray worker receives with it
    (lfo_ray.envs.user). demos: a file, a shipped set's name, or an ObsDataset (load_demos).

    torch_threads sets this process's intra-op threads (None: leave torch's default). One is
    fastest for lfo-ray's small networks: with more, runs sharing the cores spin against each
    other (10x slower updates measured with two runs on 2 cores).

    placement "ray" (default) runs rollout workers, replay and learners as Ray actors on the
    cluster at `address` (or RAY_ADDRESS, else an embedded local Ray); "local" runs them all
    in this process.
    """
    from tensorboardX import SummaryWriter

    from lfo_ray import algorithms

    spec = algorithms.get(algo)
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    config = apply_overrides(spec.config_cls(), overrides or {})
    env_id = portable_env(env_id)
    dataset, demos_path = load_demos(demos, env_id, Path(out_dir))
    if spec.observation_only:
        dataset = dataset.without_actions()
    elif not dataset.has_actions:
        raise ValueError(f"{algo} learns from actions, but {demos_path} holds observations only")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env_kwargs = dict(env_kwargs or {})
    _seed_everything(seed)
    start = time.perf_counter()
    where = Placement(placement, address)
    with SummaryWriter(str(out / TB_DIR)) as writer:
        ctx = RunContext(env_id, env_kwargs, dataset, seed, out, writer, demos_path, where,
                         resume, progress, reporter)
        output = spec.train(config, ctx)
        train_s = time.perf_counter() - start
        returns = evaluate_episodes(output.policy, env_id, eval_episodes, seed + EVAL_SEED_OFFSET, env_kwargs)
        writer.add_scalar("eval/final_return_mean", float(returns.mean()), output.env_steps)
    result = {
        "algo": algo,
        "env": env_id,
        "env_kwargs": env_kwargs,
        "seed": seed,
        "demos": str(demos_path),
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "eval_episodes": int(len(returns)),
        "env_steps": int(output.env_steps),
        "demo_return_mean": dataset.metadata.return_mean,
        "wall_s": time.perf_counter() - start,
        "train_s": train_s,
        "curve": [[int(s), float(r)] for s, r in output.curve],
        "config": config_to_dict(config),
        "placement": placement,
        "metrics": output.metrics,
    }
    write_json(out / RESULT_FILE, result)
    return result


EVAL_SEED_OFFSET = 10_000
"""train_run scores a run of seed s on the evaluation episodes seeded s + EVAL_SEED_OFFSET."""


def evaluate_episodes(policy: Policy, env_id: str, episodes: int, seed: int,
                      env_kwargs: Mapping[str, Any] | None = None) -> np.ndarray:
    """Returns of `episodes` seeded episodes of `policy` on the true reward (up to 32 envs at once)."""
    env = make_vector_env(env_id, min(episodes, 32), **dict(env_kwargs or {}))
    return evaluate_policy(policy, env, episodes, seed)


def evaluate_run(out_dir: str | os.PathLike, episodes: int, seed: int = 20_000) -> dict[str, Any]:
    """Re-evaluates the policy saved by a finished run."""
    from lfo_ray import algorithms

    out = Path(out_dir)
    result_path = out / RESULT_FILE
    if not result_path.exists():
        raise FileNotFoundError(f"{result_path}: no result.json; is {out} the --out of `lfo train`?")
    result = json.loads(result_path.read_text())
    checkpoint = out / CHECKPOINT_DIR
    if not checkpoint.is_dir():
        raise FileNotFoundError(f"{checkpoint}: missing checkpoint directory")
    policy = algorithms.get(result["algo"]).load_policy(checkpoint)
    returns = evaluate_episodes(policy, result["env"], episodes, seed, result.get("env_kwargs"))
    return {"return_mean": float(returns.mean()), "return_std": float(returns.std()),
            "episodes": int(len(returns))}


def _seed_everything(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def replace_config(config: Any, **changes: Any) -> Any:
    return dataclasses.replace(config, **changes)
