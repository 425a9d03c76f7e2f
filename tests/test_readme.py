"""The README's "Your own env and data" section runs as written, block after block, in a fresh
directory: python blocks as scripts (a block opening with `# NAME.py:` is saved as that module),
bash blocks with `bash -e`, the `lfo` of this interpreter first on the PATH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from lfo_ray.data import read_dataset
from tests.conftest import REPO

SECTION = "## Your own env and data"
BLOCK = re.compile(r"```(python|bash)\n(.*?)```", re.S)
MODULE = re.compile(r"# (\w+\.py):")


def section_blocks(title: str = SECTION) -> list[tuple[str, str]]:
    """(language, code) of every python/bash block in the README section `title`."""
    text = (REPO / "README.md").read_text()
    start = text.index(title + "\n")
    end = text.find("\n## ", start + len(title))
    return BLOCK.findall(text[start:end if end != -1 else len(text)])


def run_block(language: str, code: str, cwd: Path, env: dict[str, str]) -> None:
    named = MODULE.match(code) if language == "python" else None
    if named:
        (cwd / named.group(1)).write_text(code)
        return
    command = [sys.executable, "-c", code] if language == "python" else ["bash", "-e", "-c", code]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{language} block failed:\n{code}\n{result.stdout}\n{result.stderr}"


def test_your_own_env_and_data_section_runs_as_written(tmp_path):
    blocks = section_blocks()
    assert [language for language, _ in blocks].count("python") >= 4
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               MINARI_DATASETS_PATH=str(tmp_path / "unused"))
    for language, code in blocks:
        run_block(language, code, tmp_path, env)
    pend = read_dataset(tmp_path / "pend.parquet")
    assert len(pend) == 10 and pend.episodes[0].actions.shape == (200, 1)
    assert read_dataset(tmp_path / "pend-noise.parquet").metadata.source == "random"
    assert read_dataset(tmp_path / "swing.parquet").metadata.env_id == "myenvs:MyPendulum-v0"
    assert len(read_dataset(tmp_path / "mine.parquet").episodes[0]) == 50
    assert read_dataset(tmp_path / "cartpole.parquet").num_transitions == 2
    from_minari = read_dataset(tmp_path / "pend-from-minari.parquet")
    assert from_minari.num_transitions == pend.num_transitions and from_minari.has_actions
    assert (tmp_path / "minari" / "lfo" / "pendulum-random-v0").is_dir()
    pixels = read_dataset(tmp_path / "pixels.parquet")
    assert len(pixels) == 20 and pixels.obs_shape == (40, 40, 3)
    result = (tmp_path / "runs" / "bco" / "result.json")
    assert result.exists() and (tmp_path / "runs" / "bco" / "demos.parquet").exists()
