"""experiments/main_job.py (`make run`): a second run never fails on, or overwrites, the first."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_main_job():
    spec = importlib.util.spec_from_file_location("main_job", REPO / "experiments" / "main_job.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_run_gets_a_directory_of_its_own(tmp_path):
    fresh_dir = load_main_job().fresh_dir
    assert fresh_dir(tmp_path, "ilpo-cartpole") == tmp_path / "ilpo-cartpole"
    (tmp_path / "ilpo-cartpole").mkdir()
    assert fresh_dir(tmp_path, "ilpo-cartpole") == tmp_path / "ilpo-cartpole-2"
    (tmp_path / "ilpo-cartpole-2").mkdir()
    assert fresh_dir(tmp_path, "ilpo-cartpole") == tmp_path / "ilpo-cartpole-3"
