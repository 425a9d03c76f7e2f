"""The wheel installs algorithms/ and envs/ inside lfo_ray, with the data files it needs."""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"lfo_ray": REPO / "lfo_ray", "lfo_ray.algorithms": REPO / "algorithms",
         "lfo_ray.envs": REPO / "envs"}


def test_every_package_directory_is_listed_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for name, root in ROOTS.items():
        for init in root.rglob("__init__.py"):
            parts = init.parent.relative_to(root).parts
            if "__pycache__" not in parts:
                found.add(".".join((name, *parts)))
    assert found == listed


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    return zipfile.ZipFile(next(out.glob("lfo_ray-*.whl")))


def test_wheel_layout(wheel):
    names = set(wheel.namelist())
    assert "lfo_ray/envs/gridworld.py" in names
    assert "lfo_ray/envs/worlds/tutorial_gridworld.json" in names
    assert "lfo_ray/envs/anchors.json" in names
    assert "lfo_ray/algorithms/__init__.py" in names
    assert "lfo_ray/demos/GridWorld-v0.parquet" in names
    top = {name.split("/")[0] for name in names}
    assert "envs" not in top and "algorithms" not in top and "tests" not in top
