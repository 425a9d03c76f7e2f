"""Tune: search spaces, the trainable registry by name, and `lfo sweep` with an interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lfo_ray import algorithms
from lfo_ray.experiment import evaluate_run
from lfo_ray.plot import plot_runs
from lfo_ray.tune import (
    BEST_CHECKPOINT,
    BEST_FILE,
    EXPERIMENT_DIR,
    check_search_space,
    grid_size,
    to_tune_space,
    trainable_name,
)
from tests.conftest import DEMOS, REPO, run_cli

SEARCH_SPACES = REPO / "experiments" / "search_spaces"
GRID_DEMOS = DEMOS / "GridWorld-v0.parquet"


def test_search_space_json_becomes_tune_domains():
    from ray.tune.search.sample import Categorical, Float, Integer

    space = to_tune_space({"lr": {"loguniform": [1e-4, 1e-2]}, "n": {"randint": [1, 4]},
                           "h": {"choice": [[64], [64, 64]]}, "s": {"grid": [0, 1, 2]}, "fixed": 3})
    assert isinstance(space["lr"], Float) and isinstance(space["n"], Integer)
    assert isinstance(space["h"], Categorical) and space["s"] == {"grid_search": [0, 1, 2]}
    assert space["fixed"] == 3
    assert grid_size({"s": {"grid": [0, 1, 2]}, "t": {"grid": [1, 2]}, "lr": {"uniform": [0, 1]}}) == 6
    with pytest.raises(ValueError, match="loguniform"):
        to_tune_space({"lr": {"logscale": [1, 2]}})
    with pytest.raises(ValueError, match="unknown field.*nope.*valid fields"):
        check_search_space("bc", {"nope": {"choice": [1]}})


@pytest.mark.parametrize("path", sorted(SEARCH_SPACES.glob("*.json")), ids=lambda p: p.stem)
def test_default_search_spaces_name_real_fields(path):
    spec = json.loads(path.read_text())
    assert path.stem in algorithms.names()
    check_search_space(path.stem, spec)
    to_tune_space(spec)


def test_every_algorithm_has_a_default_search_space():
    missing = [name for name in algorithms.names() if not (SEARCH_SPACES / f"{name}.json").exists()]
    assert not missing, f"no experiments/search_spaces/<name>.json for {missing}"


def test_algorithms_get_lists_and_loads():
    names = algorithms.names()
    assert {"bc", "bco", "ilpo"} <= set(names)
    spec = algorithms.get("bc")
    assert spec.name == "bc" and spec.config_cls().lr > 0 and callable(spec.train)
    assert trainable_name("mce_irl") == "lfo_ray/MCE_IRL"
    with pytest.raises(KeyError, match="available: .*bc"):
        algorithms.get("no_such_algo")


def _python(code: str, timeout: float = 300, address: str | None = None) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter; with `address`, its Ray is the test session's."""
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token"}
    env.pop("RAY_ADDRESS", None)
    if address:
        env["RAY_ADDRESS"] = address
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)


@pytest.fixture(scope="module")
def session_address(ray_session) -> str:
    """The GCS address of the session-wide Ray: subprocesses join it instead of starting theirs."""
    return ray_session.get_runtime_context().gcs_address


def test_import_lfo_ray_registers_with_tune_either_order():
    result = _python("""
        import sys, time
        start = time.perf_counter()
        import lfo_ray
        assert "ray.tune" not in sys.modules, "import lfo_ray must not pay for ray.tune"
        print("import_s", time.perf_counter() - start)
        from ray.tune.registry import _has_trainable
        from lfo_ray import algorithms
        assert all(_has_trainable("lfo_ray/" + n.upper()) for n in algorithms.names())
    """)
    assert result.returncode == 0, result.stderr
    result = _python("""
        from ray import tune
        import lfo_ray
        from ray.tune.registry import get_trainable_cls
        from lfo_ray import algorithms
        print([get_trainable_cls("lfo_ray/" + n.upper()).__name__ for n in algorithms.names()])
    """)
    assert result.returncode == 0, result.stderr


@pytest.mark.ray
def test_tuner_by_registered_name(tmp_path, session_address):
    """A user's script: `import lfo_ray`, then a Tuner on "lfo_ray/BC" by name, one trial."""
    result = _python(address=session_address, code=f"""
        import json
        import lfo_ray
        from ray import tune
        tuner = tune.Tuner(
            "lfo_ray/BC",
            param_space={{"env": "lfo_ray/GridWorld-v0", "demos": "lfo_ray/demos/GridWorld-v0.parquet",
                          "train_steps": 20, "final_eval_episodes": 2, "seed": 1}},
            run_config=tune.RunConfig(storage_path={str(tmp_path)!r}, name="by_name", verbose=0),
        )
        (result,) = tuner.fit()
        assert result.error is None, result.error
        print(json.dumps({{"metrics": result.metrics, "checkpoint": result.checkpoint.path}}))
    """)
    assert result.returncode == 0, result.stderr[-5000:]
    reported = json.loads(result.stdout.strip().splitlines()[-1])
    assert reported["metrics"]["final_evaluation"] is True
    assert "return_mean" in reported["metrics"] and reported["metrics"]["env_steps"] == 0
    assert (Path(reported["checkpoint"]) / "checkpoint" / "policy.pt").exists()
    assert len(list((tmp_path / "by_name").glob("lfo_ray_BC_*"))) == 1
    run = json.loads((Path(reported["checkpoint"]) / "result.json").read_text())
    assert run["algo"] == "bc" and run["config"]["train_steps"] == 20 and run["seed"] == 1


def _sweep_args(out: Path, space: Path, address: str) -> list[str]:
    # On the session's Ray (2 CPUs, shared with other tests): fractional CPUs per trial.
    return ["sweep", "bc", "--env", "lfo_ray/GridWorld-v0", "--demos", str(GRID_DEMOS), "--out", str(out),
            "--num-samples", "1", "--search-space", str(space), "--scheduler", "asha",
            "--max-concurrent", "1", "--cpus-per-trial", "0.5", "--eval-episodes", "4", "--quiet",
            "--address", address]


@pytest.mark.ray
def test_sweep_is_interrupted_then_resumed(tmp_path, session_address):
    """A 2-trial `lfo sweep`, stopped by Ctrl-C after its first trial, finished by the same command."""
    start = time.perf_counter()
    space = tmp_path / "space.json"
    # The second trial trains long enough (seconds) for Ctrl-C to land while it runs.
    space.write_text(json.dumps({"train_steps": {"grid": [20, 5_000]}, "lr": {"loguniform": [1e-3, 1e-2]}}))
    out = tmp_path / "sweep"
    process = subprocess.Popen([sys.executable, "-m", "lfo_ray.cli", *_sweep_args(out, space, session_address)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env={**os.environ, "RAY_AUTH_MODE": "token"})
    try:
        # One trial at a time: the second one starts once Tune has recorded the first as ended.
        deadline = time.monotonic() + 300
        while not list((out / EXPERIMENT_DIR).glob("*_00001_*")):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "second trial did not start"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)  # Ctrl-C: Tune saves the experiment state and stops
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, output[-5000:]
    assert "run the same command again to resume" in output
    assert not (out / BEST_FILE).exists()
    (first_trial,) = (out / EXPERIMENT_DIR).glob("*_00000_*")
    first_result = (first_trial / "checkpoint_000000" / "result.json").read_text()

    resumed = run_cli(*_sweep_args(out, space, session_address), timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-5000:]
    assert "best: return" in resumed.stdout
    # --quiet: lfo's own summary only, none of Tune's boxes and tables
    assert "Configuration for experiment" not in resumed.stdout + resumed.stderr
    assert "View detailed results" not in resumed.stdout + resumed.stderr
    best = json.loads((out / BEST_FILE).read_text())
    assert len(best["trials"]) == 2 and all(t["finished"] for t in best["trials"])
    assert sorted(t["config"]["train_steps"] for t in best["trials"]) == [20, 5_000]
    assert best["result"]["return_mean"] == max(t["return_mean"] for t in best["trials"])
    assert (first_trial / "checkpoint_000000" / "result.json").read_text() == first_result, "trial ran again"
    # best_checkpoint/ is the best trial's run directory: `lfo evaluate` reads it.
    assert json.loads((out / BEST_CHECKPOINT / "result.json").read_text()) == best["result"]
    assert evaluate_run(out / BEST_CHECKPOINT, episodes=2)["episodes"] == 2
    # TensorBoard: Tune's event files per trial, and each run's own tb/ in its checkpoint.
    trials = sorted((out / EXPERIMENT_DIR).glob("lfo_bc_*"))
    assert len(trials) == 2
    for trial in trials:
        assert list(trial.glob("events.out.tfevents.*"))
        assert list((trial / "checkpoint_000000" / "tb").glob("events.out.tfevents.*"))
    # `lfo plot` on the sweep: each run once (best_checkpoint/ is a copy), Tune's files skipped.
    plotted = plot_runs([out], tmp_path / "sweep.png")
    assert [len(g.runs) for g in plotted.groups] == [2] and len(plotted.skipped) == 2
    print(f"\nsweep test: {time.perf_counter() - start:.1f} s")
