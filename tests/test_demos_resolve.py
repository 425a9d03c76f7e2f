"""Shipped demonstrations resolve from any directory: by the README's path and by short name,
in the CLI (a subprocess started elsewhere), sweeps and train_run (Ray Jobs run `lfo train`)."""

from __future__ import annotations

import pytest

from lfo_ray.demos import resolve_demos, shipped_demos
from tests.conftest import DEMOS, run_cli


def test_shipped_sets_are_listed_by_short_name():
    shipped = shipped_demos()
    assert {"CartPole-v1", "CartPole-v1-noise0.25", "GridWorld-v0", "PixelGridWorld-v0"} <= set(shipped)
    assert all(path.is_file() for path in shipped.values())


@pytest.mark.parametrize("name", ["CartPole-v1", "CartPole-v1.parquet", "lfo_ray/demos/CartPole-v1.parquet",
                                  "./lfo_ray/demos/CartPole-v1.parquet"])
def test_names_and_the_readme_path_resolve_from_another_directory(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_demos(name).samefile(DEMOS / "CartPole-v1.parquet")


def test_an_existing_file_wins_and_tune_trials_look_in_the_sweep_directory(tmp_path, monkeypatch):
    (tmp_path / "CartPole-v1").write_text("mine")
    monkeypatch.chdir(tmp_path)
    assert resolve_demos("CartPole-v1") == tmp_path / "CartPole-v1"
    trial = tmp_path / "trial"
    trial.mkdir()
    monkeypatch.chdir(trial)
    monkeypatch.setenv("TUNE_ORIG_WORKING_DIR", str(tmp_path))
    assert resolve_demos("CartPole-v1") == tmp_path / "CartPole-v1"


def test_unknown_names_list_the_shipped_sets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("CartPole-v9", "elsewhere/CartPole-v1.parquet"):
        with pytest.raises(FileNotFoundError, match=rf"{name}: no such demonstrations file.*shipped: .*CartPole-v1-noise0.25"):
            resolve_demos(name)


def test_cli_resolves_shipped_demos_from_another_directory(tmp_path):
    for name in ("lfo_ray/demos/CartPole-v1.parquet", "CartPole-v1-noise0.25"):
        result = run_cli("data", "inspect", name, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "CartPole-v1" in result.stdout
    result = run_cli("train", "bc", "--env", "lfo_ray/GridWorld-v0", "--demos", "lfo_ray/demos/GridWorld-v0.parquet",
                     "--out", str(tmp_path / "bc"), "--placement", "local", "--quiet", "--eval-episodes", "2",
                     "--set", "train_steps=20", "--set", "log_every=10", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    result = run_cli("data", "inspect", "NoSuch-v0", cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("lfo: error: NoSuch-v0: no such demonstrations file")
    assert "GridWorld-v0-noisy" in result.stderr


def test_sweeps_use_the_same_resolver(tmp_path, monkeypatch):
    from lfo_ray.tune import run_sweep

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="Nope-v0: no such demonstrations file"):
        run_sweep("bc", "lfo_ray/GridWorld-v0", "Nope-v0", tmp_path / "sweep", num_samples=1)
