"""Shared fixtures: one local Ray per test session (start-up costs seconds)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMOS = REPO / "lfo_ray" / "demos"


@pytest.fixture(scope="session")
def ray_session():
    """A real local Ray on loopback with 2 CPUs, shared by every test that needs one."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    from lfo_ray.runtime import ensure_ray

    ensure_ray(num_cpus=2)
    yield ray
    ray.shutdown()


def run_cli(*args: str, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Runs `lfo ARGS...` in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "lfo_ray.cli", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
    )


def env_without_shipped_expert() -> str:
    """A MuJoCo task with a shipped random return but no shipped expert (which ones ship changes)."""
    from lfo_ray.envs import MUJOCO
    from lfo_ray.envs.anchors import known_anchors

    return next(e for e in MUJOCO if set(known_anchors(e)) == {"random"})
