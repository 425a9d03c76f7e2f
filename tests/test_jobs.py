"""Ray Jobs: a real `ray start --head` on loopback, a submitted `lfo train` job, its result.json.

The head gets its own temp dir and free ports, so it never meets the session-wide embedded Ray of
the other tests, and it is stopped by signalling its own `ray start --block` process: `ray stop`
would stop every Ray on the machine, other people's included.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent
PORT_OPTIONS = ("port", "dashboard-port", "ray-client-server-port", "dashboard-agent-listen-port",
                "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port",
                "node-manager-port", "object-manager-port")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalHead:
    """`ray start --head --block` bound to 127.0.0.1 with its own temp dir and ports."""

    def __init__(self, num_cpus: int = 2) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="lfoj", dir="/tmp")  # short: socket paths <= 107 chars
        self.ports = {name: _free_port() for name in PORT_OPTIONS}
        self.dashboard = f"http://127.0.0.1:{self.ports['dashboard-port']}"
        # Loopback only (Ray binds to every interface otherwise); `lfo` on the jobs' PATH.
        self.env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token",
                    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        for key in ("RAY_ADDRESS", "RAY_API_SERVER_ADDRESS"):
            self.env.pop(key, None)
        self.log = Path(self.temp_dir) / "head.log"
        command = [str(BIN / "ray"), "start", "--head", "--block", f"--num-cpus={num_cpus}",
                   "--node-ip-address=127.0.0.1", "--dashboard-host=127.0.0.1",
                   "--disable-usage-stats", f"--temp-dir={self.temp_dir}"]
        command += [f"--{name}={port}" for name, port in self.ports.items()]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_ready(self, timeout: float = 180) -> None:
        """Until `ray start` reports the node started and the dashboard answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ray start exited {self.process.returncode}:\n{self.log.read_text()}")
            if "Ray runtime started" in self.log.read_text():
                try:
                    urllib.request.urlopen(f"{self.dashboard}/api/version", timeout=2)
                    return
                except urllib.error.HTTPError:
                    return  # 401: the dashboard is up and asks for the token
                except OSError:
                    pass
            time.sleep(0.5)
        raise TimeoutError(f"head not up after {timeout} s:\n{self.log.read_text()}")

    def submit(self, *args: str, attempts: int = 10) -> subprocess.CompletedProcess:
        """`ray job submit ARGS`, again while the node's agent has not registered yet."""
        for _ in range(attempts):
            result = self.ray("job", "submit", "--address", self.dashboard, *args)
            if "No available agent to submit job" not in result.stderr + result.stdout:
                return result
            time.sleep(3)
        return result

    def ray(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "ray"), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM to `ray start --block`: it drains the node and stops the processes it started."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # anything left of this head only
        except ProcessLookupError:
            pass
        self.process.wait()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


@pytest.mark.ray
def test_train_job_on_a_local_head(tmp_path):
    start = time.perf_counter()
    built = subprocess.run([sys.executable, str(REPO / "experiments" / "ray_job_env.py"),
                            "--out", str(tmp_path / "job_env")], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    runtime_env = Path(built.stdout.strip())
    head = LocalHead()
    try:
        head.wait_ready()
        out = tmp_path / "run"
        job_id = f"lfo-test-{uuid.uuid4().hex[:8]}"
        train = (f"lfo train bc --env lfo_ray/GridWorld-v0 --demos lfo_ray/demos/GridWorld-v0.parquet "
                 f"--seed 3 --out {out} --set train_steps=30 --eval-episodes 4 --quiet")
        # -P: no current directory on sys.path, so the import goes through PYTHONPATH as the
        # `lfo` script's does; it shows which lfo_ray the job ran.
        origin = "python -P -c 'import lfo_ray.envs, lfo_ray; print(\"lfo_ray from\", lfo_ray.__file__)'"
        submitted = head.submit("--submission-id", job_id, "--working-dir", str(REPO),
                                "--runtime-env", str(runtime_env), "--", "sh", "-c", f"{train} && {origin}")
        # `ray job submit` waits for the end; `ray job status` then prints JobStatus.SUCCEEDED so.
        status = head.ray("job", "status", "--address", head.dashboard, "--log-style", "record", job_id)
        assert f"Job '{job_id}' succeeded" in status.stdout + status.stderr, (
            submitted.stdout[-3000:] + submitted.stderr[-3000:] + (Path(head.temp_dir) / "head.log").read_text())
        result = json.loads((out / "result.json").read_text())
        assert result["algo"] == "bc" and result["env"] == "lfo_ray/GridWorld-v0" and result["seed"] == 3
        # bc runs in the job's process: result.json says so rather than echo a --placement.
        assert result["placement"] == "local" and result["config"]["train_steps"] == 30
        assert (out / "checkpoint").is_dir()
        logs = head.ray("job", "logs", "--address", head.dashboard, job_id).stdout
        assert "wrote " in logs and "py_modules_files" in logs.split("lfo_ray from", 1)[1], logs
    finally:
        head.stop()
    with pytest.raises(OSError):                        # the head is gone: its GCS port is closed
        socket.create_connection(("127.0.0.1", head.ports["port"]), timeout=2).close()
    print(f"\njob test: {time.perf_counter() - start:.1f} s")
