"""The run contract of `lfo train` / `lfo evaluate`: safe loading, no overwrites, checks before
work, resume of the same run only, clean stops. Through the CLI and train_run only."""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lfo_ray import algorithms
from lfo_ray.checkpoint import safe_torch_load
from lfo_ray.cli import main
from lfo_ray.data import DatasetMetadata, ObsDataset, read_dataset, write_dataset
from lfo_ray.experiment import ERROR_LOG, RUN_FILE, train_run
from lfo_ray.placement import resolve
from tests.conftest import DEMOS, REPO, run_cli

CARTPOLE = "CartPole-v1"
CARTPOLE_DEMOS = DEMOS / f"{CARTPOLE}.parquet"
BCO_TINY = ["--set", "budget=60", "--set", "iterations=1", "--set", "inverse_updates=5",
            "--set", "policy_updates=5", "--set", "eval_episodes=1", "--set", "inverse_hidden=[8]",
            "--set", "policy_hidden=[8]", "--placement", "local", "--eval-episodes", "2", "--quiet"]


def train_args(out: Path, *extra: str, algo: str = "bco", demos: Path = CARTPOLE_DEMOS) -> list[str]:
    return ["train", algo, "--env", CARTPOLE, "--demos", str(demos), "--out", str(out), *BCO_TINY, *extra]


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("lfo: error: "), err
    return err[0]


class CreatesFile:
    """Unpickling this object creates a file: what a malicious checkpoint would do."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "finished"
    assert main(train_args(out)) == 0
    return out


def copy_run(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".lock"))
    return destination


# 1. Nothing that loads a run executes code.

@pytest.mark.parametrize("target, command", [("checkpoint/policy.pt", "evaluate"),
                                             ("checkpoint/state.pt", "resume")])
def test_a_checkpoint_carrying_code_is_refused(finished_run, tmp_path, target, command):
    """BCO's `lfo evaluate` reads policy.pt, its `--resume` state.pt: each holding a pickled object."""
    run = copy_run(finished_run, tmp_path / "run")
    marker = tmp_path / "pwned"
    payload = safe_torch_load(run / target)
    payload["spec" if "spec" in payload else "curve"] = CreatesFile(marker)
    torch.save(payload, run / target)
    args = ["evaluate", str(run), "--episodes", "1"] if command == "evaluate" else train_args(run, "--resume")
    result = run_cli(*args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"lfo: error: refusing to load {run / target}: it holds objects "
                               "other than tensors/numbers/strings"), lines
    assert not marker.exists()


def test_checkpoints_round_trip_numpy_and_rng_state(tmp_path):
    from lfo_ray.checkpoint import load_checkpoint, save_checkpoint

    rng = np.random.default_rng(3)
    state = {"array": np.arange(6, dtype=np.int32).reshape(2, 3), "scalar": np.float32(1.5),
             "sampler": rng.bit_generator.state, "nested": [(1, "a", None)]}
    save_checkpoint(tmp_path, state)
    torch.load(tmp_path / "state.pt", weights_only=True)      # loadable without code
    loaded = load_checkpoint(tmp_path)
    assert loaded["array"].dtype == np.int32 and loaded["array"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert type(loaded["scalar"]) is np.float32 and loaded["nested"] == [(1, "a", None)]
    assert loaded["sampler"] == rng.bit_generator.state


# 3. Never overwrite; a run's status.

def test_an_existing_run_is_never_overwritten(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path / "run")
    before = (run / "result.json").read_bytes()
    assert main(train_args(run, "--seed", "1")) == 2
    assert "already holds a run (status finished); pass --resume to continue it or --overwrite" in error_line(capsys)
    assert (run / "result.json").read_bytes() == before
    (run / "tb" / "stale").write_text("from the first run")
    assert main(train_args(run, "--seed", "1", "--overwrite")) == 0
    assert not (run / "tb" / "stale").exists()
    assert json.loads((run / "result.json").read_text())["seed"] == 1


def test_a_non_run_directory_is_neither_used_nor_cleared(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(train_args(tmp_path, "--overwrite")) == 2
    assert "non-empty directory that holds no lfo run" in error_line(capsys)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_evaluate_refuses_a_run_that_did_not_finish(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path / "run")
    record = json.loads((run / RUN_FILE).read_text())
    (run / RUN_FILE).write_text(json.dumps(dict(record, status="running")))
    assert main(["evaluate", str(run)]) == 2
    assert f"{run}: the run's status is 'running', not finished" in error_line(capsys)


# 4. Every argument checked before work starts.

@pytest.fixture(scope="module")
def mountaincar_without_env_id(tmp_path_factory) -> Path:
    dataset = read_dataset(DEMOS / "MountainCar-v0.parquet")
    anonymous = ObsDataset(dataset.episodes[:2], DatasetMetadata(env_id=None))
    return write_dataset(anonymous, tmp_path_factory.mktemp("demos") / "anonymous.parquet")


BAD_TRAIN = [
    (["--eval-episodes", "-3"], "--eval-episodes: expected an integer >= 1, got -3"),
    (["--set", "policy_lr=inf"], "--set policy_lr: expected a finite number, got 'inf'"),
    (["--set", "alpha=nan"], "--set alpha: expected a finite number, got 'nan'"),
    (["--set", "policy_lr=-1"], "--set: bco config refused: learning rates must be > 0"),
    (["--seed", "-1"], "--seed: expected an integer with 0 <= seed < 2**31, got -1"),
    (["--seed", str(2**31)], "--seed: expected an integer with 0 <= seed < 2**31, got 2147483648"),
    (["--env-kw", "bogus=1"], "--env-kw bogus: CartPole-v1 takes no such keyword; valid: max_episode_steps, "
                              "render_mode, sutton_barto_reward"),
    (["--env-kw", "sutton_barto_reward=maybe"],
     "--env-kw sutton_barto_reward: expected a bool like its default False, got 'maybe'"),
    (["--env-kw", "max_episode_steps=-5"], "--env-kw max_episode_steps: expected an integer >= 1, got -5"),
    (["--set", "device=cuda"], "--set device=cuda: CUDA is not available on this machine"),
    (["--set", "device=banana"], "--set device=banana: expected a torch device such as cpu, cuda or cuda:0"),
    (["--torch-threads", "-1"], "--torch-threads: expected 0 (torch's default) or an integer >= 1, got -1"),
    (["--set", "nosuch=1"], "--set unknown config field 'nosuch' for BCOConfig; valid fields: alpha,"),
    (["--placement", "ray", "--address", "127.0.0.1:1"],
     "--address 127.0.0.1:1: no Ray cluster answers there (Connection refused)"),
    (["--resume"], "--resume: {out} holds no run to continue; drop --resume to start one"),
    (["--resume", "--overwrite"], "--resume continues the run in --out, --overwrite replaces it: choose one"),
]


@pytest.mark.parametrize("extra, message", BAD_TRAIN, ids=[" ".join(e) for e, _ in BAD_TRAIN])
def test_bad_train_arguments_are_refused_before_work(tmp_path, capsys, extra, message):
    if "cuda" in message and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "run"
    start = time.perf_counter()
    assert main(train_args(out, *extra)) == 2
    assert message.format(out=out) in error_line(capsys)
    assert time.perf_counter() - start < 15
    assert not out.exists()


def test_bad_env_out_and_demonstrations_are_refused_before_work(tmp_path, capsys, mountaincar_without_env_id):
    out = tmp_path / "run"
    assert main(["train", "bco", "--env", "NoSuchEnv-v9", "--demos", str(CARTPOLE_DEMOS), "--out", str(out)]) == 2
    assert "--env: unknown environment 'NoSuchEnv-v9'" in error_line(capsys)
    (tmp_path / "file").write_text("")
    assert main(train_args(tmp_path / "file")) == 2
    assert f"--out {tmp_path / 'file'}: expected a run directory, but it is an existing file" in error_line(capsys)
    assert main(train_args(out, demos=mountaincar_without_env_id)) == 2
    assert (f"--demos {mountaincar_without_env_id}: observations have shape (2,), but CartPole-v1 observes "
            "shape (4,)") in error_line(capsys)
    assert main(train_args(out, "--set", "eval_episodes=0", algo="bc")) == 2
    assert "--placement local" not in capsys.readouterr().err
    assert not out.exists()


def test_offline_algorithms_refuse_flags_they_do_not_honour(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "bc", "--env", CARTPOLE, "--demos", str(CARTPOLE_DEMOS), "--out", str(out), "--quiet"]
    assert main([*args, "--placement", "ray"]) == 2
    assert "--placement ray: bc runs with placement local only" in error_line(capsys)
    assert main([*args, "--resume"]) == 2
    assert "--resume: bc cannot resume" in error_line(capsys)
    assert not out.exists()


def test_evaluate_and_collect_check_their_counts(finished_run, tmp_path, capsys):
    assert main(["evaluate", str(finished_run), "--episodes", "0"]) == 2
    assert "--episodes: expected an integer >= 1, got 0" in error_line(capsys)
    out = tmp_path / "x.parquet"
    for extra, message in [(["--episodes", "0"], "--episodes: expected an integer >= 1, got 0"),
                           (["--episodes", "1", "--seed", "-5"], "--seed: expected an integer"),
                           (["--episodes", "1", "--env-kw", "bogus=1"], "--env-kw bogus: CartPole-v1 takes")]:
        assert main(["collect", CARTPOLE, "--out", str(out), "--no-ray", "--quiet", *extra]) == 2
        assert message in error_line(capsys)
    assert not out.exists()


def test_import_checks_the_env_and_its_observations(tmp_path, capsys):
    fixtures = REPO / "tests" / "data" / "fixtures"
    out = tmp_path / "x.parquet"
    assert main(["data", "import", str(fixtures / "ilpo_text"), str(out), "--env", "NoSuchEnv-v9"]) == 2
    assert "--env: unknown environment 'NoSuchEnv-v9'" in error_line(capsys)
    assert main(["data", "import", str(fixtures / "image_pairs"), str(out), "--env", CARTPOLE]) == 2
    assert "observations have shape (50, 50, 3), but CartPole-v1 observes shape (4,)" in error_line(capsys)
    assert not out.exists()


# 2. Resume is the same run or nothing.

@pytest.mark.parametrize("extra, field", [
    (["--seed", "1"], "seed=0, this command gives 1"),
    (["--set", "policy_lr=0.01"], "config.policy_lr=0.001, this command gives 0.01"),
    (["--set", "budget=90"], "config.budget=60, this command gives 90"),
])
def test_resume_refuses_a_different_run(finished_run, tmp_path, capsys, extra, field):
    run = copy_run(finished_run, tmp_path / "run")
    assert main(train_args(run, "--resume", *extra)) == 2
    assert f"--resume: {run} was trained with {field}" in error_line(capsys)


def test_resume_refuses_other_demonstrations_and_algorithms(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path / "run")
    other = write_dataset(ObsDataset(read_dataset(CARTPOLE_DEMOS).episodes[:3], DatasetMetadata(env_id=CARTPOLE)),
                          tmp_path / "fewer.parquet")
    assert main(train_args(run, "--resume", demos=other)) == 2
    assert "was trained with demonstrations_sha256=" in error_line(capsys)
    assert main(["train", "ilpo", "--env", CARTPOLE, "--demos", str(CARTPOLE_DEMOS), "--out", str(run),
                 "--resume", "--placement", "local"]) == 2
    assert f"--resume: {run} holds a bco run, not ilpo" in error_line(capsys)


# 6. Clean stops and errors.

def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lfo_ray.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.05)


LONG_BCO = ["--set", "budget=400", "--set", "iterations=3", "--set", "inverse_updates=300",
            "--set", "policy_updates=300"]


def test_sigint_stops_in_one_line_and_resume_finishes_the_run(tmp_path):
    run = tmp_path / "run"
    process = _start(train_args(run, *LONG_BCO))
    _wait_for(run / "checkpoint" / "state.pt", process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lfo: interrupted at step "), err
    assert lines[0].endswith("; continue with --resume")
    assert json.loads((run / RUN_FILE).read_text())["status"] == "interrupted"
    assert not list(run.rglob("*.tmp"))
    safe_torch_load(run / "checkpoint" / "state.pt")          # intact
    result = run_cli(*train_args(run, *LONG_BCO, "--resume"))
    assert result.returncode == 0, result.stderr
    record = json.loads((run / RUN_FILE).read_text())
    assert record["status"] == "finished" and len(record["segments"]) == 2
    summary = json.loads((run / "result.json").read_text())
    assert summary["segments"] == 2 and summary["resumed"] and summary["placement"] == "local"
    assert summary["wall_s"] >= sum(s["wall_s"] for s in record["segments"]) - 1e-6
    assert summary["wall_s"] > record["segments"][-1]["wall_s"]


def with_train(monkeypatch, train) -> None:
    """Makes every algorithm train with `train` (what a failing algorithm would do)."""
    real = algorithms.get("bco")
    monkeypatch.setattr(algorithms, "get", lambda name: dataclasses.replace(real, train=train))


def test_a_failure_is_one_line_with_the_traceback_in_error_log(tmp_path, capsys, monkeypatch):
    def broken(config, ctx):
        raise RuntimeError("the learner exploded\nsecond line")

    with_train(monkeypatch, broken)
    run = tmp_path / "run"
    assert main(train_args(run)) == 1
    line = error_line(capsys)
    assert line == f"lfo: error: RuntimeError: the learner exploded (traceback in {run / ERROR_LOG})"
    assert "Traceback" in (run / ERROR_LOG).read_text()
    assert json.loads((run / RUN_FILE).read_text())["status"] == "failed"
    assert main(train_args(tmp_path / "debug", "--debug")) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith("lfo: error: RuntimeError: the learner exploded\n")


@pytest.mark.ray
def test_a_ray_actor_failure_is_one_line(tmp_path, capsys, monkeypatch, ray_session):
    def with_failing_actor(config, ctx):
        class Exploding:
            def go(self):
                raise ValueError("inverse model diverged at update 7")

        resolve(ctx.placement.place(Exploding).call("go"))

    with_train(monkeypatch, with_failing_actor)
    run = tmp_path / "run"
    args = [a if a != "local" else "ray" for a in train_args(run)]
    assert main(args) == 2
    assert error_line(capsys) == ("lfo: error: ValueError: inverse model diverged at update 7 "
                                  f"(traceback in {run / ERROR_LOG})")
    assert "Exploding" in (run / ERROR_LOG).read_text()


def test_offline_algorithms_report_intermediate_evaluations_and_what_happened(tmp_path):
    reports: list[dict] = []
    result = train_run("bc", CARTPOLE, CARTPOLE_DEMOS, 0, tmp_path / "bc", overrides={"train_steps": 20},
                       eval_episodes=1, progress=False, reporter=reports.append)
    assert len(reports) == len(result["curve"]) == 10
    assert result["placement"] == "local" and result["segments"] == 1 and not result["resumed"]
    # the CPU class torch ran on is part of what a seeded figure depends on
    assert result["machine"]["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert result["machine"]["torch"] == torch.__version__ and result["machine"]["cpu"]
    assert json.loads((tmp_path / "bc" / RUN_FILE).read_text())["segments"][0]["machine"] == result["machine"]
    reports.clear()
    train_run("maxent_irl", "lfo_ray/GridWorld-v0", DEMOS / "GridWorld-v0.parquet", 0, tmp_path / "irl",
              overrides={"iterations": 4, "eval_every": 2}, eval_episodes=1, progress=False,
              reporter=reports.append)
    assert len(reports) == 2 and all(np.isfinite(r["return_mean"]) for r in reports)


# 2. Resume is exact: a run killed at a random point and resumed ends where an uninterrupted one does.

EXACT = {
    "bco": ["--set", "budget=400", "--set", "iterations=3", "--set", "inverse_updates=150",
            "--set", "policy_updates=150", "--set", "batch_size=32", "--set", "eval_episodes=1",
            "--set", "inverse_hidden=[16]", "--set", "policy_hidden=[16]"],
    "ilpo": ["--set", "lpn_steps=300", "--set", "lpn_log_every=50", "--set", "lpn_batch_size=16",
             "--set", "hidden=16", "--set", "interaction_budget=400", "--set", "chunk_steps=25",
             "--set", "eval_every=50", "--set", "eval_episodes=1", "--set", "arn_batch_size=8",
             "--set", "arn_updates_per_step=0.5", "--set", "epsilon=0.5"],
}


def _final_state(out: Path) -> dict:
    state = safe_torch_load(out / "checkpoint" / "state.pt")
    return {"modules": state["learner"]["modules"], "replay": state["replay"]["data"],
            "curve": state["curve"], "env_steps": state["env_steps"]}


def _assert_identical(a, b, where: str = "") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_identical(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


@pytest.mark.learning  # slow (four short runs per algorithm), not a return threshold
@pytest.mark.parametrize("algo", sorted(EXACT))
def test_a_run_killed_at_a_random_point_resumes_bit_identically(tmp_path, algo):
    def args(out: Path, *extra: str) -> list[str]:
        return ["train", algo, "--env", CARTPOLE, "--demos", str(CARTPOLE_DEMOS), "--out", str(out),
                "--placement", "local", "--eval-episodes", "1", "--quiet", *EXACT[algo], *extra]

    whole = run_cli(*args(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    rng = np.random.default_rng()
    killed = tmp_path / "killed"
    for attempt in range(2):                 # kill twice: at two random points of the same run
        process = _start(args(killed, *(["--resume"] if attempt else [])))
        mtime = (killed / "checkpoint" / "state.pt").stat().st_mtime_ns if attempt else None
        deadline = time.time() + 120
        while not ((killed / "checkpoint" / "state.pt").exists()
                   and (killed / "checkpoint" / "state.pt").stat().st_mtime_ns != mtime):
            assert process.poll() is None and time.time() < deadline, process.communicate()
            time.sleep(0.02)
        # within the phase after the one just saved: a later kill can land after the last checkpoint,
        # leaving the next attempt nothing to save before it exits
        time.sleep(rng.uniform(0.0, 0.15))
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    resumed = run_cli(*args(killed, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    _assert_identical(_final_state(tmp_path / "whole"), _final_state(killed))
    record = json.loads((killed / RUN_FILE).read_text())
    assert record["status"] == "finished" and len(record["segments"]) == 3
    assert json.loads((killed / "result.json").read_text())["wall_s"] > record["segments"][-1]["wall_s"]
