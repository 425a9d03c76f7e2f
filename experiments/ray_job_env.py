"""Builds the runtime_env that ships this checkout's lfo-ray to every process of a Ray job.

    python experiments/ray_job_env.py                       # -> build/ray_job/runtime_env.yaml
    ray job submit --address http://127.0.0.1:8265 --working-dir . \
        --runtime-env build/ray_job/runtime_env.yaml -- lfo train ...

The package is built as a wheel (no dependencies, no network), unpacked, and given to Ray as a
`py_modules` directory: Ray uploads it once and puts it first on PYTHONPATH in the job's driver
and in every actor and task on every node, ahead of the working directory (whose lfo_ray/ is
the source tree without algorithms/ and envs/, which install inside it) and of any lfo-ray
installed on the cluster. The cluster needs lfo-ray's dependencies (the docker/ images have
them); nothing is pip-installed at job start. A `pip` runtime_env would instead clone the
whole virtualenv of each node (Ray does so when it runs in one) and resolve dependencies
against an index.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build(out: Path) -> Path:
    """Writes OUT/lfo_ray (the installed package tree) and OUT/runtime_env.yaml; returns the latter."""
    out = out.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
             "--wheel-dir", tmp, str(REPO)],
            check=True,
        )
        (wheel,) = Path(tmp).glob("lfo_ray-*.whl")
        staging = out / "lfo_ray.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.namelist() if m.startswith("lfo_ray/")]
            archive.extractall(staging, members)
    shutil.rmtree(out / "lfo_ray", ignore_errors=True)
    (staging / "lfo_ray").rename(out / "lfo_ray")
    staging.rmdir()
    runtime_env = out / "runtime_env.yaml"
    runtime_env.write_text(
        "# Made by experiments/ray_job_env.py: this checkout's lfo-ray, first on every worker's\n"
        "# PYTHONPATH. Use with: ray job submit --runtime-env THIS_FILE --working-dir . -- lfo ...\n"
        f"py_modules:\n  - {json.dumps(str(out / 'lfo_ray'))}\n"
    )
    return runtime_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "ray_job")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(build(args.out))


if __name__ == "__main__":
    main()
