"""Smoke tests of the `lfo` entry points, each in a subprocess as a user runs them."""

from lfo_ray.data import read_dataset
from tests.conftest import DEMOS, run_cli


def test_collect_then_inspect(tmp_path):
    out = tmp_path / "grid.parquet"
    result = run_cli("collect", "lfo_ray/GridWorld-v0", "--episodes", "12", "--workers", "2",
                     "--no-ray", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "transitions/s" in result.stdout
    assert len(read_dataset(out)) == 12
    result = run_cli("data", "inspect", str(out))
    assert result.returncode == 0, result.stderr
    assert "lfo_ray/GridWorld-v0" in result.stdout and "episodes:      12" in result.stdout
    assert "mean 10.00" in result.stdout


def test_inspect_shipped_demonstrations():
    result = run_cli("data", "inspect", str(DEMOS / "GridWorld-v0.parquet"))
    assert result.returncode == 0, result.stderr
    assert "expert:value-iteration" in result.stdout


def test_collect_on_local_ray(tmp_path):
    out = tmp_path / "grid.parquet"
    result = run_cli("collect", "lfo_ray/GridWorld-v0", "--episodes", "20", "--workers", "2",
                     "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert len(read_dataset(out)) == 20


def test_errors_name_the_problem(tmp_path):
    result = run_cli("data", "inspect", str(tmp_path / "missing.parquet"))
    assert result.returncode == 2 and "missing.parquet" in result.stderr
    result = run_cli("collect", "NoSuchEnv-v0", "--episodes", "1", "--out", str(tmp_path / "x.parquet"))
    assert result.returncode == 2 and "unknown environment 'NoSuchEnv-v0'" in result.stderr
    assert not (tmp_path / "x.parquet").exists()
