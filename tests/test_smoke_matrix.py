"""Every registered algorithm on every shipped env: `lfo train` in a subprocess with a tiny budget.

A pair the algorithm's spec claims (AlgorithmSpec.supports) must exit 0, write result.json with
a finite return and leave a policy that `lfo_ray.load_policy` loads and acts with; any other
pair must be refused before any work, with exit 2 and one `lfo: error:` line.

Each algorithm's pairs run in one subprocess, through the `lfo` entry point (lfo_ray.cli.main)
with the argv a user would type, two algorithms at a time: a fresh process pays ~5 s of imports
(torch, and torch._dynamo on the first optimiser), more than a tiny run itself. The tests then
only read what their pair left behind.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import lfo_ray
from lfo_ray import algorithms
from lfo_ray.cli import main
from lfo_ray.envs import CLASSIC_CONTROL, GRIDWORLD, MUJOCO, PIXEL_GRIDWORLD
from lfo_ray.experiment import env_spaces
from lfo_ray.policy import WEIGHTS_FILE
from tests.conftest import DEMOS

# The MuJoCo tasks whose demonstrations ship (each needs its SAC expert first).
ENVS = CLASSIC_CONTROL + (GRIDWORLD, PIXEL_GRIDWORLD) + tuple(e for e in MUJOCO if (DEMOS / f"{e}.parquet").exists())
DEMO_FILES = {env: DEMOS / f"{env.split('/')[-1]}.parquet" for env in ENVS}
SAC = "+sac"
"""Suffix of a family member run with the off-policy generator (--set rl=sac) on the Box-action tasks."""

# Tiny budgets, by algorithm name; keys a config does not have are dropped. FALLBACK covers new names.
FALLBACK = {"train_steps": 20, "total_env_steps": 1024, "update_epochs": 1, "pretrain_steps": 10,
            "eval_episodes": 2, "iterations": 2}
LEARNED_REWARD = {"total_env_steps": 1024, "update_epochs": 1, "pretrain_steps": 10, "reward_steps": 1}
SAC_TINY = {"rl": "sac", "total_env_steps": 256, "learning_starts": 128, "sac_batch_size": 32, "sac_hidden": (16,),
            "pretrain_steps": 10, "reward_steps": 1}
TINY = {
    "bc": {"train_steps": 20},
    "dagger": {"train_steps": 20, "rounds": 1, "num_envs": 4, "steps_per_round": 10, "round_train_steps": 10,
               "curve_episodes": 2},
    "maxent_irl": {"iterations": 2, "eval_every": 1},
    "mce_irl": {"iterations": 2, "eval_every": 1},
    "relent_irl": {"num_samples": 50, "iterations": 2, "eval_every": 1},
    "bco": {"budget": 40, "iterations": 1, "inverse_updates": 5, "policy_updates": 5, "eval_episodes": 1},
    "ilpo": {"lpn_steps": 5, "lpn_log_every": 5, "interaction_budget": 20, "chunk_steps": 10, "eval_every": 20,
             "eval_episodes": 1},
    "gail": LEARNED_REWARD,
    "gaifo": LEARNED_REWARD,
    "imrl": LEARNED_REWARD,
    "pmi_il": LEARNED_REWARD,
}


def overrides(algo: str) -> dict[str, object]:
    name = algo.removesuffix(SAC)
    fields = {f.name for f in dataclasses.fields(algorithms.get(name).config_cls)}
    tiny = SAC_TINY if algo.endswith(SAC) else TINY.get(name, FALLBACK)
    return {key: value for key, value in tiny.items() if key in fields}


def claimed(algo: str, env: str) -> bool:
    return algorithms.get(algo.removesuffix(SAC)).supports(*env_spaces(env)) is None


def box_actions(env: str) -> bool:
    return env_spaces(env)[1].shape != ()


PAIRS = [(algo, env) for algo in algorithms.names() for env in ENVS]
SUPPORTED = [pair for pair in PAIRS if claimed(*pair)]
REFUSED = [pair for pair in PAIRS if not claimed(*pair)]
SUPPORTED += [(algo + SAC, env) for algo, env in SUPPORTED
              if box_actions(env) and "rl" in {f.name for f in dataclasses.fields(algorithms.get(algo).config_cls)}]


def train_args(algo: str, env: str, out: Path) -> list[str]:
    sets = [arg for key, value in overrides(algo).items()
            for arg in ("--set", f"{key}={','.join(map(str, value)) if isinstance(value, tuple) else value}")]
    return ["train", algo.removesuffix(SAC), "--env", env, "--demos", str(DEMO_FILES[env]), "--seed", "0", "--out", str(out),
            "--placement", "local", "--eval-episodes", "2", "--quiet", *sets]


# Runs `lfo train ARGV` for each argv in the JSON file argv[1]; writes [[exit status, stderr], ...]
# to argv[2]. A pair that raises past the CLI's own error handling reports 1 and its traceback.
RUNNER = """
import contextlib, io, json, sys, traceback
from lfo_ray.cli import main
outcomes = []
for argv in json.load(open(sys.argv[1])):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except BaseException:
            status = 1
            traceback.print_exc(file=err)
    outcomes.append([status, err.getvalue()])
json.dump(outcomes, open(sys.argv[2], "w"))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, str], tuple[int, str, Path]]:
    """(exit status, stderr, run directory) of every claimed pair."""
    root = tmp_path_factory.mktemp("matrix")

    def run(algo: str) -> dict[tuple[str, str], tuple[int, str, Path]]:
        pairs = [pair for pair in SUPPORTED if pair[0] == algo]
        outs = [root / f"{a}-{e.split('/')[-1]}" for a, e in pairs]
        argvs, outcomes = root / f"{algo}.json", root / f"{algo}.out.json"
        argvs.write_text(json.dumps([train_args(*pair, out) for pair, out in zip(pairs, outs)]))
        completed = subprocess.run([sys.executable, "-c", RUNNER, str(argvs), str(outcomes)],
                                   capture_output=True, text=True, timeout=600)
        if completed.returncode != 0:
            return {pair: (completed.returncode, completed.stderr, out) for pair, out in zip(pairs, outs)}
        return {pair: (status, err, out)
                for pair, out, (status, err) in zip(pairs, outs, json.loads(outcomes.read_text()))}

    with ThreadPoolExecutor(max_workers=2) as pool:
        return {pair: outcome for group in pool.map(run, sorted({a for a, _ in SUPPORTED}))
                for pair, outcome in group.items()}


@pytest.mark.parametrize("algo,env", SUPPORTED, ids=[f"{a}-{e.split('/')[-1]}" for a, e in SUPPORTED])
def test_claimed_pair_trains_and_leaves_a_loadable_policy(runs, algo, env):
    status, stderr, out = runs[(algo, env)]
    assert status == 0, stderr[-3000:]
    result = json.loads((out / "result.json").read_text())
    assert (result["algo"], result["env"], result["seed"]) == (algo.removesuffix(SAC), env, 0)
    assert math.isfinite(result["return_mean"]) and result["eval_episodes"] == 2
    assert result["env_steps"] >= 0
    assert {key: result["config"][key] for key in overrides(algo)} == {
        key: list(value) if isinstance(value, tuple) else value for key, value in overrides(algo).items()}
    assert (out / "checkpoint" / WEIGHTS_FILE).exists()
    policy = lfo_ray.load_policy(out)
    obs, actions = env_spaces(env)
    batch = np.stack([obs.sample() for _ in range(3)])
    assert policy.act(batch).shape == (3, *actions.shape) and policy.act(batch[0]).shape == actions.shape
    if box_actions(env):
        assert ((policy.act(batch) >= actions.low) & (policy.act(batch) <= actions.high)).all()


@pytest.mark.parametrize("algo,env", REFUSED, ids=[f"{a}-{e.split('/')[-1]}" for a, e in REFUSED])
def test_unclaimed_pair_is_refused_in_one_line(tmp_path, capsys, algo, env):
    out = tmp_path / "run"
    assert main(train_args(algo, env, out)) == 2
    error = capsys.readouterr().err
    assert error.startswith("lfo: error: ") and error.count("\n") == 1, error
    assert algo in error and not out.exists()
